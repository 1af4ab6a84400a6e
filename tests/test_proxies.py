"""Issue 17 item 1: the proxy pool, against real forward proxies (``mitmdump`` processes on
loopback, in their own environment: tests/forward_proxy.py) passing through to the loopback
replay server. A replayed crawl of 500 Bilibili accounts over 4 proxies, one of which starts
refusing halfway, stores every account once, quarantines the refusing proxy, holds each proxy
to its rate, and never shows a proxy's credentials; which proxy carried which request is read
from the proxies' own logs."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from crawler.distributed.proxy_pool import ProxyPool
from spiders.credentials import ProxyProblem, parse_proxies
from storage.db import session_scope
from storage.identities import identity_states
from tests.helpers import run_wangzi

SECRET = "proxy-secret-0123456789"


@pytest.fixture(scope="module")
def mitmdump() -> str:
    from tests.forward_proxy import ProxyUnavailable, mitmdump_binary

    try:
        return mitmdump_binary()
    except (ProxyUnavailable, OSError, Exception) as exc:  # noqa: BLE001 - say why and skip
        pytest.skip(f"mitmproxy unavailable: {exc}")


@pytest.fixture
def proxies(mitmdump: str) -> Iterator[list[Any]]:
    from tests.forward_proxy import ForwardProxy

    started = [
        ForwardProxy(mitmdump, "tokyo-1").start(),
        ForwardProxy(mitmdump, "tokyo-2", user=f"wangzi:{SECRET}").start(),  # mitmdump asks for these credentials
        ForwardProxy(mitmdump, "seoul-1", ban_after=60, ban="403").start(),  # banned halfway through its share
        ForwardProxy(mitmdump, "seoul-2").start(),
    ]
    yield started
    for proxy in started:
        proxy.stop()


# --------------------------------------------------------------------------- configuration and pool


def test_proxies_are_read_with_labels_and_their_credentials_stay_out_of_names() -> None:
    found = parse_proxies(f"http://user:{SECRET}@10.0.0.1:8080 name=tokyo-1 region=jp\n# a comment\nhttp://10.0.0.2:3128")
    assert [(p.name, p.labels, p.address) for p in found] == [
        ("tokyo-1", {"region": "jp"}, "http://10.0.0.1:8080"), ("10.0.0.2:3128", {}, "http://10.0.0.2:3128")]
    assert SECRET not in repr(found)
    for bad, message in (("socks5://h:1", "not an http"), ("http://h", "no port"), ("http://h:1 region", "not a label")):
        with pytest.raises(ProxyProblem, match=message):
            parse_proxies(bad)


def test_quarantine_cools_down_exponentially_per_platform() -> None:
    now = [0.0]
    pool = ProxyPool(parse_proxies("http://a:1 name=a, http://b:1 name=b"), threshold=2, cooldown=10, max_cooldown=25,
                     clock=lambda: now[0])
    assert [pool.choose("bilibili").name for _ in range(4)] == ["a", "b", "a", "b"]  # type: ignore[union-attr]
    assert not pool.refused("a", "bilibili", "blocked") and pool.refused("a", "bilibili", "blocked")
    assert pool.choose("bilibili").name == "b" and pool.choose("weibo", avoid={"b"}).name == "a"  # type: ignore[union-attr]
    now[0] = 10.5
    assert pool.usable("a", "bilibili")
    pool.refused("a", "bilibili", "captcha"), pool.refused("a", "bilibili", "captcha")
    assert pool.state("a", "bilibili").until == 10.5 + 20  # second quarantine: twice as long
    pool.answered("b", "bilibili")
    pool.refused("b", "bilibili", "rate_limited"), pool.refused("b", "bilibili", "rate_limited")
    assert pool.choose("bilibili") is None and pool.next_release("bilibili") == 20.5


# --------------------------------------------------------------------------- through real proxies


def _card_mid(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.path.endswith("/x/web-interface/card"):
        return None
    return parse_qs(parts.query).get("mid", [None])[0]


def _busiest_second(times: list[float]) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


@pytest.mark.slow
def test_500_accounts_over_4_proxies_one_banning_halfway_are_all_stored_once(
    proxies: list[Any], sqlite_url: str, tmp_path: Path
) -> None:
    from tests.ops_recording import accounts_recording, register_accounts

    refs = register_accounts(sqlite_url, "bilibili", 500)
    har = accounts_recording(tmp_path / "accounts.har", "bilibili", refs)
    rate = 12.0
    config = ", ".join(f"{p.url} name={p.name} region={p.name.split('-')[0]}" for p in proxies)
    crawl = run_wangzi("crawl", "-p", "bilibili", "--no-press", "--replay", str(har),
                       "-s", f'WANGZI_PROXY_RATES={{"bilibili": {rate}}}', database_url=sqlite_url,
                       env={"WANGZI_PROXIES": config}, timeout=300)
    assert crawl.returncode == 0, crawl.stderr[-3000:]
    assert SECRET not in crawl.stdout + crawl.stderr

    # Every account stored, once.
    from tests.test_distributed import _snapshot_counts

    counts = _snapshot_counts(sqlite_url)
    assert set(counts) == {r.account_id for r in refs}, f"{500 - len(counts)} accounts lost"
    assert set(counts.values()) == {1}, "an account was stored twice"

    # The proxies' own logs: which proxy carried which card, and with what answer.
    carried = {p.name: p.carried() for p in proxies}
    answered = [(name, _card_mid(r["url"])) for name, rows in carried.items() for r in rows if r["status"] == 200]
    mids = Counter(mid for _, mid in answered if mid)
    assert set(mids) == {r.platform_user_id for r in refs} and set(mids.values()) == {1}
    per_proxy = Counter(name for name, mid in answered if mid)
    assert all(per_proxy[p.name] > 20 for p in proxies), per_proxy  # all four carried cards...
    banned = carried["seoul-1"]
    refused = [r for r in banned if r["status"] == 403]
    first_refusal = banned.index(refused[0])
    assert all(r["status"] == 403 for r in banned[first_refusal:])  # ...the banned one answered nothing after its ban
    assert 3 <= len(refused) <= 20, len(refused)  # quarantined after a few refusals, its accounts rerouted
    assert per_proxy["seoul-1"] == 60 - sum(1 for r in banned[:first_refusal] if not _card_mid(r["url"]))

    # Each proxy held to its rate (from the proxies' own clocks): +1 for the full bucket at the start.
    for name, rows in carried.items():
        times = [r["time"] for r in rows]
        assert _busiest_second(times) <= rate + 1, (name, _busiest_second(times))
        if len(times) > 20:
            assert len(times) / (max(times) - min(times) + 1 / rate) <= rate * 1.05, name

    # The quarantine is recorded and listed; no credential is stored or printed.
    with session_scope(sqlite_url) as session:
        states = {(s.name, s.platform): s for s in identity_states(session, "proxy")}
    assert states[("seoul-1", "bilibili")].status == "quarantined"
    assert states[("seoul-1", "bilibili")].last_failure == "http 403"
    assert {name for name, _ in states} == {p.name for p in proxies}
    assert all(s.status == "ok" for (name, _), s in states.items() if name != "seoul-1")
    listed = run_wangzi("proxies", "list", "--json", database_url=sqlite_url, env={"WANGZI_PROXIES": config})
    assert listed.returncode == 0 and SECRET not in listed.stdout
    rows = {(r["name"], r["platform"]): r for r in json.loads(listed.stdout)}
    assert rows[("seoul-1", "bilibili")]["status"] == "quarantined" and rows[("tokyo-2", "bilibili")]["rate"] == rate
    checked = run_wangzi("proxies", "check", "--url", "http://127.0.0.1:9/", "--timeout", "5", database_url=sqlite_url,
                         env={"WANGZI_PROXIES": config})
    assert SECRET not in checked.stdout + checked.stderr
    assert "tokyo-2" in checked.stdout


@pytest.mark.slow
def test_a_proxy_that_resets_connections_is_quarantined_and_the_others_finish(
    mitmdump: str, sqlite_url: str, tmp_path: Path
) -> None:
    from tests.forward_proxy import ForwardProxy
    from tests.ops_recording import accounts_recording, register_accounts

    started = [ForwardProxy(mitmdump, "good").start(), ForwardProxy(mitmdump, "resetting", ban_after=5, ban="reset").start()]
    try:
        refs = register_accounts(sqlite_url, "bilibili", 40)
        har = accounts_recording(tmp_path / "accounts.har", "bilibili", refs)
        config = ", ".join(f"{p.url} name={p.name}" for p in started)
        crawl = run_wangzi("crawl", "-p", "bilibili", "--no-press", "--replay", str(har), "-s",
                           'WANGZI_PROXY_RATES={"bilibili": 40}', database_url=sqlite_url, env={"WANGZI_PROXIES": config})
        assert crawl.returncode == 0, crawl.stderr[-3000:]
        from tests.test_distributed import _snapshot_counts

        assert set(_snapshot_counts(sqlite_url).values()) == {1} and len(_snapshot_counts(sqlite_url)) == 40
        with session_scope(sqlite_url) as session:
            states = {s.name: s for s in identity_states(session, "proxy")}
        assert states["resetting"].status == "quarantined"
        assert defaultdict(int, Counter(r["status"] for r in started[1].carried()))["reset"] >= 3
    finally:
        for proxy in started:
            proxy.stop()


@pytest.mark.redis
def test_a_quarantine_is_shared_by_every_worker_through_redis(redis_url: str) -> None:
    import redis

    proxies = parse_proxies("http://a:1 name=a, http://b:1 name=b")
    client = redis.Redis.from_url(redis_url)
    one = ProxyPool(proxies, threshold=1, cooldown=60, max_cooldown=600, redis=client)
    other = ProxyPool(proxies, threshold=1, cooldown=60, max_cooldown=600, redis=client)
    assert other.usable("a", "bilibili")
    assert one.refused("a", "bilibili", "blocked")
    other._synced.clear()  # the other worker looks again (it does so at most once a second)
    assert not other.usable("a", "bilibili") and other.usable("a", "weibo")
    assert other.choose("bilibili").name == "b"  # type: ignore[union-attr]
