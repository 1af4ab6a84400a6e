"""The press spider end to end through replay: feeds, Google's redirect, robots.txt, article
pages, confirmation and storage into SQLite (`wangzi press NAME --replay FILE.har`).

The feeds reuse the fixtures; the article pages are synthetic (small pages written for
these cases: no real page names our test candidate), the furigana markup follows the
real NHK Easy page in tests/fixtures/article/nhk-easy-furigana-ja.
"""

from __future__ import annotations

import base64
import json
from datetime import date
from pathlib import Path

from sqlmodel import select

from spiders.pages import gdelt, google_news
from storage.db import session_scope
from storage.models import PressMention
from tests.helpers import Exchange, run_wangzi, write_har

NAME, LATIN = "李佳琦", "Li Jiaqi"
HTML = {"Content-Type": "text/html; charset=utf-8"}
ALLOW = Exchange(url="https://{host}/robots.txt", body=b"User-agent: *\nAllow: /\n", headers={"Content-Type": "text/plain"})

CONFIRMED_URL = "https://www.scmp.com/news/china/article/3000001/lipstick-king-li-jiaqi-returns"
NAMESAKE_URL = "https://www.theguardian.com/science/2026/nov/01/quantum-dots"
SIDEBAR_URL = "https://www.koreaherald.com/view.php?ud=20261102000001"
FURIGANA_URL = "https://www3.nhk.or.jp/news/easy/k10099999999000/k10099999999000.html"
BLOCKED_URL = "https://www.blocked-news.de/artikel/li-jiaqi"
TODAY = "2026-11-25"  # WANGZI_PRESS_TODAY: pins Google's search windows
GOOGLE_ENV = {"WANGZI_GOOGLE_NEWS_ENABLED": "true", "WANGZI_NEWS_EDITIONS": "en-US", "WANGZI_PRESS_TODAY": TODAY}


def google_search_url(name: str, since: date | None = None, edition: str = "en-US") -> str:
    """The feed URL the spider asks for: the whole window (365 days back without --since)."""
    window = google_news.search_window(since, date.fromisoformat(TODAY), 365)
    return google_news.search_url(window.query(f'"{name}"'), edition)


def page(title: str, body: str, aside: str = "", lang: str = "en") -> bytes:
    paragraphs = "".join(f"<p>{p}</p>" for p in body.split("\n"))
    filler = "<p>" + " ".join(["The report continues with more detail on the background of the story."] * 6) + "</p>"
    return f"""<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>
<meta property="article:published_time" content="2026-11-02T08:00:00+00:00">
</head><body><nav><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li></ul></nav>
<main><article><h1>{title}</h1>{paragraphs}{filler}</article></main>
<aside class="most-viewed"><h2>Most Viewed</h2><ul>{aside}</ul></aside>
<footer>Copyright 2026</footer></body></html>""".encode()


ARTICLES = {
    CONFIRMED_URL: page(
        "China's lipstick king returns to livestreaming",
        "Li Jiaqi, the livestreamer known as China's lipstick king, returned to Taobao Live on Sunday.\n"
        "Millions of viewers watched the influencer sell imported cosmetics from French and Japanese brands.",
    ),
    NAMESAKE_URL: page(
        "Quantum dots glow brighter in new experiment",
        "Li Jiaqi, a physics professor at a university in Shanghai, said the result surprised his team.\n"
        "The experiment used a new kind of semiconductor crystal grown at low temperature.",
    ),
    SIDEBAR_URL: page(
        "Cold wave grips Seoul as temperatures plunge",
        "Temperatures in Seoul fell below freezing on Monday morning as a cold wave swept the peninsula.\n"
        "Forecasters expect the cold to last until the weekend.",
        aside='<li><a href="/view.php?ud=1">Li Jiaqi returns to livestreaming</a></li>'
              '<li><a href="/view.php?ud=2">Markets close higher</a></li>',
    ),
    FURIGANA_URL: page(
        "中国のライブ配信者が日本の化粧品を紹介",
        "中国の<ruby>李<rt>り</rt></ruby><ruby>佳琦<rt>かき</rt></ruby>さんがライブ配信で日本の化粧品を紹介しました。\n"
        "インフルエンサーとして知られる<ruby>李<rt>り</rt></ruby><ruby>佳琦<rt>かき</rt></ruby>さんは、たくさんの人が見ています。",
        lang="ja",
    ),
    BLOCKED_URL: page("Li Jiaqi in Berlin", "Li Jiaqi visited Berlin."),
}


def google_token_url(opaque: bytes) -> str:
    token = base64.urlsafe_b64encode(bytes([0x08, 0x13, 0x22, len(opaque)]) + opaque).decode().rstrip("=")
    return f"https://news.google.com/rss/articles/{token}?oc=5"


GOOGLE_LINK = google_token_url(b"AU_yqLOpaqueIdThatOnlyGoogleResolves0123456789")


def gdelt_answer(urls: list[str]) -> bytes:
    countries = {"scmp.com": "Hong Kong", "theguardian.com": "United Kingdom", "koreaherald.com": "South Korea",
                 "nhk.or.jp": "Japan", "blocked-news.de": "Germany"}
    articles = []
    for url in urls:
        domain = next(d for d in countries if d in url)
        articles.append({"url": url, "url_mobile": "", "title": "headline", "seendate": "20261102T081500Z",
                         "socialimage": "", "domain": domain, "language": "English", "sourcecountry": countries[domain]})
    return json.dumps({"articles": articles}).encode()


