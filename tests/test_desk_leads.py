"""The review desk's Leads tab without a browser (issue 19 item 4): the discovery queue at
``/desk/leads`` with its filters, sort and paging in the URL, names and links from platforms
escaped, and its two actions - promote (the candidate and account ``wangzi leads promote``
makes, through the same storage function, and a lookup job for the service's worker) and
reject (a reason required; never proposed again) - recorded as the desk login's name, behind
the login and the session's CSRF token. Run on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from crawler.service.app import create_app
from records.leads import Hit, LeadItem
from storage import lookup_jobs
from storage.db import session_scope
from storage.leads import REJECTED, get_leads, list_leads, record_lead
from storage.models import Account, Candidate
from tests.desk_seed import LEAD_IMG_NAME, LEAD_SCRIPT_NAME, LEAD_SCRIPT_URL, seed_leads
from tests.test_desk import TOKEN, csrf_of, handler_attributes

WHO = "Ana 分析师"


@pytest.fixture
def seeded(database_url: str) -> tuple[str, dict[str, int]]:
    return database_url, seed_leads(database_url)


@pytest.fixture
def queued() -> list[str]:
    """The lookup jobs the desk handed to the service's lookup worker (run nothing here)."""
    return []


@pytest.fixture
def client(seeded: tuple[str, dict[str, int]], queued: list[str]) -> Iterator[TestClient]:
    app = create_app(seeded[0], token=TOKEN, workers=1)
    with TestClient(app) as test_client:
        async def submit(job_id: str) -> None:
            queued.append(job_id)

        app.state.lookups.submit = submit  # the worker's queue: a crawl here would reach the network
        yield test_client


