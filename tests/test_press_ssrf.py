"""SSRF through press feeds (issue 14 item 1): a feed that lists loopback, private, link-local,
metadata, ``file:`` or credential-carrying URLs never makes the crawler request them.

Article URLs must be http(s) to public hosts: the press spider checks every URL a feed lists
before any request (``spiders.pages.public_url``), and every request of every spider - robots.txt
and each redirect hop included - is checked again on the network side: the downloader
middleware ``crawler.middlewares.public_hosts`` resolves the host first, and the DNS resolver
``crawler.dns`` never hands a connection a non-public address. A refused URL is a typed
``refused`` failure of the run, never a mention.

Two kinds of crawl: a replay of a recorded GDELT answer (the recording even holds answers for
the hostile URLs, as a recording made before the fix would), and a live crawl whose feed and
public article host are canned while a real HTTP server on loopback stands in for the
crawler's own services: it must see no request at all.
"""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import select

from spiders.pages import gdelt, google_news
from storage.db import session_scope
from storage.models import FetchFailure, PressMention
from tests.helpers import Exchange, run_wangzi, write_har
from tests.ssrf_network import InternalServer, article_page, write_canned

NAME = "Li Jiaqi"
HTML = {"Content-Type": "text/html; charset=utf-8"}
TEXT = {"Content-Type": "text/plain"}
JSON = {"Content-Type": "application/json"}
ALLOW = b"User-agent: *\nAllow: /\n"
GOOD_URL = "https://www.scmp.com/news/china/article/3000001/lipstick-king-li-jiaqi-returns"
REDIRECTING_URL = "https://www.scmp.com/news/china/article/3000002/li-jiaqi-moved"
METADATA_URL = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"
TODAY = "2026-11-25"


def gdelt_answer(urls: list[str]) -> bytes:
    return json.dumps({"articles": [
        {"url": url, "url_mobile": "", "title": "Li Jiaqi headline", "seendate": "20261102T081500Z", "socialimage": "",
         "domain": "scmp.com", "language": "English", "sourcecountry": "Hong Kong"} for url in urls]}).encode()


def replayed_hostile_urls(port: int) -> list[str]:
    """Every form a loopback, private or local URL takes in a feed (as GDELT's cleaned URL)."""
    return [
        "http://127.0.0.1:6379/",  # Redis
        f"http://127.0.0.1:{port}/",  # the internal server of the test
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata (link-local)
        "http://[fd00:ec2::254]/latest/meta-data/",  # IPv6 metadata (unique local)
        "http://10.0.0.1/admin",
        "http://192.168.1.1/",
        "http://172.16.0.1/",
        "http://100.64.0.1/",  # shared address space (carrier-grade NAT)
        "http://0.0.0.0:8080/",
        "http://224.0.0.1/",  # multicast
        "http://240.0.0.1/",  # reserved
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/",
        "http://2130706433/",  # 127.0.0.1 as one decimal number
        "http://0x7f.1/",
        "http://0x7f000001/",
        "http://017700000001/",  # octal
        "http://0177.0.0.1/",
        "http://127.1/",
        "http://localhost/",
        "http://localhost./",
        "http://api.localhost/",
        "http://localhost.localdomain/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://metadata/computeMetadata/v1/",  # a single label, resolved by the local search domain
        "http://reporter:s3cret@www.scmp.com/news/china/article/3000003/x",  # credentials
        "file:///etc/passwd",
        "ftp://127.0.0.1/",
        "gopher://127.0.0.1:6379/_INFO",
    ]


def press_rows(database_url: str) -> tuple[list[PressMention], list[FetchFailure]]:
    with session_scope(database_url) as session:
        mentions = list(session.exec(select(PressMention)).all())
        failures = list(session.exec(select(FetchFailure)).all())
        for row in (*mentions, *failures):
            session.expunge(row)
    return mentions, failures


