"""Google News searched through time: ``"NAME" after:… before:…`` windows, a full feed split
in two (adaptive bisection), and the per-alias cap on feed requests.

The feeds are synthetic (Google's RSS shape as in tests/fixtures/google_news; 100 items is
the cap Google's search feeds stop at); their links are old-style tokens that decode
offline to pages on a host whose robots.txt refuses everything, so each item becomes one
``unconfirmed`` row without an article fetch: a row per item shows which feeds were read.
"""

from __future__ import annotations

import base64
from datetime import date, timedelta
from pathlib import Path

import pytest
from scrapy.settings import Settings

from spiders.pages import google_news
from spiders.pages.google_news import Window, search_window
from spiders.pages.press_search import int_setting, press_today
from tests.helpers import Exchange, run_wangzi, write_har
from tests.test_press_replay import GOOGLE_ENV, LATIN, NAME, TODAY, add_candidate, mentions

HOST = "www.windows-news.de"
SINCE = date(2026, 11, 1)
RSS = {"Content-Type": "application/rss+xml"}


# --------------------------------------------------------------------------- window arithmetic


def test_window_query_days_and_halves() -> None:
    window = Window(date(2026, 11, 1), date(2026, 11, 26))
    assert window.days == 25
    assert window.query('"Li Jiaqi"') == '"Li Jiaqi" after:2026-11-01 before:2026-11-26'
    first, second = window.halves()
    assert (first, second) == (Window(date(2026, 11, 1), date(2026, 11, 13)), Window(date(2026, 11, 13), date(2026, 11, 26)))
    assert Window(date(2026, 1, 1), date(2026, 1, 3)).halves() == (
        Window(date(2026, 1, 1), date(2026, 1, 2)), Window(date(2026, 1, 2), date(2026, 1, 3)))
    with pytest.raises(ValueError):
        Window(date(2026, 1, 1), date(2026, 1, 2)).halves()


def test_bisecting_to_single_days_covers_every_day_once() -> None:
    whole = search_window(None, date(2026, 11, 25), 365)
    pending, days = [whole], []
    while pending:
        window = pending.pop()
        if window.days == 1:
            days.append(window.after)
        else:
            pending.extend(window.halves())
    assert sorted(days) == [whole.after + timedelta(days=n) for n in range(whole.days)]
    assert whole.days == 366  # a year back, today included


def test_search_window_from_since_or_lookback() -> None:
    today = date(2026, 11, 25)
    assert search_window(SINCE, today, 365) == Window(SINCE, date(2026, 11, 26))
    assert search_window(None, today, 30) == Window(date(2026, 10, 26), date(2026, 11, 26))
    assert search_window(date(2027, 1, 1), today, 365) == Window(today, date(2026, 11, 26))  # future --since: today
    assert search_window(None, today, 0).days == 2  # at least yesterday and today


def test_press_settings_read_numbers_and_the_fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    from crawler.runner import crawl_settings  # the project's settings, the environment copied in

    monkeypatch.setenv("SCRAPY_SETTINGS_MODULE", "crawler.settings")
    monkeypatch.delenv("WANGZI_PRESS_TODAY", raising=False)
    assert int_setting(Settings({"WANGZI_GOOGLE_NEWS_FEED_CAP": "50"}), "WANGZI_GOOGLE_NEWS_FEED_CAP", 100) == 50
    assert int_setting(Settings({"WANGZI_GOOGLE_NEWS_FEED_CAP": "lots"}), "WANGZI_GOOGLE_NEWS_FEED_CAP", 100) == 100
    assert int_setting(Settings({"WANGZI_GOOGLE_NEWS_FEED_CAP": "0"}), "WANGZI_GOOGLE_NEWS_FEED_CAP", 100) == 1
    assert press_today(Settings({"WANGZI_PRESS_TODAY": "2026-11-25"})) == date(2026, 11, 25)
    monkeypatch.setenv("WANGZI_PRESS_TODAY", "2026-01-02")
    assert press_today(crawl_settings()) == date(2026, 1, 2)
    monkeypatch.setenv("WANGZI_PRESS_TODAY", "yesterday")
    assert press_today(crawl_settings()) <= date.today() + timedelta(days=1)  # a bad value falls back to the clock


