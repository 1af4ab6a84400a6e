"""What every command shares: the consoles, exit codes, turning known errors into messages,
and the options several commands take (platforms, ``-s NAME=VALUE``, log levels).

**The printing rule.** A value from users or platforms (a name, an alias, a nickname, a
failure's detail, a URL, a file name) is printed as text, never read as rich markup: a ``[/]``
in it would crash the command (``MarkupError``) and a ``[link=...]`` would become a hidden
terminal hyperlink. So such values reach the consoles only inside :class:`rich.text.Text`:
messages are built with :func:`line` (plain strings and ``(text, style)`` pairs), tables with
:class:`PlainTable` (its string cells and title are text), errors with :func:`fail`. Markup
is written only in literal strings of the code, never formatted with a value."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from records import PLATFORMS
from spiders.pages.registry import UnknownPlatform

#: Exit codes (documented in README).
OK, PROBLEM, USAGE = 0, 1, 2

console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def line(*parts: str | tuple[str, str] | Text) -> Text:
    """One line of output from plain strings (printed as they are, brackets included) and
    ``(text, style)`` pairs, e.g. ``line(("error:", "bold red"), " no candidate ", repr(name))``."""
    return Text.assemble(*parts)


class PlainTable(Table):
    """A rich table whose string cells and title are text, never markup (the printing rule);
    a cell that needs a style is given as a :class:`~rich.text.Text`."""

    def __init__(self, *headers: Any, title: str | Text | None = None, **options: Any) -> None:
        if isinstance(title, str):  # a Text keeps every character (escape() drops a "\" before "[")
            title = Text(title, style=options.get("title_style") or "table.title")
        super().__init__(*headers, title=title, **options)

    def add_row(self, *cells: Any, **options: Any) -> None:
        super().add_row(*(Text(cell) if isinstance(cell, str) else cell for cell in cells), **options)


def fail(message: str, code: int = PROBLEM) -> typer.Exit:
    """Print ``error: MESSAGE`` (the message as text: it often quotes the input) and return
    the exit to raise."""
    err.print(line(("error:", "bold red"), " ", message))
    return typer.Exit(code)


#: ``--database-url`` as every command that reads or writes the database takes it.
DATABASE_OPTION = typer.Option(None, "--database-url", envvar="DATABASE_URL", help="Database (default sqlite:///wangzi.db).")

#: OS errors about a path a person gave (a directory where a file goes, no permission, no such
#: file): bad input, exit 2. Any other (a full disk, an I/O error) is a problem met while
#: running: exit 1.
PATH_ERRORS = (IsADirectoryError, NotADirectoryError, PermissionError, FileNotFoundError, FileExistsError)


def os_error(exc: OSError) -> typer.Exit:
    """``error: PATH: WHAT`` for an OS error (writing ``--out /etc``, a full disk ...)."""
    where = f"{exc.filename}: " if exc.filename else ""
    return fail(f"{where}{exc.strerror or exc}", USAGE if isinstance(exc, PATH_ERRORS) else PROBLEM)


@contextmanager
def friendly_errors() -> Iterator[None]:
    """Known error types become one-line messages and exit codes, never tracebacks."""
    # Imported here, not at the top: storage loads SQLAlchemy and the HAR module the HTTP
    # server, which would slow every `wangzi` command (`--help` included).
    from crawler.replay import RecordingError
    from storage.candidates import CandidateRefused, DuplicateAccount
    from storage.db import SchemaOutOfDate

    try:
        yield
    except (UnknownPlatform, RecordingError, ValueError) as exc:
        raise fail(str(exc), USAGE) from None
    except (SchemaOutOfDate, DuplicateAccount, CandidateRefused) as exc:
        raise fail(str(exc), PROBLEM) from None
    except OSError as exc:
        raise os_error(exc) from None


def shown_detail(detail: str | None, url: str | None) -> str:
    """A failure's detail as a line prints it next to its URL: the URL not said twice (a replay
    miss's message names it too)."""
    detail = detail or ""
    return " ".join(detail.replace(url, "").split()) if url else detail


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
