"""``wangzi parse``: run a platform's pure parser on a saved response."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import typer

from crawler.cli._common import OK, PROBLEM, USAGE, fail


def parse(
    platform: str = typer.Argument(..., help="bilibili, weibo, xiaohongshu, douyin, taobao_live, youku, youtube, "
                                              "instagram, tiktok, x, google_news, gdelt or article."),
    file: Path = typer.Argument(..., help="The saved response body (JSON, HTML, XML), or - for stdin."),
    url: str = typer.Option(None, "--url", help="The URL it was fetched from (picks the endpoint parser)."),
    status: int = typer.Option(200, "--status", help="The HTTP status it came with."),
    alias: list[str] = typer.Option(None, "--alias", help="article only: a name to confirm (repeatable)."),
) -> None:
    """Print the parsed record as one JSON object; a failure prints {"error": KIND, ...} and exits 1.

    Nothing is fetched and nothing is stored: this is the parser the spiders use.
    """
    import sys

    from records import Failure
    from spiders.pages.registry import UnknownPlatform, platform_module

    try:
        module = platform_module(platform)
    except UnknownPlatform as exc:
        raise fail(str(exc), USAGE) from None
    try:
        payload = sys.stdin.buffer.read() if str(file) == "-" else file.read_bytes()
    except OSError as exc:
        raise fail(f"cannot read {file}: {exc.strerror or exc}", USAGE) from None

    kwargs = {}
    if alias:
        if "aliases" not in inspect.signature(module.parse).parameters:
            raise fail(f"--alias applies to article pages, not to {platform}", USAGE)
        kwargs["aliases"] = list(alias)

    def run(payload: bytes, url: str | None, status: int):  # type: ignore[no-untyped-def]
        return module.parse(payload, url, status, **kwargs)

    result = _safe(run, payload, url, status)
    typer.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    raise typer.Exit(PROBLEM if isinstance(result, Failure) else OK)


def _safe(run, payload: bytes, url: str | None, status: int):  # type: ignore[no-untyped-def]
    """Run the parser; exceptions become typed failures (as ``spiders.pages.parsing.safe_parse`` does)."""
    from records import Failure, FailureKind, ParseError

    try:
        result = run(payload, url, status)
    except ParseError as exc:
        return exc.failure
    except Exception as exc:  # noqa: BLE001 - a parser bug is reported as unrecognized input
        return Failure(FailureKind.UNRECOGNIZED, f"parser error: {type(exc).__name__}: {exc}"[:300], status)
    if not hasattr(result, "to_json"):
        return Failure(FailureKind.UNRECOGNIZED, f"parser returned {type(result).__name__}", status)
    return result


def register(app: typer.Typer) -> None:
    app.command("parse")(parse)
