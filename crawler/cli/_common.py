"""What every command shares: the consoles, exit codes and turning known errors into messages."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console

#: Exit codes (documented in README).
OK, PROBLEM, USAGE = 0, 1, 2

console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def fail(message: str, code: int = PROBLEM) -> "typer.Exit":
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


@contextmanager
def friendly_errors() -> Iterator[None]:
    """Known error types become one-line messages and exit codes, never tracebacks."""
    from crawler.replay import RecordingError
    from spiders.pages.registry import UnknownPlatform
    from storage.db import SchemaOutOfDate
    from storage.candidates import DuplicateAccount

    try:
        yield
    except (UnknownPlatform, RecordingError, ValueError) as exc:
        raise fail(str(exc), USAGE) from None
    except (SchemaOutOfDate, DuplicateAccount) as exc:
        raise fail(str(exc), PROBLEM) from None
