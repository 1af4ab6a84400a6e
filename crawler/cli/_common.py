"""What every command shares: the consoles, exit codes, turning known errors into messages,
and the options several commands take (platforms, ``-s NAME=VALUE``, log levels)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console

from records import PLATFORMS
from spiders.pages.registry import UnknownPlatform

#: Exit codes (documented in README).
OK, PROBLEM, USAGE = 0, 1, 2

console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def fail(message: str, code: int = PROBLEM) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


@contextmanager
def friendly_errors() -> Iterator[None]:
    """Known error types become one-line messages and exit codes, never tracebacks."""
    # Imported here, not at the top: storage loads SQLAlchemy and the HAR module the HTTP
    # server, which would slow every `wangzi` command (`--help` included).
    from crawler.replay import RecordingError
    from storage.candidates import DuplicateAccount
    from storage.db import SchemaOutOfDate

    try:
        yield
    except (UnknownPlatform, RecordingError, ValueError) as exc:
        raise fail(str(exc), USAGE) from None
    except (SchemaOutOfDate, DuplicateAccount) as exc:
        raise fail(str(exc), PROBLEM) from None


def chosen_platforms(requested: list[str] | None) -> list[str]:
    """The platforms a ``--platform`` option names (every one when it names none), in order,
    once each; an unknown name raises :class:`UnknownPlatform`."""
    if not requested:
        return list(PLATFORMS)
    for name in requested:
        if name not in PLATFORMS:
            raise UnknownPlatform(f"unknown platform {name!r}; known: {', '.join(PLATFORMS)}")
    return list(dict.fromkeys(requested))


def setting_overrides(pairs: list[str] | None) -> dict[str, str]:
    """``-s NAME=VALUE`` options as settings."""
    overrides = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise fail(f"-s expects NAME=VALUE, got {pair!r}", USAGE)
        overrides[name.strip()] = value
    return overrides


def log_overrides(verbose: bool, show_progress: bool) -> dict[str, Any]:
    """``--verbose``: Scrapy's INFO log; else warnings only, and the live progress line."""
    return {"LOG_LEVEL": "INFO" if verbose else "WARNING", "WANGZI_PROGRESS": show_progress and not verbose}


def json_log_overrides(enabled: bool) -> dict[str, Any]:
    """``--log-json``: JSON log lines at INFO (what a log shipper wants) instead of text."""
    return {"WANGZI_LOG_JSON": True, "LOG_LEVEL": "INFO"} if enabled else {}