def add_candidate(database_url: str) -> None:
    added = run_wangzi("candidates", "add", NAME, database_url=database_url)
    assert added.returncode == 0, added.stderr


# --------------------------------------------------------------------------- replay


def google_token_url(opaque: bytes) -> str:
    token = base64.urlsafe_b64encode(bytes([0x08, 0x13, 0x22, len(opaque)]) + opaque).decode().rstrip("=")
    return f"https://news.google.com/rss/articles/{token}?oc=5"


GOOGLE_LINK = google_token_url(b"AU_yqLOpaqueIdThatOnlyGoogleResolves0123456789")


def google_feed_url() -> str:
    window = google_news.search_window(None, date.fromisoformat(TODAY), 365)
    return google_news.search_url(window.query(f'"{NAME}"'), "en-US")


def google_feed() -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>"Li Jiaqi" - Google News</title>
<language>en-US</language><item><title>Li Jiaqi returns - South China Morning Post</title>
<link>{GOOGLE_LINK}</link><pubDate>Mon, 02 Nov 2026 08:15:00 GMT</pubDate>
<source url="https://www.scmp.com">South China Morning Post</source></item></channel></rss>""".encode()


def hostile_recording(tmp_path: Path, hostile: list[str]) -> Path:
    """A GDELT answer listing the hostile URLs, a good article and one that redirects to the
    metadata service; the recording answers every one of them (robots.txt too) with a page
    naming the candidate, as a recording made before the fix would; Google's link redirects
    to the internal Redis."""
    exchanges = [
        Exchange(url=gdelt.search_url(f'"{NAME}"'), body=gdelt_answer([*hostile, GOOD_URL, REDIRECTING_URL]), headers=JSON),
        Exchange(url="https://www.scmp.com/robots.txt", body=ALLOW, headers=TEXT),
        Exchange(url=GOOD_URL, body=article_page(), headers=HTML),
        Exchange(url=REDIRECTING_URL, status=302, headers={"Location": METADATA_URL}),
        Exchange(url=METADATA_URL, body=b'{"AccessKeyId": "ASIA-LEAKED", "SecretAccessKey": "leaked"}', headers=JSON),
        Exchange(url=google_feed_url(), body=google_feed(), headers={"Content-Type": "application/rss+xml"}),
        Exchange(url=GOOGLE_LINK, status=302, headers={"Location": "http://127.0.0.1:6379/"}),
    ]
    for url in hostile:
        if url.startswith("http"):
            exchanges.append(Exchange(url=url, body=article_page("internal secret: requirepass hunter2"), headers=HTML))
            root = url.split("/", 3)
            exchanges.append(Exchange(url="/".join(root[:3]) + "/robots.txt", body=ALLOW, headers=TEXT))
    return write_har(tmp_path / "hostile.har", exchanges)


def test_a_replayed_feed_listing_hostile_urls_stores_refused_failures_and_no_mention(tmp_path: Path, sqlite_url: str) -> None:
    add_candidate(sqlite_url)
    with InternalServer() as internal:
        hostile = replayed_hostile_urls(internal.port)
        har = hostile_recording(tmp_path, hostile)
        env = {"WANGZI_GOOGLE_NEWS_ENABLED": "true", "WANGZI_NEWS_EDITIONS": "en-US", "WANGZI_PRESS_TODAY": TODAY}
        done = run_wangzi("press", NAME, "--replay", str(har), "--all", database_url=sqlite_url, env=env)
        hits = internal.hits
    assert hits == []
    mentions, failures = press_rows(sqlite_url)
    # The good article is still read and confirmed; nothing else became a mention.
    assert [(m.canonical_url, m.status) for m in mentions] == [(GOOD_URL, "confirmed")], [m.url for m in mentions]
    refused = {f.url: f for f in failures if f.kind == "refused"}
    assert set(refused) == {*hostile, REDIRECTING_URL, GOOGLE_LINK}, sorted(set(refused) ^ {*hostile, REDIRECTING_URL, GOOGLE_LINK})
    assert all(f.candidate_id is not None and f.account_id is None for f in refused.values())
    assert refused[GOOGLE_LINK].platform == "google_news" and refused["file:///etc/passwd"].platform == "gdelt"
    assert METADATA_URL in refused[REDIRECTING_URL].detail and "127.0.0.1:6379" in refused[GOOGLE_LINK].detail
    assert {f.kind for f in failures} == {"refused"}
    # What the command says: each refused URL on a line of its own, named as refused (not as a failed search); exit 1.
    assert done.returncode == 1, done.stderr
    for url in ("http://127.0.0.1:6379/", "http://2130706433/", "file:///etc/passwd"):
        assert f"refused: {url} (listed by gdelt, not fetched)" in done.stderr
    text = done.stdout + done.stderr + repr([(f.detail, f.url) for f in failures])
    for leaked in ("hunter2", "ASIA-LEAKED", "root:x:0:0"):
        assert leaked not in text


# --------------------------------------------------------------------------- live


PUBLIC_HOST = "news.wangzi-ssrf.test"
LIVE_GOOD = f"https://{PUBLIC_HOST}/li-jiaqi-returns"
LIVE_REDIRECTING = f"https://{PUBLIC_HOST}/li-jiaqi-moved"
REBIND_HOST = "rebind.wangzi-ssrf.test"  # a public-looking name that resolves to 127.0.0.1


def live_hostile_urls(port: int) -> list[str]:
    """URLs whose every request would reach the internal server (or the local disk)."""
    return [
        f"http://127.0.0.1:{port}/",
        f"http://localhost:{port}/admin",
        f"http://2130706433:{port}/",
        f"http://0x7f.1:{port}/",
        f"http://0177.0.0.1:{port}/",
        f"http://127.1:{port}/",
        f"http://[::ffff:127.0.0.1]:{port}/",
        f"http://[::1]:{port}/",
        f"http://localhost.localdomain:{port}/",
        f"http://reporter:s3cret@127.0.0.1:{port}/",
        f"gopher://127.0.0.1:{port}/_INFO",
        "file:///etc/passwd",
        f"http://{REBIND_HOST}:{port}/li-jiaqi",  # only DNS tells
    ]


def live_press(tmp_path: Path, database_url: str, internal: InternalServer, *, guard: bool = True):  # type: ignore[no-untyped-def]
    hostile = live_hostile_urls(internal.port)
    canned = write_canned(tmp_path / "canned.json", {
        gdelt.search_url(f'"{NAME}"'): (200, JSON, gdelt_answer([*hostile, LIVE_GOOD, LIVE_REDIRECTING])),
        f"https://{PUBLIC_HOST}/robots.txt": (200, TEXT, ALLOW),
        LIVE_GOOD: (200, HTML, article_page()),
        LIVE_REDIRECTING: (302, {"Location": f"http://127.0.0.1:{internal.port}/latest/meta-data/"}, b""),
    })
    public = "93.184.215.14"
    env = {"SCRAPY_SETTINGS_MODULE": "tests.ssrf_settings", "WANGZI_TEST_CANNED": str(canned),
           "WANGZI_TEST_HOSTS": json.dumps({"api.gdeltproject.org": public, PUBLIC_HOST: public, REBIND_HOST: "127.0.0.1"}),
           "WANGZI_BACKOFF_BASE": "0.05", "WANGZI_BACKOFF_MAX": "0.2"}
    if not guard:
        env["WANGZI_TEST_WITHOUT_GUARD"] = "1"
    done = run_wangzi("press", NAME, "--all", database_url=database_url, env=env, cwd=tmp_path)
    return done, hostile


def test_a_live_feed_listing_loopback_urls_never_reaches_the_machines_own_services(tmp_path: Path, sqlite_url: str) -> None:
    add_candidate(sqlite_url)
    with InternalServer() as internal:
        done, hostile = live_press(tmp_path, sqlite_url, internal)
        hits = internal.hits
    assert hits == [], f"the internal server was asked {hits}\n{done.stderr[-3000:]}"
    mentions, failures = press_rows(sqlite_url)
    assert [(m.canonical_url, m.status) for m in mentions] == [(LIVE_GOOD, "confirmed")], done.stderr[-3000:]
    refused = {f.url: f for f in failures if f.kind == "refused"}
    assert set(refused) == {*hostile, LIVE_REDIRECTING}, done.stderr[-3000:]
    assert "127.0.0.1" in refused[hostile[-1]].detail  # refused after resolution, saying where the name points
    assert f"127.0.0.1:{internal.port}/latest/meta-data/" in refused[LIVE_REDIRECTING].detail  # the redirect hop
    assert "root:x:0:0" not in done.stdout + done.stderr
    assert done.returncode == 1, done.stderr[-3000:]


def test_without_the_middleware_the_resolver_alone_keeps_the_internal_server_unreached(tmp_path: Path, sqlite_url: str) -> None:
    """The redirect hop and the name that resolves to loopback pass the page-level check; with the
    downloader middleware removed, the DNS resolver still refuses their address at connect time."""
    add_candidate(sqlite_url)
    with InternalServer() as internal:
        done, _ = live_press(tmp_path, sqlite_url, internal, guard=False)
        hits = internal.hits
    assert hits == [], f"the internal server was asked {hits}\n{done.stderr[-3000:]}"
    mentions, _ = press_rows(sqlite_url)
    assert [m.canonical_url for m in mentions if m.status == "confirmed"] == [LIVE_GOOD]


# --------------------------------------------------------------------------- units


REFUSED = [url for url in replayed_hostile_urls(8080)] + [
    "HTTP://LOCALHOST:80/",
    "http://ｌｏｃａｌｈｏｓｔ/",  # full-width letters: NFKC makes them "localhost"
    "http://１２７。０。０。１/",  # full-width digits and ideographic full stops
    "http://[fe80::1%25eth0]/",
    "http://[2002:7f00:1::]/",  # 6to4 around 127.0.0.1
    "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 around 169.254.169.254
    "http://[::]/",
    "http://0/",
    "http://4294967296/",  # no address at all
    "http://127.0.0.1.nip.io.localhost/",
    "http://printer.local/",
    "http://router.home.arpa/",
    "http://@example.com/",  # an empty user is still userinfo
    "http://example.com:notaport/",
    "http:///path-only",
    "javascript:alert(1)",
    "data:text/html,<title>Li Jiaqi</title>",
    "s3://bucket/key",
    "//127.0.0.1/",
]
ALLOWED = [
    "https://www.scmp.com/news/china/article/3000001/x?utm_source=gdelt",
    "http://www3.nhk.or.jp/news/easy/k10099999999000/k10099999999000.html",
    "https://news.wangzi-ssrf.test/a",
    "https://8.8.8.8/dns",
    "https://[2606:4700:4700::1111]/",
    "https://xn--fiqs8s.example/",  # an IDN
    "https://中国.example/",
    "https://example.com:8443/a",
    "https://1e100.net/",  # a name that starts with a digit
]


@pytest.mark.parametrize("url", REFUSED)
def test_the_page_level_check_refuses(url: str) -> None:
    from records import FailureKind
    from spiders.pages.public_url import refused_url

    failure = refused_url(url)
    assert failure is not None and failure.kind is FailureKind.REFUSED, url
    assert failure.detail


@pytest.mark.parametrize("url", ALLOWED)
def test_the_page_level_check_allows_public_http_urls(url: str) -> None:
    from spiders.pages.public_url import refused_url

    assert refused_url(url) is None


def test_file_s3_ftp_and_data_download_handlers_are_off(monkeypatch: pytest.MonkeyPatch) -> None:
    from scrapy.utils.python import without_none_values

    from crawler.runner import crawl_settings

    monkeypatch.setenv("SCRAPY_SETTINGS_MODULE", "crawler.settings")
    assert set(without_none_values(crawl_settings().getwithbase("DOWNLOAD_HANDLERS"))) == {"http", "https"}


def _middleware(**settings: object):  # type: ignore[no-untyped-def]
    from scrapy.utils.test import get_crawler

    from crawler.middlewares.public_hosts import PublicHostsMiddleware

    return PublicHostsMiddleware.from_crawler(get_crawler(settings_dict={"WANGZI_REPLAY": "", **settings}))


def test_the_middleware_refuses_a_file_request_and_names_the_kind() -> None:
    from scrapy import Request

    from crawler.middlewares.public_hosts import RefusedRequest

    with pytest.raises(RefusedRequest) as refused:
        asyncio.run(_middleware().process_request(Request("file:///etc/passwd")))
    assert refused.value.wangzi_failure.kind.value == "refused"
    assert refused.value.url == "file:///etc/passwd"


def test_the_middleware_checks_the_real_url_behind_a_replay_rewrite_and_its_redirect_hops() -> None:
    from scrapy import Request

    from crawler.middlewares.public_hosts import RefusedRequest

    middleware = _middleware(WANGZI_REPLAY="session.har")
    replay = "http://127.0.0.1:41234/https/www.scmp.com/a"
    rewritten = Request(replay, meta={"wangzi_replay_url": replay, "wangzi_original_url": "https://www.scmp.com/a"})
    assert asyncio.run(middleware.process_request(rewritten)) is None  # the loopback replay server itself
    hop = rewritten.replace(url="http://127.0.0.1:41234/http/169.254.169.254/latest/meta-data/")
    with pytest.raises(RefusedRequest) as refused:
        asyncio.run(middleware.process_request(hop))
    assert refused.value.url == "http://169.254.169.254/latest/meta-data/"
    other_loopback = Request("http://127.0.0.1:6379/", meta=dict(rewritten.meta))
    with pytest.raises(RefusedRequest):
        asyncio.run(middleware.process_request(other_loopback))


def test_the_middleware_refuses_a_name_that_resolves_to_a_private_address() -> None:
    from scrapy import Request

    from crawler.middlewares.public_hosts import RefusedRequest

    middleware = _middleware()
    answers = {"rebind.wangzi-ssrf.test": "10.0.0.7", "news.wangzi-ssrf.test": "93.184.215.14"}

    async def resolve(name: str) -> str:
        return answers[name]

    middleware.resolve = resolve
    assert asyncio.run(middleware.process_request(Request("https://news.wangzi-ssrf.test/a"))) is None
    with pytest.raises(RefusedRequest) as refused:
        asyncio.run(middleware.process_request(Request("https://rebind.wangzi-ssrf.test/a")))
    assert "10.0.0.7" in refused.value.wangzi_failure.detail


def test_the_resolver_never_hands_out_a_non_public_address_and_allows_loopback_only_under_replay() -> None:
    from crawler.dns import PublicAddressResolver, RefusedAddress

    live = PublicAddressResolver.__new__(PublicAddressResolver)
    live.allow_loopback = False
    assert live.checked("8.8.8.8", "dns.google") == "8.8.8.8"
    for address in ("127.0.0.1", "10.1.2.3", "169.254.169.254", "0.0.0.0", "224.0.0.1", "100.64.0.1"):
        with pytest.raises(RefusedAddress):
            live.checked(address, "rebind.wangzi-ssrf.test")
    replay = PublicAddressResolver.__new__(PublicAddressResolver)
    replay.allow_loopback = True
    assert replay.checked("127.0.0.1", "127.0.0.1") == "127.0.0.1"
    with pytest.raises(RefusedAddress):
        replay.checked("10.1.2.3", "rebind.wangzi-ssrf.test")