# --------------------------------------------------------------------------- the spider, through replay


def link(path: str) -> str:
    """An old-style Google link whose token holds https://HOST/path (decoded offline)."""
    url = f"https://{HOST}/{path}".encode()
    token = base64.urlsafe_b64encode(bytes([0x08, 0x13, 0x22, len(url)]) + url + b"\xd2\x01\x00").decode().rstrip("=")
    return f"https://news.google.com/rss/articles/{token}?oc=5"


def feed(paths: list[str]) -> bytes:
    items = "".join(
        f"<item><title>Story {path} - Windows News</title><link>{link(path)}</link>"
        f'<pubDate>Mon, 02 Nov 2026 08:15:00 GMT</pubDate><source url="https://{HOST}">Windows News</source></item>'
        for path in paths
    )
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>x</title>'
            f"<language>en-US</language>{items}</channel></rss>").encode()


def feed_url(name: str, window: Window) -> str:
    return google_news.search_url(window.query(f'"{name}"'), "en-US")


WHOLE = search_window(SINCE, date.fromisoformat(TODAY), 365)
FIRST, SECOND = WHOLE.halves()
QUARTERS = [*FIRST.halves(), *SECOND.halves()]


def recording(tmp_path: Path) -> Path:
    exchanges = [
        Exchange(url=f"https://{HOST}/robots.txt", body=b"User-agent: *\nDisallow: /\n", headers={"Content-Type": "text/plain"}),
        Exchange(url=feed_url(NAME, WHOLE), body=feed([]), headers=RSS),
        Exchange(url=feed_url(LATIN, WHOLE), body=feed([f"busy/{n}" for n in range(100)]), headers=RSS),  # at the cap
        Exchange(url=feed_url(LATIN, FIRST), body=feed(["first-half"]), headers=RSS),
        Exchange(url=feed_url(LATIN, SECOND), body=feed(["second-half", "busy/7"]), headers=RSS),
    ]
    # Would only be read if a small window were split again.
    exchanges += [Exchange(url=feed_url(LATIN, quarter), body=feed([f"quarter/{n}"]), headers=RSS)
                  for n, quarter in enumerate(QUARTERS)]
    return write_har(tmp_path / "windows.har", exchanges)


def paths(database_url: str) -> set[str]:
    return {url.split(HOST + "/", 1)[1] for url in mentions(database_url) if HOST in url}


def test_a_full_window_is_split_and_a_small_one_is_not(tmp_path: Path, database_url: str) -> None:
    add_candidate(database_url)
    env = {**GOOGLE_ENV, "WANGZI_GDELT_ENABLED": "false"}
    done = run_wangzi("press", NAME, "--since", SINCE.isoformat(), "--replay", str(recording(tmp_path)), "--all",
                      database_url=database_url, env=env)
    assert done.returncode == 0, done.stderr
    found = paths(database_url)
    assert {"first-half", "second-half"} <= found  # both halves of the full window were searched
    assert not {p for p in found if p.startswith("quarter/")}  # the halves came back small: not split
    assert len(found) == 102  # 100 + 2; busy/7 seen twice is one row
    assert "no recorded response for GET https://news.google.com" not in done.stderr


def test_the_per_alias_cap_stops_the_bisection(tmp_path: Path, database_url: str) -> None:
    add_candidate(database_url)
    env = {**GOOGLE_ENV, "WANGZI_GDELT_ENABLED": "false", "WANGZI_GOOGLE_NEWS_MAX_FEEDS_PER_ALIAS": "2"}
    done = run_wangzi("press", NAME, "--since", SINCE.isoformat(), "--replay", str(recording(tmp_path)), "--all",
                      database_url=database_url, env=env)
    assert done.returncode == 0, done.stderr
    found = paths(database_url)
    assert "first-half" in found and "second-half" not in found  # the whole window + one half = 2 feeds
    assert "reached WANGZI_GOOGLE_NEWS_MAX_FEEDS_PER_ALIAS" in done.stderr
    assert "wangzi/press/google_news/feed_budget_exhausted" in done.stderr  # Scrapy's closing stats
