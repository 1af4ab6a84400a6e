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

from records import AccountRef
from crawler.replay import Exchange, request_key, write_har
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
        if not meta.get("url") or "error" in expected or int(meta.get("status") or 200) >= 300:
            continue
        exchange = fixture_exchange(platform, case.name)
        # Fixtures that read a follower count first: they answer the accounts' requests.
        exchanges.append((expected.get("followers") is None, exchange))
    return [exchange for _, exchange in sorted(exchanges, key=lambda pair: pair[0])]


def platform_spider(platform: str):  # type: ignore[no-untyped-def]
    """An instance of the platform's spider (every platform has one: a missing one fails the test)."""
    from crawler.runner import spider_class

    try:
        cls = spider_class(platform)
    except KeyError:
        pytest.fail(f"no {platform} spider is registered")
    return cls()


def accounts_recording(path: Path, platform: str, refs: list[AccountRef]) -> Path:
    """A HAR answering every source of every account from the platform's fixtures."""
    fixtures = successful_fixtures(platform)
    if not fixtures:
        pytest.fail(f"no successful {platform} fixtures in tests/fixtures/{platform}")
    by_endpoint: dict[tuple[str, str, str], Exchange] = {}
    for exchange in fixtures:
        by_endpoint.setdefault(_endpoint(exchange.url), exchange)
    spider = platform_spider(platform)
    if hasattr(spider, "wbi_keys"):
        # Bilibili signs acc/info with keys it reads from nav while crawling; any keys give the
        # same recording (the signature parameters take no part in matching).
        spider.wbi_keys = ("0" * 32, "0" * 32)
    exchanges = list(fixtures)
    for ref in refs:
        for source in spider.sources(ref):
            answer = by_endpoint.get(_endpoint(source.url))
            if answer is None:
                continue  # no fixture for this endpoint: the spider records a typed failure
            exchanges.append(Exchange(url=source.url, method=source.method, status=answer.status, body=answer.body,
                                      headers=answer.headers))
    # Other fixtures answer requests nothing above answers (e.g. Bilibili's nav, asked once
    # for its WBI keys, whose anonymous answer parses as a failure).
    answered = {request_key(e.method, e.url) for e in exchanges}
    for exchange in all_fixtures(platform):
        if request_key(exchange.method, exchange.url) not in answered:
            answered.add(request_key(exchange.method, exchange.url))
            exchanges.append(exchange)
    return write_har(path, exchanges)


def all_fixtures(platform: str) -> list[Exchange]:
    folder = FIXTURES / platform
    found = []
    for case in sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []:
        if json.loads((case / "meta.json").read_text(encoding="utf-8")).get("url"):
            found.append(fixture_exchange(platform, case.name))
    return found


#: Platforms the operations tests can crawl from fixtures without a browser or credentials,
#: in order of preference (the brief's choice, Bilibili, first).
OPS_PLATFORMS = ("bilibili", "instagram")


def ops_platform() -> str:
    """The platform the operations tests crawl: Bilibili when its spider and fixtures exist."""
    from crawler.runner import spider_class

    for platform in OPS_PLATFORMS:
        try:
            spider_class(platform)
        except KeyError:
            continue
        if successful_fixtures(platform):
            return platform
    pytest.fail(f"none of {', '.join(OPS_PLATFORMS)} has a spider and successful fixtures")


def account_text(platform: str, number: int) -> str:
    """What a user would type for test account ``number``: an id where the platform takes
    ids (Bilibili), a username otherwise."""
    from spiders.pages.registry import normalize_account

    try:
        ref = normalize_account(platform, str(number))
    except ValueError:
        return f"creator{number}"
    return str(number) if ref.platform_user_id or ref.handle else f"creator{number}"


def account_ref(platform: str, number: int) -> AccountRef:
    from spiders.pages.registry import normalize_account

    return normalize_account(platform, account_text(platform, number))


def register_accounts(database_url: str, platform: str, count: int, first_id: int = 100000) -> list[AccountRef]:
    """``count`` candidates with one account each (numbers first_id, first_id+1, ...)."""
    from storage.db import session_scope
    from storage.candidates import add_candidate, account_refs

    with session_scope(database_url) as session:
        for n in range(count):
            add_candidate(session, f"creator {first_id + n}", accounts=[account_ref(platform, first_id + n)])
    with session_scope(database_url) as session:
        return account_refs(session, platform)
