"""Recordings for the operations tests: many accounts of one platform answered from that
platform's fixtures.

The platform spider itself says which URLs it requests for an account (``sources``); each
is answered with the fixture payload recorded for the same endpoint (scheme, host, path).
Every successful fixture is also recorded at its own URL, which covers requests a spider
makes before its account chains (e.g. Bilibili's WBI key lookup).
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from crawler.items import AccountRef
from crawler.replay import Exchange, write_har
from tests.helpers import FIXTURES, fixture_exchange


def _endpoint(url: str) -> tuple[str, str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc.lower(), parts.path.rstrip("/")


def successful_fixtures(platform: str) -> list[Exchange]:
    """The platform's fixture exchanges whose expected result is not a failure."""
    folder = FIXTURES / platform
    exchanges = []
    for case in sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []:
        expected = json.loads((case / "expected.json").read_text(encoding="utf-8")) if (case / "expected.json").exists() else {}
        meta = json.loads((case / "meta.json").read_text(encoding="utf-8"))
        if "error" in expected or int(meta.get("status", 200)) >= 300:
            continue
        exchanges.append(fixture_exchange(platform, case.name))
    return exchanges


def platform_spider(platform: str):  # type: ignore[no-untyped-def]
    """An instance of the platform's spider (skips the test when it is not written yet)."""
    from crawler.runner import spider_class

    try:
        cls = spider_class(platform)
    except KeyError:
        pytest.skip(f"the {platform} spider is not implemented yet")
    return cls()


def accounts_recording(path: Path, platform: str, refs: list[AccountRef]) -> Path:
    """A HAR answering every source of every account from the platform's fixtures."""
    fixtures = successful_fixtures(platform)
    if not fixtures:
        pytest.skip(f"no successful {platform} fixtures in tests/fixtures/{platform}")
    by_endpoint: dict[tuple[str, str, str], Exchange] = {}
    for exchange in fixtures:
        by_endpoint.setdefault(_endpoint(exchange.url), exchange)
    spider = platform_spider(platform)
    exchanges = list(fixtures)
    for ref in refs:
        for source in spider.sources(ref):
            answer = by_endpoint.get(_endpoint(source.url))
            if answer is None:
                continue  # no fixture for this endpoint: the spider records a typed failure
            exchanges.append(Exchange(url=source.url, method=source.method, status=answer.status, body=answer.body,
                                      headers=answer.headers))
    return write_har(path, exchanges)


def register_accounts(database_url: str, platform: str, count: int, first_id: int = 100000) -> list[AccountRef]:
    """``count`` candidates with one account each (ids first_id, first_id+1, ...)."""
    from storage.db import session_scope
    from storage.queries import add_candidate, account_refs

    with session_scope(database_url) as session:
        for n in range(count):
            add_candidate(session, f"creator {first_id + n}",
                          accounts=[AccountRef(platform=platform, platform_user_id=str(first_id + n))])
    with session_scope(database_url) as session:
        return account_refs(session, platform)
