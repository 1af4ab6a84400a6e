"""The review desk without a browser (issue 18): login with the API token for a session
cookie, CSRF on every POST, the strict headers, values from platforms escaped, the table's
filters, sort and paging from the URL, CSV/XLSX exports (formula cells neutralised), shortlists
(history append-only) on the pages and the JSON API, and the JSON API unchanged beside it.
Run on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from crawler.desk.charts import with_gaps
from crawler.service.app import create_app
from storage.db import session_scope
from storage.models import ShortlistEvent
from tests.desk_seed import FORMULA_BIO, IMG_NAME, SCRIPT_NAME, seed_desk

TOKEN = "desk-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def seeded(database_url: str) -> tuple[str, dict[str, int]]:
    return database_url, seed_desk(database_url)


@pytest.fixture
def client(seeded: tuple[str, dict[str, int]]) -> Iterator[TestClient]:
    with TestClient(create_app(seeded[0], token=TOKEN, workers=1)) as test_client:
        yield test_client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


def log_in(client: TestClient, who: str = "Ana 分析师") -> str:
    page = client.get("/desk/login")
    answer = client.post("/desk/login", data={"token": TOKEN, "who": who, "csrf_token": csrf_of(page.text), "next": "/"},
                         follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return csrf_of(client.get("/").text)


def handler_attributes(html: str) -> list[tuple[str, str]]:
    """Every ``on...`` attribute of every element (a parser's view, not a text search)."""
    found: list[tuple[str, str]] = []

    class Attributes(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.extend((tag, name) for name, _ in attrs if name.startswith("on"))

    Attributes().feed(html)
    return found


def count_shown(html: str) -> int:
    return int(re.search(r"<strong>(\d+)</strong> candidate", html).group(1))  # type: ignore[union-attr]


def names_shown(html: str) -> list[str]:
    return re.findall(r'<th scope="row" class="name"><a href="/desk/candidates/\d+">([^<]*)</a>', html)


def test_every_desk_page_needs_a_login_and_the_login_takes_the_api_token(client: TestClient) -> None:
    for path in ("/", "/desk/candidates/1", "/desk/compare?ids=1&ids=2", "/desk/shortlists", "/desk/export.csv"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/desk/login?next="), path
    page = client.get("/desk/login")
    token = csrf_of(page.text)
    wrong = client.post("/desk/login", data={"token": "nope", "who": "Ana", "csrf_token": token})
    assert wrong.status_code == 401 and "not the service" in wrong.text
    forged = client.post("/desk/login", data={"token": TOKEN, "who": "Ana", "csrf_token": "forged"})
    assert forged.status_code == 403
    answer = client.post("/desk/login", data={"token": TOKEN, "who": "Ana", "csrf_token": csrf_of(client.get("/desk/login").text),
                                              "next": "https://evil.test/"}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/"  # never another site
    cookie = answer.headers["set-cookie"]
    assert "wangzi_desk=" in cookie and "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    assert TOKEN not in cookie
    table = client.get("/")
    assert table.status_code == 200 and TOKEN not in table.text
    # The JSON API does not take the cookie: it still wants the bearer token.
    assert client.get("/candidates").status_code == 401
    assert client.get("/candidates", headers=AUTH).status_code == 200


def test_logging_out_ends_the_session_and_a_copied_cookie_is_refused(client: TestClient) -> None:
    csrf = log_in(client)
    copied = client.cookies.get("wangzi_desk")
    assert client.post("/desk/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303
    client.cookies.set("wangzi_desk", copied)  # type: ignore[arg-type]
    assert client.get("/", follow_redirects=False).status_code == 303


def test_every_post_needs_the_session_csrf_token_and_our_origin(client: TestClient, seeded: tuple[str, dict[str, int]]) -> None:
    csrf = log_in(client)
    posts = [("/desk/shortlists", {"name": "spring"}), ("/desk/logout", {}),
             ("/desk/candidates/1/status", {"shortlist_id": "1", "status": "new"}),
             ("/desk/candidates/1/lookup", {}), ("/desk/selection", {"action": "compare", "ids": "1"})]
    for path, form in posts:
        assert client.post(path, data=form, follow_redirects=False).status_code == 403, path
        assert client.post(path, data={**form, "csrf_token": "x" + csrf}, follow_redirects=False).status_code == 403, path
    cross = client.post("/desk/shortlists", data={"name": "spring", "csrf_token": csrf},
                        headers={"Origin": "https://evil.test"}, follow_redirects=False)
    assert cross.status_code == 403
    made = client.post("/desk/shortlists", data={"name": "spring", "csrf_token": csrf}, follow_redirects=False)
    assert made.status_code == 303
    by_header = client.post("/desk/selection", data={"action": "compare", "ids": ["1", "2"]},
                            headers={"X-CSRF-Token": csrf}, follow_redirects=False)
    assert by_header.status_code == 303 and by_header.headers["location"] == "/desk/compare?ids=1&ids=2"


def test_desk_pages_carry_a_strict_content_security_policy_and_no_inline_script(client: TestClient) -> None:
    log_in(client)
    for path in ("/", "/desk/candidates/1", "/desk/compare?ids=1&ids=2", "/desk/shortlists", "/desk/login"):
        answer = client.get(path)
        policy = answer.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "script-src 'self';" in policy and "style-src 'self';" in policy
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy and "frame-ancestors 'none'" in policy
        assert answer.headers["x-content-type-options"] == "nosniff" and answer.headers["cache-control"] == "no-store"
        scripts = re.findall(r"<script([^>]*)>(.*?)</script>", answer.text, re.S)
        for attributes, body in scripts:
            assert 'src="/desk/static/' in attributes or 'type="application/json"' in attributes, (path, attributes)
            assert "src=" in attributes or body.strip(), path
        assert " style=" not in answer.text and "<style" not in answer.text
        assert not handler_attributes(answer.text), path  # no inline event handler
        for asset in re.findall(r'(?:src|href)="(/desk/static/[^"]+)"', answer.text):
            assert client.get(asset).status_code == 200, asset
    assert "content-security-policy" not in client.get("/health").headers  # the JSON API's answers are as before


def test_names_bios_posts_and_titles_from_platforms_are_escaped_everywhere(client: TestClient, seeded: tuple[str, dict[str, int]]) -> None:
    log_in(client)
    ids = seeded[1]
    pages = [client.get("/").text, client.get(f"/desk/candidates/{ids[SCRIPT_NAME]}").text,
             client.get(f"/desk/candidates/{ids[IMG_NAME]}").text,
             client.get(f"/desk/compare?ids={ids[SCRIPT_NAME]}&ids={ids[IMG_NAME]}").text]
    for html in pages:
        assert "<script>alert(1)" not in html and "<img src=x" not in html
    for html in (pages[0], pages[1], pages[3]):
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    candidate = pages[1]
    assert "post &lt;script&gt;alert(1)&lt;/script&gt;" in candidate and "Article &lt;script&gt;" in candidate
    assert "bio &lt;script&gt;alert(1)&lt;/script&gt;" in candidate
    # Chart data blocks cannot be closed by a name: < > & are \u escapes inside them.
    for block in re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', "".join(pages), re.S):
        assert "<" not in block and ">" not in block
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in pages[2]


def test_the_table_filters_sorts_and_pages_from_the_url(client: TestClient) -> None:
    log_in(client)
    everyone = client.get("/?per=10")
    assert count_shown(everyone.text) == 12 and len(names_shown(everyone.text)) == 10
    second = client.get("/?per=10&page=2")
    assert len(names_shown(second.text)) == 2 and not set(names_shown(second.text)) & set(names_shown(everyone.text))
    assert names_shown(client.get("/?q=lena").text) == ["Lena在纽约"]
    assert names_shown(client.get("/?q=柏林").text) == ["Berlin Bo"]  # an alias, in Chinese
    assert names_shown(client.get("/?q=TOKYO").text) == ["東京のユキ"]  # case-blind
    assert set(names_shown(client.get("/?platform=instagram").text)) == {"Mia在洛杉矶", "Paris Chen", "米兰Sofia"}
    assert set(names_shown(client.get("/?country=FR").text)) == {"Paris Chen"}
    assert set(names_shown(client.get("/?country=us,kr").text)) == {"Lena在纽约", "Mia在洛杉矶", "首尔小金", IMG_NAME.replace('"', "&#34;").replace(">", "&gt;").replace("<", "&lt;")}
    by_bilibili = names_shown(client.get("/?sort=followers_bilibili&dir=desc").text)
    assert by_bilibili[:3] == ["老番茄", "&lt;script&gt;alert(1)&lt;/script&gt;", "Berlin Bo"]
    ascending = names_shown(client.get("/?sort=followers_total&dir=asc").text)
    assert ascending[0] == "Berlin Bo" and ascending[-1] == "老番茄"
    mega = client.get("/?tier=mega")
    assert "老番茄" in names_shown(mega.text) and "悉尼Amy" not in names_shown(mega.text)
    assert count_shown(client.get("/?min_coverage=1").text) == 0
    assert count_shown(client.get("/?composite_min=0&composite_max=100").text) == 12
    nothing = client.get("/?composite_min=99.9")
    assert count_shown(nothing.text) == 0 and "No candidate matches" in nothing.text
    fresh = names_shown(client.get("/?sort=freshness&dir=desc").text)
    assert fresh[0] == "老番茄"  # seeded an hour later than everyone else's newest snapshot
    # Nonsense in the URL is dropped, never an error.
    assert client.get("/?sort=DROP TABLE&per=-3&page=x&country=<b>&tier=giant&composite_min=abc").status_code == 200
    fragment = client.get("/?q=lena", headers={"HX-Request": "true", "HX-Target": "cohort"})
    assert "<html" not in fragment.text and "Lena在纽约" in fragment.text


def test_the_export_is_the_current_view_with_formula_cells_neutralised(client: TestClient, seeded: tuple[str, dict[str, int]]) -> None:
    log_in(client)
    answer = client.get("/desk/export.csv?platform=weibo&sort=followers_weibo&dir=desc&per=10&page=2")
    assert answer.status_code == 200 and "attachment" in answer.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert [r["display_name"] for r in rows] == ["老番茄", "Mia在洛杉矶", IMG_NAME, "悉尼Amy"]  # every page of the view
    assert rows[0]["followers_weibo"] and rows[0]["aliases"] == "Lao Fanqie"
    # A name that starts like a formula after a crawl (display names come from platforms).
    with session_scope(seeded[0]) as session:
        from storage.models import Candidate

        candidate = session.get(Candidate, seeded[1]["悉尼Amy"])
        candidate.display_name = "=1+2"  # type: ignore[union-attr]
        session.add(candidate)
    rows = list(csv.DictReader(io.StringIO(client.get("/desk/export.csv?platform=weibo").content.decode("utf-8-sig"))))
    assert "'=1+2" in [r["display_name"] for r in rows]
    xlsx = client.get("/desk/export.xlsx?platform=weibo")
    with zipfile.ZipFile(io.BytesIO(xlsx.content)) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
        strings = book.read("xl/sharedStrings.xml").decode()
    assert "<f>" not in sheet and "=1+2" in strings and "老番茄" in strings
    assert FORMULA_BIO  # bios are not exported


def test_shortlists_keep_every_change_and_filter_the_table(client: TestClient, seeded: tuple[str, dict[str, int]]) -> None:
    csrf = log_in(client, "Ana")
    ids = seeded[1]
    made = client.post("/desk/shortlists", data={"name": "春季 beauty", "csrf_token": csrf}, follow_redirects=False)
    list_id = int(made.headers["location"].rsplit("/", 1)[1])
    client.post("/desk/selection", data={"action": "shortlist", "shortlist_id": str(list_id), "csrf_token": csrf,
                                         "ids": [str(ids["老番茄"]), str(ids["Lena在纽约"])]}, follow_redirects=False)
    for status, note in (("shortlisted", "good fit <b>for</b> Q3"), ("contacted", None)):
        answer = client.post(f"/desk/candidates/{ids['Lena在纽约']}/status",
                             data={"shortlist_id": str(list_id), "status": status, "note": note or "", "csrf_token": csrf},
                             follow_redirects=False)
        assert answer.status_code == 303
    assert client.post(f"/desk/candidates/{ids['Lena在纽约']}/status",
                       data={"shortlist_id": str(list_id), "status": "hired", "csrf_token": csrf}).status_code == 422
    page = client.get(f"/desk/candidates/{ids['Lena在纽约']}").text
    assert "good fit &lt;b&gt;for&lt;/b&gt; Q3" in page and "Ana set <strong>contacted</strong>" in page
    with session_scope(seeded[0]) as session:
        events = session.query(ShortlistEvent).filter(ShortlistEvent.candidate_id == ids["Lena在纽约"]).order_by(ShortlistEvent.id).all()
        assert [e.status for e in events] == ["new", "shortlisted", "contacted"] and {e.actor for e in events} == {"Ana"}
    assert names_shown(client.get(f"/?list={list_id}&status=contacted").text) == ["Lena在纽约"]
    assert set(names_shown(client.get(f"/?list={list_id}").text)) == {"老番茄", "Lena在纽约"}
    exported = list(csv.DictReader(io.StringIO(client.get(f"/desk/shortlists/{list_id}/export.csv").content.decode("utf-8-sig"))))
    assert {(r["display_name"], r["status"]) for r in exported} == {("老番茄", "new"), ("Lena在纽约", "contacted")}
    # The same list on the JSON API, behind the bearer token.
    assert client.get(f"/shortlists/{list_id}").status_code == 401
    detail = client.get(f"/shortlists/{list_id}", headers=AUTH).json()
    assert detail["name"] == "春季 beauty" and detail["by_status"] == {"new": 1, "contacted": 1}
    change = client.put(f"/shortlists/{list_id}/candidates/{ids['老番茄']}", headers=AUTH,
                        json={"status": "approved", "note": "signed", "by": "ops bot"})
    assert change.status_code == 200 and change.json()["by"] == "ops bot"
    history = client.get(f"/shortlists/{list_id}/history", headers=AUTH).json()
    assert [h["status"] for h in history] == ["approved", "contacted", "shortlisted", "new", "new"]
    assert client.put(f"/shortlists/{list_id}/candidates/999999", headers=AUTH, json={"status": "new"}).status_code == 404
    assert client.put(f"/shortlists/{list_id}/candidates/{ids['老番茄']}", headers=AUTH, json={"status": "x"}).status_code == 422
    assert client.post("/shortlists", headers=AUTH, json={"name": "春季 beauty"}).status_code == 409
    assert client.post("/shortlists", headers=AUTH, json={"name": "=cmd"}).status_code == 422
    assert [s["name"] for s in client.get("/shortlists", headers=AUTH).json()] == ["春季 beauty"]


def test_the_candidate_page_shows_history_with_its_gap_breakdown_press_posts_and_failures(
        client: TestClient, seeded: tuple[str, dict[str, int]]) -> None:
    log_in(client)
    page = client.get(f"/desk/candidates/{seeded[1]['Lena在纽约']}").text
    assert "xiaohongshu followers (30 points, 1 gap)" in page
    assert "Index breakdown" in page and "percentile" in page.lower() and "<meter" in page
    assert 'href="https://news.example.com/2"' in page and 'rel="noopener noreferrer nofollow"' in page
    assert "Trying Aesop in Tokyo" in page and "captcha" in page
    assert client.get("/desk/candidates/999999").status_code == 404


def test_gaps_in_a_follower_history_become_nulls_and_nothing_is_interpolated() -> None:
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    days = [0, 1, 2, 3, 10, 11, 12]
    series = with_gaps([(start + timedelta(days=d), 100 + d) for d in days])
    assert [v for _, v in series] == [100, 101, 102, 103, None, 110, 111, 112]
    assert series[4][0] == round((start + timedelta(days=6.5)).timestamp())
    assert [v for _, v in with_gaps([(start, 5), (start + timedelta(days=40), 9)])] == [5, 9]


def test_the_kept_cohort_reference_explains_as_the_live_cohort_does_until_a_row_changes(
        seeded: tuple[str, dict[str, int]]) -> None:
    from crawler.desk.pages import COHORT, report_of
    from enrichment.stage import enrich, explain_candidate

    url, ids = seeded
    COHORT.mark = None
    with session_scope(url) as session:
        for name in ("Lena在纽约", "老番茄"):
            kept = report_of(session, ids[name]).explanation
            assert kept == explain_candidate(session, ids[name]) and kept["reference"]["label"] == "cohort"
        mark = COHORT.mark
    with session_scope(url) as session:
        enrich(session, force=True)
    with session_scope(url) as session:
        assert report_of(session, ids["Lena在纽约"]).explanation == explain_candidate(session, ids["Lena在纽约"])
        assert COHORT.mark != mark
