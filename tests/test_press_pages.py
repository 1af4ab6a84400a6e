"""The press page modules without Scrapy: no source borrows from another, one status table
words every source's errors, one safe-parse runs every press parser, and the press settings
read their defaults from crawler/settings.py (a typo falls back to them)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from records import Failure, FailureKind
from spiders.pages import article, gdelt, google_news
from spiders.pages.news import NewsFeed
from spiders.pages.parsing import safe_parse
from spiders.pages.press_search import editions, press_number, press_target, truthy

SOURCES = ("google_news", "gdelt", "article")
PAGES = Path(__file__).resolve().parent.parent / "spiders" / "pages"


@pytest.mark.parametrize("source", SOURCES)
def test_no_press_source_imports_another(source: str) -> None:
    tree = ast.parse((PAGES / f"{source}.py").read_text(encoding="utf-8"))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    others = {f"spiders.pages.{other}" for other in SOURCES if other != source}
    assert not imported & others


def test_each_source_names_itself_in_an_error_status() -> None:
    assert gdelt.parse(b"", None, 404).detail == "GDELT: HTTP 404"
    assert article.parse(b"", None, 410).detail == "article page: HTTP 410"
    assert google_news.parse_feed(b"", None, 429).detail == "Google News: HTTP 429 (slow down)"
    assert google_news.parse_batchexecute(b"", None, 503).detail == "Google batchexecute: HTTP 503"
    failure = google_news.parse_article_page(b"", None, 451)
    assert (failure.kind, failure.detail) == (FailureKind.BLOCKED, "Google News article page: HTTP 451")


def test_safe_parse_holds_a_press_parser_to_the_record_it_expects() -> None:
    feed = safe_parse(gdelt.parse, b'{"articles": []}', None, 200, expected=(NewsFeed,))
    assert feed == NewsFeed(())
    wrong = safe_parse(gdelt.parse, b'{"articles": []}', None, 200, expected=(article.ArticlePage,))
    assert isinstance(wrong, Failure) and wrong.detail == "parser returned NewsFeed"

    def broken(payload: bytes, url: str | None, status: int | None, aliases: list[str]) -> NewsFeed:
        raise KeyError(aliases[0])

    crashed = safe_parse(broken, b"", "https://example.test/a", 200, expected=(NewsFeed,), aliases=["Li Jiaqi"])
    assert isinstance(crashed, Failure) and crashed.kind is FailureKind.UNRECOGNIZED
    assert crashed.detail == "parser error: KeyError: 'Li Jiaqi'"


def test_press_settings_default_in_the_settings_module_and_a_typo_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    from crawler.runner import crawl_settings

    monkeypatch.setenv("SCRAPY_SETTINGS_MODULE", "crawler.settings")
    for name in ("WANGZI_PRESS_LOOKBACK_DAYS", "WANGZI_GOOGLE_NEWS_ENABLED", "WANGZI_GDELT_ENABLED", "WANGZI_NEWS_EDITIONS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WANGZI_GOOGLE_NEWS_FEED_CAP", "lots")
    monkeypatch.setenv("WANGZI_GOOGLE_NEWS_MAX_FEEDS_PER_ALIAS", "7")
    settings = crawl_settings()
    assert press_number(settings, "WANGZI_PRESS_LOOKBACK_DAYS") == 365
    assert press_number(settings, "WANGZI_GOOGLE_NEWS_FEED_CAP") == 100  # "lots": the default, with a warning
    assert press_number(settings, "WANGZI_GOOGLE_NEWS_MAX_FEEDS_PER_ALIAS") == 7
    assert not truthy(settings.get("WANGZI_GOOGLE_NEWS_ENABLED")) and truthy(settings.get("WANGZI_GDELT_ENABLED"))
    assert editions(settings) == ["en-US", "en-GB", "ja-JP", "ko-KR", "de-DE", "fr-FR", "es-ES"]
    monkeypatch.setenv("WANGZI_NEWS_EDITIONS", " ja-JP, ,de-DE")
    assert editions(crawl_settings()) == ["ja-JP", "de-DE"]


def test_a_target_keeps_searchable_aliases_and_handles_long_enough_to_mean_something() -> None:
    target = press_target(7, ["Mia Chen", None, "Lily", "mia  chen"], ["miachen", "mc", None], [])
    assert target.candidate_id == 7
    assert target.aliases == ("Mia Chen",)  # "Lily" is a common word; "mia  chen" the same name
    assert target.context == ("miachen",)