def log_in(client: TestClient, who: str = WHO) -> str:
    page = client.get("/desk/login")
    answer = client.post("/desk/login", data={"token": TOKEN, "who": who, "csrf_token": csrf_of(page.text),
                                              "next": "/desk/leads"}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return csrf_of(client.get("/desk/leads").text)


def shown(html: str) -> list[str]:
    """The leads' names in the table, in order (as the HTML has them: escaped)."""
    return re.findall(r'<th scope="row" class="name">\s*<span class="lead-name">([^<]*)</span>', html)


def total(html: str) -> int:
    return int(re.search(r"<strong>(\d+)</strong> lead", html).group(1))  # type: ignore[union-attr]


def test_the_leads_tab_needs_a_login_and_is_in_the_desks_navigation(client: TestClient) -> None:
    for path in ("/desk/leads", "/desk/leads?status=all&sort=followers"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/desk/login?next="), path
    for path in ("/desk/leads/promote", "/desk/leads/reject"):
        answer = client.post(path, data={"ids": "1", "reason": "x"}, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/desk/login?"), path
    log_in(client)
    assert 'href="/desk/leads"' in client.get("/").text


def test_the_leads_tab_lists_new_leads_by_pre_score_with_how_they_were_found(client: TestClient) -> None:
    log_in(client)
    page = client.get("/desk/leads")
    assert page.status_code == 200 and total(page.text) == 6
    names = shown(page.text)
    assert names[:3] == ["Mika在东京", "Amy海外好物", "Shop not creator"]
    html = page.text
    assert "420,000" in html and "日本" in html and "JP" in html and "Shiseido" in html and "0.81" in html
    assert "weibo_search.users" in html and "海淘" in html
    assert 'href="https://www.bilibili.com/video/BV1xx411c7mD"' in html  # the post it was found through
    assert "hop 1" in html and "graph.mention" in html
    # A lead whose answer showed no follower count: a dash, never 0.
    row = html[html.index("No count yet"):]
    row = row[:row.index("</tr>")]
    assert re.search(r'<td class="num followers">–</td>', row) and ">0<" not in row
    # The same CSP rules as every desk page.
    assert "unsafe-inline" not in page.headers["content-security-policy"]
    assert " style=" not in html and "<style" not in html and not handler_attributes(html)
    assert all('src="/desk/static/' in a for a, _ in re.findall(r"<script([^>]*)>(.*?)</script>", html, re.DOTALL))


def test_the_leads_tab_filters_sorts_and_pages_from_the_url(client: TestClient) -> None:
    log_in(client)
    assert set(shown(client.get("/desk/leads?platform=weibo").text)) == {
        "Mika在东京", "Shop not creator", LEAD_SCRIPT_NAME.replace("<", "&lt;").replace(">", "&gt;").replace("'", "&#39;")}
    assert shown(client.get("/desk/leads?min_followers=100000").text) == ["Mika在东京", "Shop not creator"]
    assert set(shown(client.get("/desk/leads?country=us").text)) == {"Amy海外好物", "Shop not creator"}
    assert set(shown(client.get("/desk/leads?country=jp,fr&platform=weibo").text)) == {
        "Mika在东京", LEAD_SCRIPT_NAME.replace("<", "&lt;").replace(">", "&gt;").replace("'", "&#39;")}
    by_followers = shown(client.get("/desk/leads?sort=followers&dir=desc").text)
    assert by_followers[:2] == ["Mika在东京", "Shop not creator"] and by_followers[-1] == "No count yet"  # NULLs last
    ascending = shown(client.get("/desk/leads?sort=followers&dir=asc").text)
    assert ascending[-1] == "No count yet" and ascending[0] == LEAD_IMG_NAME.replace('"', "&#34;").replace(">", "&gt;").replace("<", "&lt;")
    assert shown(client.get("/desk/leads?sort=last_seen&dir=desc").text)[0] == "Mika在东京"
    first = client.get("/desk/leads?per=10").text
    assert len(shown(first)) == 6 and "page 1 of 1" in first  # a second page: the next test
    # Nonsense in the URL is dropped, never an error.
    assert client.get("/desk/leads?status=gone&sort=DROP&min_followers=-1&country=<b>&per=x&page=0").status_code == 200
    fragment = client.get("/desk/leads?platform=bilibili", headers={"HX-Request": "true", "HX-Target": "leads"})
    assert "<html" not in fragment.text and "Amy海外好物" in fragment.text


def test_the_leads_tab_pages_in_the_url(client: TestClient, seeded: tuple[str, dict[str, int]]) -> None:
    url, _ = seeded
    with session_scope(url) as session:
        for n in range(10):
            record_lead(session, LeadItem(hit=Hit(platform="bilibili", platform_user_id=str(8_000_000 + n),
                                                  display_name=f"extra {n:02d}", followers=1000 + n),
                                          seed_kind="keyword", seed="开箱", source="bilibili_search.users", query="开箱"))
    log_in(client)
    first, second = client.get("/desk/leads?per=10").text, client.get("/desk/leads?per=10&page=2").text
    assert total(first) == 16 and len(shown(first)) == 10 and len(shown(second)) == 6
    assert not set(shown(first)) & set(shown(second))
    assert 'href="/desk/leads?per=10&amp;page=2"' in first and "page 2 of 2" in second


def test_names_and_links_from_platforms_are_escaped_on_the_leads_tab(client: TestClient) -> None:
    log_in(client)
    html = client.get("/desk/leads?status=all").text
    assert "<script>alert('lead')" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#39;lead&#39;)&lt;/script&gt;" in html
    assert "&#34;&gt;&lt;img src=x onerror=alert(2)&gt;" in html
    assert LEAD_SCRIPT_URL not in html  # a javascript: post link is never a link, nor printed in an href
    assert not handler_attributes(html)


def test_promoting_leads_makes_candidates_with_their_accounts_and_queues_their_lookups(
        client: TestClient, seeded: tuple[str, dict[str, int]], queued: list[str]) -> None:
    url, ids = seeded
    csrf = log_in(client)
    chosen = [ids["Mika在东京"], ids["Amy海外好物"]]
    answer = client.post("/desk/leads/promote", data={"ids": [str(i) for i in chosen], "csrf_token": csrf,
                                                      "next": "/desk/leads?platform=weibo"})
    assert answer.status_code == 200, answer.text
    with session_scope(url) as session:
        leads = get_leads(session, chosen)
        for lead_id in chosen:
            lead = leads[lead_id]
            assert (lead.status, lead.status_by) == ("promoted", WHO) and lead.candidate_id and lead.status_at
            candidate = session.get(Candidate, lead.candidate_id)
            assert candidate is not None and candidate.display_name == lead.display_name
            assert candidate.notes.startswith(f"promoted from lead {lead_id}: ")  # as `wangzi leads promote` writes it
            (account,) = session.exec(select(Account).where(Account.candidate_id == lead.candidate_id)).all()
            assert (account.platform, account.platform_user_id) == (lead.platform, lead.platform_user_id)
            assert f'href="/desk/candidates/{lead.candidate_id}"' in answer.text
        jobs = {job.id: job for job in lookup_jobs.unfinished_jobs(session)}
        assert sorted(queued) == sorted(jobs) and len(queued) == 2  # one lookup per candidate, for the worker
        assert {job.candidate_id for job in jobs.values()} == {leads[i].candidate_id for i in chosen}
    assert "Mika在东京" not in shown(client.get("/desk/leads").text)
    promoted = client.get("/desk/leads?status=promoted").text
    assert set(shown(promoted)) == {"Mika在东京", "Amy海外好物"} and WHO in promoted
    # Promoted once only; the page says so and nothing is made twice.
    again = client.post("/desk/leads/promote", data={"ids": str(chosen[0]), "csrf_token": csrf})
    assert again.status_code == 422 and "was promoted already" in again.text and len(queued) == 2
    with session_scope(url) as session:
        assert len(session.exec(select(Candidate)).all()) == 2


def test_a_lead_whose_name_cannot_be_a_candidates_is_refused_on_the_page(
        client: TestClient, seeded: tuple[str, dict[str, int]], queued: list[str]) -> None:
    url, _ = seeded
    with session_scope(url) as session:
        _, lead = record_lead(session, LeadItem(hit=Hit(platform="weibo", platform_user_id="7300000001",
                                                        display_name='=HYPERLINK("http://evil.example")'),
                                                seed_kind="keyword", seed="海淘", source="weibo_search.users"))
        lead_id = lead.id  # type: ignore[union-attr]
    csrf = log_in(client)
    answer = client.post("/desk/leads/promote", data={"ids": str(lead_id), "csrf_token": csrf})
    assert answer.status_code == 422 and "cannot be a candidate&#39;s name" in answer.text and not queued
    with session_scope(url) as session:
        assert get_leads(session, [lead_id])[lead_id].status == "new"
        assert not session.exec(select(Candidate)).all()
    # A name given with two leads is refused; with the one lead it is the candidate's (`--name`).
    two = client.post("/desk/leads/promote", data={"ids": [str(lead_id), str(seeded[1]["Mika在东京"])], "name": "Evelyn",
                                                   "csrf_token": csrf})
    assert two.status_code == 422 and "goes with one lead" in two.text and not queued
    renamed = client.post("/desk/leads/promote", data={"ids": str(lead_id), "name": "Evelyn", "csrf_token": csrf})
    assert renamed.status_code == 200 and len(queued) == 1
    with session_scope(url) as session:
        (candidate,) = session.exec(select(Candidate)).all()
        assert candidate.display_name == "Evelyn" and get_leads(session, [lead_id])[lead_id].candidate_id == candidate.id


def test_rejecting_needs_a_reason_and_a_rejected_lead_is_never_proposed_again(
        client: TestClient, seeded: tuple[str, dict[str, int]]) -> None:
    url, ids = seeded
    csrf = log_in(client)
    shop = ids["Shop not creator"]
    for reason in ("", "   ", "spam\x1b[2J"):
        refused = client.post("/desk/leads/reject", data={"ids": str(shop), "reason": reason, "csrf_token": csrf})
        assert refused.status_code == 422 and "reason" in refused.text.lower()
    with session_scope(url) as session:
        assert get_leads(session, [shop])[shop].status == "new"
    answer = client.post("/desk/leads/reject", data={"ids": str(shop), "reason": "a shop, not a creator", "csrf_token": csrf,
                                                     "next": "/desk/leads?country=US"}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/desk/leads?country=US"
    assert "Shop not creator" not in shown(client.get("/desk/leads").text)
    rejected = client.get("/desk/leads?status=rejected").text
    assert shown(rejected) == ["Shop not creator"] and "a shop, not a creator" in rejected and WHO in rejected
    with session_scope(url) as session:
        lead = get_leads(session, [shop])[shop]
        assert (lead.status, lead.reason, lead.status_by) == ("rejected", "a shop, not a creator", WHO)
        # Found again by discovery: not proposed again.
        outcome, _ = record_lead(session, LeadItem(hit=Hit(platform="weibo", platform_user_id="7200000006",
                                                           display_name="Shop not creator", followers=310_000),
                                                   seed_kind="keyword", seed="代购", source="weibo_search.posts", query="代购"))
        assert outcome == REJECTED
        assert shop not in {lead.id for lead in list_leads(session)}
    assert "Shop not creator" not in shown(client.get("/desk/leads").text)
    # A promoted lead cannot be rejected (deactivate the candidate instead).
    client.post("/desk/leads/promote", data={"ids": str(ids["Mika在东京"]), "csrf_token": csrf})
    late = client.post("/desk/leads/reject", data={"ids": str(ids["Mika在东京"]), "reason": "changed my mind", "csrf_token": csrf})
    assert late.status_code == 422 and "deactivate the candidate" in late.text


def test_every_leads_post_needs_the_session_csrf_token_and_our_origin(
        client: TestClient, seeded: tuple[str, dict[str, int]], queued: list[str]) -> None:
    url, ids = seeded
    csrf = log_in(client)
    lead = str(ids["Mika在东京"])
    for path, form in (("/desk/leads/promote", {"ids": lead}), ("/desk/leads/reject", {"ids": lead, "reason": "no"})):
        assert client.post(path, data=form, follow_redirects=False).status_code == 403, path
        assert client.post(path, data={**form, "csrf_token": "x" + csrf}, follow_redirects=False).status_code == 403, path
        cross = client.post(path, data={**form, "csrf_token": csrf}, headers={"Origin": "https://evil.test"},
                            follow_redirects=False)
        assert cross.status_code == 403, path
    with session_scope(url) as session:
        assert get_leads(session, [int(lead)])[int(lead)].status == "new" and not queued
        assert not session.exec(select(Candidate)).all()
