"""``wangzi fixtures add ID --case NAME``: a drift capture becomes a parser test (issue 16 item 5).

As scrapy-poet's ``scrapy savefixture`` turns a live page into a test, this writes
``tests/fixtures/<platform>/<case>/`` - the folder ``tests/test_fixtures.py`` walks - from an
answer a crawl kept because its parser did not recognise it (``wangzi drift list``):

* ``response.<json|html|xml|txt>``: the payload byte for byte as kept (secrets redacted);
* ``meta.json``: ``url``, ``status``, ``provenance`` (the capture, its run, time, parser and
  version, shape) and ``"synthetic": false``;
* ``expected.json``: what today's parser makes of it (``wangzi parse``'s output), for a person
  to correct. For an answer still ``unrecognized`` that is ``{"error": "unrecognized"}``: the
  test then pins the *failure* and passes only while the parser still cannot read it - write
  the profile a person checked into it when the parser is fixed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import typer

from crawler.cli._common import DATABASE_OPTION, OK, PROBLEM, USAGE, console, err, fail, friendly_errors, line

fixtures_app = typer.Typer(help="Parser test fixtures from kept answers.", no_args_is_help=True)
#: A case folder's name.
CASE_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,79}$")


def response_suffix(payload: bytes, content_type: str | None) -> str:
    """The fixture file's extension: what the payload is, else what its Content-Type says."""
    head = payload.lstrip(b"\xef\xbb\xbf \t\r\n")[:200].lower()
    if head[:1] in (b"{", b"["):
        return "json"
    if head.startswith(b"<?xml") or head.startswith(b"<rss") or head.startswith(b"<feed"):
        return "xml"
    if head[:1] == b"<":
        return "html"
    kind = (content_type or "").lower()
    return "json" if "json" in kind else "html" if "html" in kind else "xml" if "xml" in kind else "txt"


def expected_output(platform: str, payload: bytes, url: str, status: int | None) -> tuple[dict[str, Any], bool]:
    """(expected.json's content, whether it is a failure): today's parser on the payload, as
    ``wangzi parse`` prints it; a failure pins its kind only (its detail is free to change)."""
    from crawler.cli.parse import PRINTED
    from records import Failure
    from spiders.pages.parsing import safe_parse
    from spiders.pages.registry import parser_for

    result = safe_parse(parser_for(platform), payload, url, status if status is not None else 200, expected=PRINTED)
    if isinstance(result, Failure):
        return {"error": result.kind.value}, True
    return result.to_json(), False


@fixtures_app.command("add")
def fixtures_add(
    capture_id: int = typer.Argument(..., metavar="ID", help="A drift capture id (wangzi drift list)."),
    case: str = typer.Option(..., "--case", help="The case folder's name (lower case, digits, _ . -)."),
    fixtures_dir: Path = typer.Option(Path("tests/fixtures"), "--fixtures-dir", help="Where the platform folders are."),
    force: bool = typer.Option(False, "--force", help="Replace an existing case folder."),
    database_url: str = DATABASE_OPTION,
) -> None:
    """Write tests/fixtures/<platform>/<case>/ (response, meta.json, expected.json) from a kept
    unrecognised answer."""
    from crawler.cli.drift import load_capture

    if not CASE_NAME.match(case):
        raise fail(f"--case {case!r}: use lower-case letters, digits, _ . - (at most 80 characters)", USAGE)
    with friendly_errors():
        capture = load_capture(database_url, capture_id)
        if capture.truncated:
            raise fail(f"drift capture {capture_id} kept only the first {len(capture.payload):,} of {capture.size:,} bytes "
                       "(WANGZI_DRIFT_MAX_BYTES): a fixture must be the whole answer", PROBLEM)
        folder = fixtures_dir / capture.platform / case
        if folder.exists() and not force:
            raise fail(f"{folder} exists; choose another --case or give --force", USAGE)
        expected, failed = expected_output(capture.platform, capture.payload, capture.url, capture.http_status)
        suffix = response_suffix(capture.payload, capture.content_type)
        meta = {
            "url": capture.url,
            "status": capture.http_status if capture.http_status is not None else 200,
            "provenance": (f"drift capture {capture.id} (wangzi fixtures add): {capture.platform} answer to {capture.parser} "
                           f"v{capture.parser_version}, run {capture.crawl_run_id}, captured {capture.captured_at.isoformat()}, "
                           f"shape {capture.shape}, sha256 {capture.payload_sha256}; verdict then: unrecognized ({capture.detail})"),
            "synthetic": False,
        }
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("response.*"):
            old.unlink()
        (folder / f"response.{suffix}").write_bytes(capture.payload)
        (folder / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        (folder / "expected.json").write_text(json.dumps(expected, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    console.print(line(f"wrote {folder}/ (response.{suffix}, meta.json, expected.json)"))
    if failed:
        err.print(line(("note:", "bold yellow"), f" today's parser still answers {expected['error']}, so expected.json pins "
                       "that failure: the test passes only while the parser cannot read this answer. When the parser "
                       "is fixed, write the profile a person checked into expected.json (every profile key)."))
    else:
        err.print(line(("note:", "bold yellow"), " expected.json is what today's parser reads: check every value "
                       "against the response before committing it."))
    raise typer.Exit(OK)


def register(app: typer.Typer) -> None:
    app.add_typer(fixtures_app, name="fixtures")
