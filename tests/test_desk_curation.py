"""Curating and adding candidates on the review desk without a browser (issue 18 items 5 and
6, in the app): edit a name, aliases and notes; add and remove an account; deactivate and
reactivate; merge into another candidate (a name several have asks which) and undo the merge;
delete after a confirmation; register one candidate, or upload a CSV file and read the same
per-row report as ``wangzi candidates import``. Every form calls the JSON API's own functions
(crawler/service/routes.py), is behind the login and the session's CSRF token, records the
desk login's name, and shows what storage refuses on the form, escaped. SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape

import pytest
from fastapi.testclient import TestClient

from crawler.service.app import create_app
from storage.candidates import add_candidate, candidate_accounts, candidates_named, get_candidate
from storage.curation import list_merges
from storage.db import session_scope
from tests.desk_seed import IMG_NAME, SCRIPT_NAME, seed_desk
from tests.test_desk import TOKEN, csrf_of, handler_attributes, names_shown

WHO = "Ana 分析师"
MAX_UPLOAD = 64 * 1024
NEW_XSS = "<svg onload=alert(7)>"


@pytest.fixture
def seeded(database_url: str) -> tuple[str, dict[str, int]]:
    return database_url, seed_desk(database_url)


@pytest.fixture
def client(seeded: tuple[str, dict[str, int]]) -> Iterator[TestClient]:
    with TestClient(create_app(seeded[0], token=TOKEN, workers=1, max_upload=MAX_UPLOAD)) as test_client:
        yield test_client


def log_in(client: TestClient, who: str = WHO) -> str:
    page = client.get("/desk/login")
    answer = client.post("/desk/login", data={"token": TOKEN, "who": who, "csrf_token": csrf_of(page.text), "next": "/"},
                         follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return csrf_of(client.get("/").text)


def errors_of(html: str) -> list[str]:
    """The messages shown on a form (as text: unescaped once, as a browser shows them)."""
    return [unescape(m) for m in re.findall(r'<p class="error" role="alert">([^<]*)</p>', html)]


def candidate(url: str, candidate_id: int) -> tuple[object, list[tuple[str, str | None]]]:
    with session_scope(url) as session:
        row = get_candidate(session, candidate_id)
        assert row is not None
        session.expunge(row)
        accounts = [(a.platform, a.handle) for a in candidate_accounts(session, [candidate_id]).get(candidate_id, [])]
    return row, accounts


def test_the_curation_pages_need_a_login_and_every_form_the_csrf_token(
        client: TestClient, seeded: tuple[str, dict[str, int]]) -> None:
    cid = seeded[1]["Paris Chen"]
    for path in (f"/desk/candidates/{cid}/edit", "/desk/candidates/new"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/desk/login?next="), path
    posts = [(f"/desk/candidates/{cid}/edit", {"display_name": "X"}), (f"/desk/candidates/{cid}/accounts",
             {"platform": "weibo", "handle": "1234567"}), (f"/desk/candidates/{cid}/accounts/1/remove", {}),
             (f"/desk/candidates/{cid}/active", {"active": "0"}), (f"/desk/candidates/{cid}/merge", {"target": "1"}),
             ("/desk/merges/1/undo", {}), (f"/desk/candidates/{cid}/delete", {"confirm": "yes"}),
             ("/desk/candidates/new", {"name": "Nobody"})]
    for path, form in posts:
        answer = client.post(path, data=form, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/desk/login?"), path
    upload = client.post("/desk/candidates/import", files={"file": ("c.csv", b"name\nNobody\n", "text/csv")},
                         follow_redirects=False)
    assert upload.status_code == 303 and upload.headers["location"].startswith("/desk/login?")
    csrf = log_in(client)
    for path, form in posts:
        assert client.post(path, data=form, follow_redirects=False).status_code == 403, path
        assert client.post(path, data={**form, "csrf_token": "x" + csrf}, follow_redirects=False).status_code == 403, path
    assert client.post("/desk/candidates/import", files={"file": ("c.csv", b"name\nNobody\n", "text/csv")}).status_code == 403
    cross = client.post(f"/desk/candidates/{cid}/edit", data={"display_name": "X", "csrf_token": csrf},
                        headers={"Origin": "https://evil.test"}, follow_redirects=False)
    assert cross.status_code == 403
    row, accounts = candidate(seeded[0], cid)
    assert row.display_name == "Paris Chen" and row.active and len(accounts) == 2  # type: ignore[attr-defined]
    with session_scope(seeded[0]) as session:
        assert candidates_named(session, "Nobody") == []
    # Linked: the candidate page to its curation page, the table to adding candidates.
    assert f'href="/desk/candidates/{cid}/edit"' in client.get(f"/desk/candidates/{cid}").text
    assert 'href="/desk/candidates/new"' in client.get("/").text


def test_edit_a_name_aliases_and_notes_and_see_them(client: TestClient, seeded: tuple[str, dict[str, int]]) -> None:
    csrf = log_in(client)
    cid = seeded[1]["Paris Chen"]
    page = client.get(f"/desk/candidates/{cid}/edit")
    assert page.status_code == 200 and 'value="Paris Chen"' in page.text and "陈巴黎" in page.text
    answer = client.post(f"/desk/candidates/{cid}/edit", data={
        "csrf_token": csrf, "display_name": "Paris Chen 陈", "aliases": "陈巴黎\nParis C.\n", "notes": "met at 2026 expo"},
        follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith(f"/desk/candidates/{cid}/edit")
    shown = client.get(f"/desk/candidates/{cid}").text
    assert "<h1>Paris Chen 陈</h1>" in shown and "Paris C." in shown and "met at 2026 expo" in shown
    row, _ = candidate(seeded[0], cid)
    assert row.display_name == "Paris Chen 陈" and row.aliases == ["陈巴黎", "Paris C."]  # type: ignore[attr-defined]
    # Empty notes clear them.
    client.post(f"/desk/candidates/{cid}/edit", data={"csrf_token": csrf, "display_name": "Paris Chen 陈",
                                                      "aliases": "陈巴黎", "notes": ""})
    row, _ = candidate(seeded[0], cid)
    assert row.notes is None and row.aliases == ["陈巴黎"]  # type: ignore[attr-defined]


def test_a_name_storage_refuses_is_shown_on_the_form_with_nothing_else_lost(
        client: TestClient, seeded: tuple[str, dict[str, int]]) -> None:
    csrf = log_in(client)
    cid = seeded[1]["Paris Chen"]
    formula = client.post(f"/desk/candidates/{cid}/edit", data={
        "csrf_token": csrf, "display_name": "=HYPERLINK(1)", "aliases": "kept alias <b>", "notes": "kept notes"})
    assert formula.status_code == 422
    (message,) = errors_of(formula.text)
    assert message.startswith("name starts with '='") and "formula" in message
    # What was typed stays in the form (escaped), so nothing is lost.
    assert 'value="=HYPERLINK(1)"' in formula.text and "kept alias &lt;b&gt;" in formula.text and "kept notes" in formula.text
    control = client.post(f"/desk/candidates/{cid}/edit", data={"csrf_token": csrf, "display_name": "Paris\x07Chen",
                                                                 "aliases": "", "notes": ""})
    assert control.status_code == 422 and errors_of(control.text)
    taken = client.post(f"/desk/candidates/{cid}/edit", data={"csrf_token": csrf, "display_name": "老番茄",
                                                               "aliases": "陈巴黎", "notes": "x"})
    assert taken.status_code == 409
    assert "老番茄" in errors_of(taken.text)[0] and f'href="/desk/candidates/{seeded[1]["老番茄"]}"' in taken.text
    row, _ = candidate(seeded[0], cid)
    assert row.display_name == "Paris Chen" and row.aliases == ["陈巴黎"]  # type: ignore[attr-defined]
    allowed = client.post(f"/desk/candidates/{cid}/edit", data={"csrf_token": csrf, "display_name": "老番茄",
                                                                 "aliases": "陈巴黎", "notes": "", "allow_same_name": "1"},
                          follow_redirects=False)
    assert allowed.status_code == 303
    assert candidate(seeded[0], cid)[0].display_name == "老番茄"  # type: ignore[attr-defined]


def test_add_and_remove_an_account(client: TestClient, seeded: tuple[str, dict[str, int]]) -> None:
    csrf = log_in(client)
    cid = seeded[1]["悉尼Amy"]
    added = client.post(f"/desk/candidates/{cid}/accounts", data={
        "csrf_token": csrf, "platform": "bilibili", "handle": "https://space.bilibili.com/2233/"}, follow_redirects=False)
    assert added.status_code == 303
    assert sorted(p for p, _ in candidate(seeded[0], cid)[1]) == ["bilibili", "weibo"]
    assert "2233" in client.get(f"/desk/candidates/{cid}/edit").text
    # An account another candidate owns is refused on that candidate's form.
    other = seeded[1]["米兰Sofia"]
    owned = client.post(f"/desk/candidates/{other}/accounts", data={"csrf_token": csrf, "platform": "bilibili",
                                                                     "handle": "2233"})
    assert owned.status_code == 409 and f"already belongs to candidate {cid}" in errors_of(owned.text)[0]
    assert 'value="2233"' in owned.text  # what was typed stays
    bad = client.post(f"/desk/candidates/{cid}/accounts", data={"csrf_token": csrf, "platform": "weibo",
                                                                 "handle": "<script>x</script>"})
    assert bad.status_code == 422 and "<script>x</script>" not in bad.text and errors_of(bad.text)
    with session_scope(seeded[0]) as session:
        account_id = next(a.id for a in candidate_accounts(session, [cid])[cid] if a.platform == "bilibili")
    removed = client.post(f"/desk/candidates/{cid}/accounts/{account_id}/remove", data={"csrf_token": csrf},
                          follow_redirects=False)
    assert removed.status_code == 303
    assert [p for p, _ in candidate(seeded[0], cid)[1]] == ["weibo"]
    assert [p for p, _ in candidate(seeded[0], other)[1]] == ["instagram"]


def test_deactivating_hides_a_candidate_from_the_default_table_and_reactivating_brings_it_back(
        client: TestClient, seeded: tuple[str, dict[str, int]]) -> None:
    csrf = log_in(client)
    cid = seeded[1]["伦敦Leo"]
    assert "伦敦Leo" in names_shown(client.get("/?per=100").text)
    assert client.post(f"/desk/candidates/{cid}/active", data={"csrf_token": csrf, "active": "0"},
                       follow_redirects=False).status_code == 303
    assert "伦敦Leo" not in names_shown(client.get("/?per=100").text)
    assert "伦敦Leo" in names_shown(client.get("/?per=100&active=inactive").text)
    assert "Reactivate" in client.get(f"/desk/candidates/{cid}/edit").text
    client.post(f"/desk/candidates/{cid}/active", data={"csrf_token": csrf, "active": "1"})
    assert candidate(seeded[0], cid)[0].active  # type: ignore[attr-defined]


def test_merge_moves_the_accounts_is_listed_and_undo_restores(client: TestClient, seeded: tuple[str, dict[str, int]]) -> None:
    url, ids = seeded
    csrf = log_in(client)
    source, target = ids["Berlin Bo"], ids["米兰Sofia"]
    merged = client.post(f"/desk/candidates/{source}/merge", data={"csrf_token": csrf, "target": "米兰Sofia",
                                                                     "note": "one person <b>"}, follow_redirects=False)
    assert merged.status_code == 303 and merged.headers["location"].startswith(f"/desk/candidates/{target}/edit")
    assert sorted(p for p, _ in candidate(url, target)[1]) == ["bilibili", "instagram", "youtube"]
    assert candidate(url, source)[1] == []
    with session_scope(url) as session:
        (merge,) = list_merges(session, target)
        merge_id, by = merge.id, merge.merged_by
    assert by == WHO
    page = client.get(f"/desk/candidates/{target}/edit").text
    assert f'action="/desk/merges/{merge_id}/undo"' in page and "Berlin Bo" in page and "one person &lt;b&gt;" in page
    undone = client.post(f"/desk/merges/{merge_id}/undo", data={"csrf_token": csrf}, follow_redirects=False)
    assert undone.status_code == 303
    assert sorted(p for p, _ in candidate(url, source)[1]) == ["bilibili", "youtube"]
    assert [p for p, _ in candidate(url, target)[1]] == ["instagram"]
    with session_scope(url) as session:
        (merge,) = list_merges(session, target)
        assert merge.undone_by == WHO and merge.undone_at is not None
    # Undone twice: refused on the page, not a crash.
    again = client.post(f"/desk/merges/{merge_id}/undo", data={"csrf_token": csrf})
    assert again.status_code == 409 and "undone" in errors_of(again.text)[0]


def test_a_target_name_several_candidates_have_asks_which_one(client: TestClient, seeded: tuple[str, dict[str, int]]) -> None:
    url, ids = seeded
    with session_scope(url) as session:
        twins = [int(add_candidate(session, "Twin Name", notes=f"twin {n}").id) for n in (1, 2)]  # type: ignore[arg-type]
    csrf = log_in(client)
    source = ids["悉尼Amy"]
    ask = client.post(f"/desk/candidates/{source}/merge", data={"csrf_token": csrf, "target": "twin name"})
    assert ask.status_code == 409
    for twin in twins:
        assert f'value="{twin}"' in ask.text
    with session_scope(url) as session:
        assert list_merges(session, source) == []
    chosen = client.post(f"/desk/candidates/{source}/merge", data={"csrf_token": csrf, "target_id": str(twins[1])},
                         follow_redirects=False)
    assert chosen.status_code == 303
    assert [p for p, _ in candidate(url, twins[1])[1]] == ["weibo"]
    nobody = client.post(f"/desk/candidates/{twins[0]}/merge", data={"csrf_token": csrf, "target": "Nobody at all"})
    assert nobody.status_code == 422 and "Nobody at all" in errors_of(nobody.text)[0]


def test_delete_asks_for_a_confirmation(client: TestClient, seeded: tuple[str, dict[str, int]]) -> None:
    url, ids = seeded
    csrf = log_in(client)
    cid = ids["悉尼Amy"]
    unconfirmed = client.post(f"/desk/candidates/{cid}/delete", data={"csrf_token": csrf})
    assert unconfirmed.status_code == 422 and errors_of(unconfirmed.text)
    with session_scope(url) as session:
        assert get_candidate(session, cid) is not None
    deleted = client.post(f"/desk/candidates/{cid}/delete", data={"csrf_token": csrf, "confirm": "yes"},
                          follow_redirects=False)
    assert deleted.status_code == 303
    with session_scope(url) as session:
        assert get_candidate(session, cid) is None
    assert client.get(f"/desk/candidates/{cid}/edit").status_code == 404


def test_add_one_candidate_with_accounts(client: TestClient, seeded: tuple[str, dict[str, int]]) -> None:
    url, ids = seeded
    csrf = log_in(client)
    page = client.get("/desk/candidates/new")
    assert page.status_code == 200 and 'name="weibo"' in page.text and 'enctype="multipart/form-data"' in page.text
    made = client.post("/desk/candidates/new", data={"csrf_token": csrf, "name": "Nina 首尔", "aliases": "Nina\nNina Seoul",
                                                     "notes": "from the expo", "weibo": "https://weibo.com/u/1234567890"},
                       follow_redirects=False)
    assert made.status_code == 303
    new_id = int(re.search(r"/desk/candidates/(\d+)", made.headers["location"]).group(1))  # type: ignore[union-attr]
    row, accounts = candidate(url, new_id)
    assert row.display_name == "Nina 首尔" and row.aliases == ["Nina", "Nina Seoul"]  # type: ignore[attr-defined]
    assert accounts == [("weibo", None)] or [p for p, _ in accounts] == ["weibo"]
    # The same name again asks for 'another person of the same name'; a formula is refused; both keep the form.
    again = client.post("/desk/candidates/new", data={"csrf_token": csrf, "name": "Nina 首尔", "notes": "kept"})
    assert again.status_code == 409 and f'href="/desk/candidates/{new_id}"' in again.text and "kept" in again.text
    formula = client.post("/desk/candidates/new", data={"csrf_token": csrf, "name": "@SUM(1)", "bilibili": "2"})
    assert formula.status_code == 422 and "formula" in errors_of(formula.text)[0] and 'value="2"' in formula.text
    owned = client.post("/desk/candidates/new", data={"csrf_token": csrf, "name": "Someone", "weibo": "1234567890"})
    assert owned.status_code == 409 and f"already belongs to candidate {new_id}" in errors_of(owned.text)[0]
    assert ids  # the seeded cohort is untouched


def test_a_csv_upload_reports_bad_rows_by_number_and_adds_the_good_ones(
        client: TestClient, seeded: tuple[str, dict[str, int]]) -> None:
    url, _ = seeded
    csrf = log_in(client)
    body = ("name,aliases,notes,bilibili,shoe_size\n"
            "Good One,G1|Goody,first,1001\n"
            "=cmd|' /C calc'!A0,,,\n"
            f"{NEW_XSS},,xss row,\n"
            "老番茄,,a namesake,\n"
            "Good Two,,,https://space.bilibili.com/1002\n").encode()
    answer = client.post("/desk/candidates/import", data={"csrf_token": csrf},
                         files={"file": ("people.csv", body, "text/csv")})
    assert answer.status_code == 200, answer.text[:500]
    html = answer.text
    rejected = dict(re.findall(r'<tr class="rejected"><th scope="row">(\d+)</th><td>([^<]*)</td>', html))
    assert set(rejected) == {"3", "5"}, rejected
    assert "formula" in unescape(rejected["3"]).lower() or "=" in unescape(rejected["3"])
    added = re.findall(r'<tr class="added"><th scope="row">(\d+)</th><td><a href="/desk/candidates/(\d+)">([^<]*)</a>', html)
    assert [(row, unescape(name)) for row, _, name in added] == [("2", "Good One"), ("4", NEW_XSS), ("6", "Good Two")]
    assert "shoe_size" in html  # the unknown column's warning
    assert NEW_XSS not in html and not handler_attributes(html)
    with session_scope(url) as session:
        good = get_candidate(session, int(added[0][1]))
        assert good is not None and good.aliases == ["G1", "Goody"]
    # A file that is no text, and one over the service's upload limit (WANGZI_API_MAX_UPLOAD).
    garbage = client.post("/desk/candidates/import", data={"csrf_token": csrf, "encoding": "utf-8"},
                          files={"file": ("x.csv", b"\xff\xfe\xfa name", "text/csv")})
    assert garbage.status_code == 422 and errors_of(garbage.text)
    huge = client.post("/desk/candidates/import", data={"csrf_token": csrf},
                       files={"file": ("big.csv", b"name\n" + b"x" * (MAX_UPLOAD + 10), "text/csv")})
    assert huge.status_code == 413
    # A browser (it accepts HTML) gets a page naming the limit and the way around it, not JSON.
    browser = client.post("/desk/candidates/import", data={"csrf_token": csrf},
                          files={"file": ("big.csv", b"name\n" + b"x" * (MAX_UPLOAD + 10), "text/csv")},
                          headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert browser.status_code == 413 and browser.headers["content-type"].startswith("text/html")
    assert f"{MAX_UPLOAD:,} bytes" in browser.text and "WANGZI_API_MAX_UPLOAD" in browser.text
    assert 'href="/desk/candidates/new"' in browser.text and "<script" not in browser.text
    assert "default-src 'none'" in browser.headers["content-security-policy"]


def test_hostile_names_are_text_on_the_curation_pages(client: TestClient, seeded: tuple[str, dict[str, int]]) -> None:
    csrf = log_in(client)
    for name in (SCRIPT_NAME, IMG_NAME):
        page = client.get(f"/desk/candidates/{seeded[1][name]}/edit")
        assert page.status_code == 200
        assert name not in page.text and not handler_attributes(page.text)
    # Merged by its hostile name: the target's page lists the merge with both names as text.
    merged = client.post(f"/desk/candidates/{seeded[1][SCRIPT_NAME]}/merge",
                         data={"csrf_token": csrf, "target": IMG_NAME, "note": SCRIPT_NAME})
    assert merged.status_code == 200 and merged.url.path == f"/desk/candidates/{seeded[1][IMG_NAME]}/edit"
    assert SCRIPT_NAME not in merged.text and IMG_NAME not in merged.text and not handler_attributes(merged.text)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in merged.text