def google_feed() -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>"Li Jiaqi" - Google News</title>
<language>en-US</language><item><title>China's lipstick king returns to livestreaming - South China Morning Post</title>
<link>{GOOGLE_LINK}</link><pubDate>Mon, 02 Nov 2026 08:15:00 GMT</pubDate>
<source url="https://www.scmp.com">South China Morning Post</source></item></channel></rss>""".encode()


def recording(tmp_path: Path, *, google: bool) -> Path:
    exchanges = [
        Exchange(url=gdelt.search_url(f'"{NAME}"'), body=gdelt_answer([FURIGANA_URL]),
                 headers={"Content-Type": "application/json"}),
        Exchange(url=gdelt.search_url(f'"{LATIN}"'),
                 body=gdelt_answer([CONFIRMED_URL + "?utm_source=gdelt", NAMESAKE_URL, SIDEBAR_URL, BLOCKED_URL]),
                 headers={"Content-Type": "application/json"}),
        Exchange(url="https://www.blocked-news.de/robots.txt", body=b"User-agent: *\nDisallow: /\n",
                 headers={"Content-Type": "text/plain"}),
    ]
    for host in ("www.scmp.com", "www.theguardian.com", "www.koreaherald.com", "www3.nhk.or.jp"):
        exchanges.append(Exchange(url=ALLOW.url.format(host=host), body=ALLOW.body, headers=ALLOW.headers))
    for url, body in ARTICLES.items():
        exchanges.append(Exchange(url=url, body=body, headers=HTML))
    exchanges.append(Exchange(url=CONFIRMED_URL + "?utm_source=gdelt", body=ARTICLES[CONFIRMED_URL], headers=HTML))
    if google:
        exchanges += [
            Exchange(url=google_search_url(NAME),
                     body=b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title></channel></rss>',
                     headers={"Content-Type": "application/rss+xml"}),
            Exchange(url=google_search_url(LATIN), body=google_feed(),
                     headers={"Content-Type": "application/rss+xml"}),
            Exchange(url=GOOGLE_LINK, status=302, headers={"Location": CONFIRMED_URL + "?utm_medium=rss"}),
            Exchange(url=CONFIRMED_URL + "?utm_medium=rss", body=ARTICLES[CONFIRMED_URL], headers=HTML),
        ]
    return write_har(tmp_path / "press.har", exchanges)


def mentions(database_url: str) -> dict[str, PressMention]:
    with session_scope(database_url) as session:
        rows = session.exec(select(PressMention)).all()
    return {row.canonical_url: row for row in rows}


def add_candidate(database_url: str) -> None:
    added = run_wangzi("candidates", "add", NAME, "--alias", LATIN, "--alias", "L", database_url=database_url)
    assert added.returncode == 0, added.stderr


def test_press_spider_confirms_scores_and_refuses_what_it_should(tmp_path: Path, database_url: str) -> None:
    add_candidate(database_url)
    har = recording(tmp_path, google=False)
    done = run_wangzi("press", NAME, "--replay", str(har), "--all", database_url=database_url)
    assert done.returncode == 0, done.stderr
    rows = mentions(database_url)

    confirmed = rows[CONFIRMED_URL]  # tracking parameter dropped
    assert (confirmed.status, confirmed.matched_alias) == ("confirmed", LATIN)
    assert confirmed.confidence >= 0.5  # livestreamer, Taobao, influencer
    assert (confirmed.country, confirmed.outlet_domain, confirmed.language) == ("HK", "scmp.com", "en")
    assert "lipstick king" in confirmed.snippet

    namesake = rows[NAMESAKE_URL]
    assert namesake.status == "confirmed" and namesake.confidence < 0.5  # the name alone, no creator context

    sidebar = rows[SIDEBAR_URL]  # the name only in the most-viewed box
    assert (sidebar.status, sidebar.matched_alias, sidebar.confidence) == ("unconfirmed", None, None)

    furigana = rows[FURIGANA_URL]
    assert (furigana.status, furigana.matched_alias, furigana.country, furigana.language) == ("confirmed", NAME, "JP", "ja")

    blocked = rows[BLOCKED_URL]  # robots.txt says no: never fetched, kept as a lead
    assert (blocked.status, blocked.country) == ("unconfirmed", "DE")
    assert len(rows) == 5
    assert "press mention" in done.stdout


def test_same_article_from_google_and_gdelt_and_from_a_second_run_is_one_row(tmp_path: Path, database_url: str) -> None:
    add_candidate(database_url)
    har = recording(tmp_path, google=True)
    env = GOOGLE_ENV
    first = run_wangzi("press", NAME, "--replay", str(har), database_url=database_url, env=env)
    assert first.returncode == 0, first.stderr
    assert "no recorded response for GET https://news.google.com" not in first.stderr  # the windowed feeds
    before = mentions(database_url)
    assert len(before) == 5
    assert before[CONFIRMED_URL].status == "confirmed"

    second = run_wangzi("press", NAME, "--replay", str(har), database_url=database_url, env=env)
    assert second.returncode == 0, second.stderr
    after = mentions(database_url)
    assert set(after) == set(before)
    assert after[CONFIRMED_URL].first_seen_at == before[CONFIRMED_URL].first_seen_at
    assert after[CONFIRMED_URL].id == before[CONFIRMED_URL].id


def test_unknown_candidate_and_bad_since_are_usage_errors(database_url: str) -> None:
    assert run_wangzi("press", "Nobody", database_url=database_url).returncode == 2
    add_candidate(database_url)
    assert run_wangzi("press", NAME, "--since", "last week", database_url=database_url).returncode == 2
