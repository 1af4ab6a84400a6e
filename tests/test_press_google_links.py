"""Current Google News links (``CBMi`` + ``AU_yqL…``) resolved as Google's web client does:
the article page's signature, then the batchexecute "garturlreq" call (spiders.pages.google_news),
and the press spider driving both through replay.

No real Google article page or batchexecute answer is in ../shared/samples/: the fixtures
in tests/fixtures/google_news/{article-page-*,batchexecute-*} and the pages below are
synthetic, written from the shapes public decoders document (googlenewsdecoder,
pybatchexecute); each fixture's meta.json says which.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from records import Failure, FailureKind
from spiders.pages import google_news
from spiders.pages.google_news import ArticleSignature, GoogleLink
from tests.helpers import Exchange, run_wangzi, write_har
from tests.test_press_replay import (
    ALLOW, ARTICLES, CONFIRMED_URL, GOOGLE_ENV, HTML, LATIN, NAME, add_candidate, google_search_url,
    google_token_url, mentions,
)

FIXTURES = Path(__file__).parent / "fixtures" / "google_news"
TOKEN = "CBMiNEFVX3lxTFB6R3E0WGIzbUsydFZmUzBoRDl3UWVSN25KY0wxYVo4dVl4VzVvSXZCNnBFc1Q"
XSSI = ")]}'\n\n"


def answer(rows: list[list[object]]) -> bytes:
    return (XSSI + json.dumps(rows, separators=(",", ":"))).encode()


def resolved(url: str) -> bytes:
    return answer([["wrb.fr", "Fbv4je", json.dumps(["garturlres", url, 1]), None, None, None, "generic"],
                   ["di", 10], ["af.httprm", 10, "-1", 25]])


def signature_page(signature: str, timestamp: int = 1764057600) -> bytes:
    return (f'<!doctype html><html><head><title>Google News</title></head><body><c-wiz jsmodel="hc6Ubd">'
            f'<div jscontroller="aLI87" data-n-a-sg="{signature}" data-n-a-ts="{timestamp}"></div>'
            f"</c-wiz></body></html>").encode()


# --------------------------------------------------------------------------- pure functions


def test_batchexecute_request_is_the_web_clients_garturlreq() -> None:
    signature = ArticleSignature(token="TOKEN", signature="SIG", timestamp=1764057600)
    assert google_news.batchexecute_request(signature) == (
        '[[["Fbv4je","[\\"garturlreq\\",[[\\"X\\",\\"X\\",[\\"X\\",\\"X\\"],null,null,1,1,\\"US:en\\",null,1,null,null,'
        'null,null,null,0,1],\\"X\\",\\"X\\",1,[1,1,1],1,1,null,0,0,null,0],\\"TOKEN\\",1764057600,\\"SIG\\"]",'
        'null,"generic"]]]'
    )
    body = parse_qs(google_news.batchexecute_body(signature), strict_parsing=True)
    assert body == {"f.req": [google_news.batchexecute_request(signature)]}
    assert google_news.BATCHEXECUTE_HEADERS["Content-Type"] == "application/x-www-form-urlencoded;charset=UTF-8"


def test_batchexecute_url_names_the_rpc_and_the_article_path() -> None:
    url = google_news.batchexecute_url(TOKEN)
    assert url.startswith("https://news.google.com/_/DotsSplashUi/data/batchexecute?rpcids=Fbv4je&source-path=%2Frss")
    assert parse_qs(urlsplit(url).query) == {"rpcids": ["Fbv4je"], "source-path": [f"/rss/articles/{TOKEN}"]}


def test_a_quote_in_the_signature_stays_inside_its_json_string() -> None:
    request = google_news.batchexecute_request(ArticleSignature("T", 'a"b', 1))
    inner = json.loads(json.loads(request)[0][0][1])
    assert inner[2:] == ["T", 1, 'a"b']


def test_article_token_from_every_link_shape() -> None:
    assert google_news.article_token(f"https://news.google.com/rss/articles/{TOKEN}?oc=5") == TOKEN
    assert google_news.article_token(f"https://news.google.com/articles/{TOKEN}") == TOKEN
    assert google_news.article_token(f"https://news.google.com/read/{TOKEN}?hl=en-US") == TOKEN
    assert google_news.article_token(f"https://example.com/rss/articles/{TOKEN}") is None
    assert google_news.article_token("https://news.google.com/rss/search?q=x") is None


def test_article_page_signature_and_its_failures() -> None:
    url = f"https://news.google.com/rss/articles/{TOKEN}?oc=5"
    page = google_news.parse_article_page((FIXTURES / "article-page-signature" / "response.html").read_bytes(), url)
    assert page == ArticleSignature(TOKEN, "AZ5r3eSyntheticSignature_0123456789abcdef-XYZ", 1764057600)

    outside = b'<html><body><div data-n-a-sg="S2" data-n-a-ts="99"></div></body></html>'  # not under c-wiz
    assert google_news.parse_article_page(outside, url) == ArticleSignature(TOKEN, "S2", 99)

    cases = {
        b"<html><title>Google News</title><body>JavaScript</body></html>": FailureKind.UNRECOGNIZED,
        b'<html><body><div data-n-a-sg="S" data-n-a-ts="soon"></div></body></html>': FailureKind.UNRECOGNIZED,
        b"<html><body>Our systems have detected unusual traffic from your network.</body></html>": FailureKind.CAPTCHA,
        b"": FailureKind.UNRECOGNIZED,
    }
    for payload, kind in cases.items():
        result = google_news.parse_article_page(payload, url)
        assert isinstance(result, Failure) and result.kind is kind, payload
    limited = google_news.parse_article_page(b"<html>slow down</html>", url, 429)
    assert isinstance(limited, Failure) and limited.kind is FailureKind.RATE_LIMITED


def test_batchexecute_answers() -> None:
    article = "https://www.scmp.com/news/a?x=1"
    assert google_news.parse_batchexecute(resolved(article)) == GoogleLink(article)
    chunk = json.dumps([["wrb.fr", "Fbv4je", json.dumps(["garturlres", article, 1]), None, None, None, "generic"]])
    chunked = f")]}}'\n\n{len(chunk)}\n{chunk}\n25\n[[\"e\",4,null,null,139]]\n".encode()  # rt=c framing
    assert google_news.parse_batchexecute(chunked) == GoogleLink(article)

    def kind(payload: bytes, status: int = 200) -> FailureKind:
        result = google_news.parse_batchexecute(payload, None, status)
        assert isinstance(result, Failure), payload
        assert result.detail
        return result.kind

    assert kind(answer([["wrb.fr", "Fbv4je", None, None, None, [3], "generic"], ["di", 12]])) is FailureKind.BLOCKED
    assert kind(answer([["er", None, None, None, None, 400, None, None, None, 3]]), 400) is FailureKind.BLOCKED
    assert kind(answer([["er", None, None, None, None, 429]]), 429) is FailureKind.RATE_LIMITED
    assert kind(answer([["wrb.fr", "Fbv4je", '["garturlres",null,1]', None, None, None, "generic"]])) is FailureKind.UNRECOGNIZED
    assert kind(answer([["wrb.fr", "other", "[]", None, None, None, "generic"]])) is FailureKind.UNRECOGNIZED
    assert kind(answer([["di", 1]])) is FailureKind.UNRECOGNIZED
    assert kind(b"<html>Error 400 (Bad Request)</html>", 400) is FailureKind.HTTP_ERROR
    assert kind(b"<html>sorry</html>") is FailureKind.UNRECOGNIZED
    assert kind(b")]}'\n\n[[\"wrb.fr\",") is FailureKind.UNRECOGNIZED
    assert kind(b"") is FailureKind.UNRECOGNIZED


def test_parse_picks_the_reader_by_url_then_by_shape() -> None:
    page = (FIXTURES / "article-page-signature" / "response.html").read_bytes()
    assert isinstance(google_news.parse(resolved("https://a.example/1")), GoogleLink)
    assert isinstance(google_news.parse(page), ArticleSignature)
    assert google_news.parse(page).token == TOKEN  # from data-n-a-id when no URL is given
    feed = (FIXTURES / "new-style-token-kept" / "response.xml").read_bytes()
    assert len(google_news.parse(feed).items) == 1


def test_wangzi_parse_reads_a_saved_batchexecute_answer(tmp_path: Path) -> None:
    saved = FIXTURES / "batchexecute-garturlres" / "response.txt"
    done = run_wangzi("parse", "google_news", str(saved), database_url=f"sqlite:///{tmp_path / 'w.db'}")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"url": "https://www.nytimes.com/2026/11/02/business/li-jiaqi-livestream.html"}
    refused = run_wangzi("parse", "google_news", str(FIXTURES / "batchexecute-rpc-error-3" / "response.txt"),
                         "--url", google_news.batchexecute_url(TOKEN), database_url=f"sqlite:///{tmp_path / 'w.db'}")
    assert refused.returncode == 1 and json.loads(refused.stdout)["error"] == "blocked"


# --------------------------------------------------------------------------- the spider, through replay

RESOLVED_LINK = google_token_url(b"AU_yqLResolvedThroughBatchexecute0123456789abcdef")
REFUSED_LINK = google_token_url(b"AU_yqLRefusedByBatchexecute0123456789abcdefghij")
SORRY_LINK = google_token_url(b"AU_yqLRedirectedToTheSorryPage0123456789abcdefg")


def token_of(link: str) -> str:
    token = google_news.article_token(link)
    assert token
    return token


def feed(links: list[str]) -> bytes:
    items = "".join(
        f"<item><title>Lipstick king story {n} - South China Morning Post</title><link>{link}</link>"
        f'<pubDate>Mon, 02 Nov 2026 08:15:00 GMT</pubDate><source url="https://www.scmp.com">South China Morning Post'
        f"</source></item>"
        for n, link in enumerate(links)
    )
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>x</title>'
            f"<language>en-US</language>{items}</channel></rss>").encode()


def test_current_links_are_resolved_through_batchexecute_or_kept_unconfirmed(tmp_path: Path, database_url: str) -> None:
    add_candidate(database_url)
    article = CONFIRMED_URL + "?utm_source=google_news"
    rss = {"Content-Type": "application/rss+xml"}
    har = write_har(tmp_path / "google.har", [
        Exchange(url=google_search_url(NAME), body=feed([]), headers=rss),
        Exchange(url=google_search_url(LATIN), body=feed([RESOLVED_LINK, REFUSED_LINK, SORRY_LINK]), headers=rss),
        # 1. page 200 with a signature -> batchexecute -> the article (its robots.txt first)
        Exchange(url=RESOLVED_LINK, body=signature_page("SIG-RESOLVED"), headers=HTML),
        Exchange(url=google_news.batchexecute_url(token_of(RESOLVED_LINK)), method="POST", body=resolved(article),
                 headers={"Content-Type": "application/json; charset=utf-8"}),
        Exchange(url=ALLOW.url.format(host="www.scmp.com"), body=ALLOW.body, headers=ALLOW.headers),
        Exchange(url=article, body=ARTICLES[CONFIRMED_URL], headers=HTML),
        # 2. page 200, but batchexecute refuses the call
        Exchange(url=REFUSED_LINK, body=signature_page("SIG-EXPIRED"), headers=HTML),
        Exchange(url=google_news.batchexecute_url(token_of(REFUSED_LINK)), method="POST",
                 body=answer([["wrb.fr", "Fbv4je", None, None, None, [3], "generic"], ["di", 12]]),
                 headers={"Content-Type": "application/json; charset=utf-8"}),
        # 3. a redirect to Google's captcha page is not an article
        Exchange(url=SORRY_LINK, status=302, headers={"Location": "https://www.google.com/sorry/index?continue=x"}),
    ])
    env = {**GOOGLE_ENV, "WANGZI_GDELT_ENABLED": "false"}
    done = run_wangzi("press", NAME, "--replay", str(har), "--all", database_url=database_url, env=env)
    assert done.returncode == 0, done.stderr
    rows = mentions(database_url)

    confirmed = rows[CONFIRMED_URL]
    assert (confirmed.status, confirmed.matched_alias, confirmed.source) == ("confirmed", LATIN, "google_news")
    assert confirmed.url == RESOLVED_LINK  # the feed's own link stays as provenance

    refused = rows[REFUSED_LINK]  # kept as a lead, under the Google URL
    assert (refused.status, refused.confidence, refused.outlet_name) == ("unconfirmed", None, "South China Morning Post")
    assert "Google link not resolved: batchexecute answer (HTTP 200): blocked: Google did not resolve the link" in done.stderr

    sorry = rows[SORRY_LINK]
    assert sorry.status == "unconfirmed"
    assert "Google redirected to www.google.com/sorry/index" in done.stderr
    assert len(rows) == 3
    # every Google and article request had its recorded answer (the loopback robots.txt miss
    # Scrapy logs for the rewritten request is the replay's own, not a real URL)
    assert "no recorded response for GET https://" not in done.stderr
    assert "no recorded response for POST" not in done.stderr
