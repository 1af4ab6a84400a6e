"""Google News and GDELT feed parsing details beyond the fixtures (tests/fixtures/{google_news,gdelt})."""

from __future__ import annotations

import json
from pathlib import Path

from records import Failure, FailureKind
from spiders.pages import gdelt, google_news
from spiders.pages.google_news import decode_google_news_url
from tests.helpers import run_wangzi

FIXTURES = Path(__file__).parent / "fixtures"


def test_old_style_tokens_decode_offline_to_the_article_url() -> None:
    link = ("https://news.google.com/rss/articles/CBMiN2h0dHBzOi8vd3d3Lm1kci5kZS92aWRlby9tZHItdmlkZW9zL2EvdmlkZW8t"
            "Nzc5OTUyLmh0bWzSAQA?oc=5")
    assert decode_google_news_url(link) == "https://www.mdr.de/video/mdr-videos/a/video-779952.html"


def test_new_style_tokens_and_garbage_are_not_decoded() -> None:
    feed = google_news.parse((FIXTURES / "google_news" / "new-style-token-kept" / "response.xml").read_bytes())
    (item,) = feed.items
    assert item.url.startswith("https://news.google.com/rss/articles/CBMi")
    assert decode_google_news_url("https://news.google.com/rss/articles/%%%notbase64") is None
    assert decode_google_news_url("https://example.com/rss/articles/CBMiN2h0") is None


def test_title_keeps_a_dash_that_is_not_the_outlet() -> None:
    payload = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item><title>Up - and down - Reuters</title>
    <link>https://news.google.com/rss/articles/CBMiN2h0dHBzOi8vd3d3Lm1kci5kZS92aWRlby9tZHItdmlkZW9zL2EvdmlkZW8tNzc5OTUyLmh0bWzSAQA</link>
    <source url="https://www.reuters.com">Reuters</source></item></channel></rss>"""
    (item,) = google_news.parse(payload, "https://news.google.com/rss/search?q=x&hl=en-GB&gl=GB&ceid=GB:en").items
    assert (item.title, item.published_at, item.language) == ("Up - and down", None, "en")


def test_edition_urls() -> None:
    assert google_news.search_url('"李佳琦"', "ja-JP").endswith("&hl=ja-JP&gl=JP&ceid=JP:ja")
    assert "%22%E6%9D%8E" in google_news.search_url('"李佳琦"', "ja-JP")


def test_gdelt_reads_country_names_and_language_names() -> None:
    feed = gdelt.parse((FIXTURES / "gdelt" / "artlist-three-countries" / "response.json").read_bytes())
    assert [(i.country, i.language) for i in feed.items] == [("HK", "en"), ("JP", "ja"), ("CN", "zh")]
    assert feed.items[0].url.endswith("li-jiaqi-returns")  # utm_source dropped


def test_gdelt_html_answer_keeps_its_words() -> None:
    result = gdelt.parse(b"<html><body>Invalid query: phrase too short</body></html>")
    assert isinstance(result, Failure) and result.kind is FailureKind.UNRECOGNIZED
    assert "phrase too short" in result.detail


def test_gdelt_wrong_shapes_are_unrecognized() -> None:
    for payload in (b"[]", b'{"error": "x"}', b'{"articles": {}}', b"", b'{"articles": [1, {"url": 2}]'):
        result = gdelt.parse(payload)
        assert isinstance(result, Failure), payload


def test_wangzi_parse_article_with_alias(tmp_path: Path) -> None:
    case = FIXTURES / "article" / "japantimes-surgical-en"
    url = json.loads((case / "meta.json").read_text())["url"]
    done = run_wangzi("parse", "article", str(case / "response.html"), "--url", url, "--alias", "Kobe",
                      database_url=f"sqlite:///{tmp_path / 'w.db'}")
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert (printed["confirmed"], printed["matched_alias"], printed["country"]) == (True, "Kobe", "JP")
    refused = run_wangzi("parse", "gdelt", str(case / "response.html"), "--alias", "Kobe",
                         database_url=f"sqlite:///{tmp_path / 'w.db'}")
    assert refused.returncode == 2


def test_gdelt_answer_with_a_raw_backslash_in_a_title_keeps_every_article() -> None:
    # GDELT sometimes copies a title's backslash (or a tab) into its JSON unescaped: json.loads
    # says "Invalid \escape" (gdelt-doc-api issues #26 and #28). Synthetic answer of that shape.
    payload = (b'{"articles": [{"url": "https://www.nikkei.com/a", "title": "Price \\ value\tlist", '
               b'"seendate": "20261102T090000Z", "domain": "nikkei.com", "language": "Japanese", '
               b'"sourcecountry": "Japan"}, {"url": "https://www.bbc.co.uk/b", "title": "Path C:\\\\dir \\x", '
               b'"seendate": "20261102T091500Z", "domain": "bbc.co.uk", "language": "English", '
               b'"sourcecountry": "United Kingdom"}]}')
    feed = gdelt.parse(payload)
    assert not isinstance(feed, Failure), feed
    assert [(i.title, i.country) for i in feed.items] == [("Price \\ value list", "JP"), ("Path C:\\dir \\x", "GB")]


def test_gdelt_rate_limit_words_are_a_rate_limit_even_with_status_200() -> None:
    body = (Path(__file__).parent / "fixtures" / "gdelt" / "rate-limited-429" / "response.txt").read_bytes()
    result = gdelt.parse(body, status=200)
    assert isinstance(result, Failure) and result.kind is FailureKind.RATE_LIMITED
