"""The review desk in a real browser: Debian's Chromium driven by Playwright against a live
``wangzi serve`` on loopback (the desk's seeded cohort, plus the demo's 碧诗 whose Bilibili
account the bundled demo recording answers), every request outside the service refused.

Log in, filter, sort, page, open a candidate and see the chart drawn (its canvas has points,
the gap is a gap), compare, shortlist with a note, export a CSV and read it back, look up a
candidate from the replayed recording and watch it finish, open the Leads tab, filter it and
reject a lead (the browser asks for the reason first), edit a candidate's name and upload a
CSV of candidates (the bad row reported by number), log out; names like
``<script>alert(1)</script>`` render as text and never run; axe-core finds no serious or
critical violation on any page; the table and the forms work with the keyboard alone.
Screenshots at 1280x800 go to ``test-artifacts/`` (``docs/desk-*.png`` are copies)."""

from __future__ import annotations

import csv
import io
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.desk_seed import (
    IMG_NAME,
    LEAD_SCRIPT_NAME,
    SCRIPT_NAME,
    seed_desk,
    seed_leads,
)
from tests.helpers import REPO

pytestmark = pytest.mark.browser

TOKEN = "browser-desk-token-0123456789"
ARTIFACTS = REPO / "test-artifacts"
DEMO_HAR = REPO / "crawler" / "demo" / "demo.har"
SERIOUS = {"serious", "critical"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from crawler.settings import chromium_executable
    from spiders.pages.registry import normalize_account
    from storage.candidates import register_candidate

    playwright_api = pytest.importorskip("playwright.sync_api")
    executable = chromium_executable()
    if executable is None:
        pytest.skip("no Chromium installed (apt-get install chromium)")
    folder = tmp_path_factory.mktemp("desk")
    url = f"sqlite:///{folder / 'desk.db'}"
    ids = seed_desk(url)
    demo = register_candidate(url, "碧诗", aliases=["bishi"], accounts=[normalize_account("bilibili", "2")])
    ids["碧诗"] = int(demo.id)  # type: ignore[arg-type]
    leads = seed_leads(url)
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(REPO), "WANGZI_API_TOKEN": TOKEN,
           "WANGZI_ARCHIVE_DIR": str(folder / "archive"), "WANGZI_DEAD_LETTER_DIR": str(folder / "dead-letters")}
    process = subprocess.Popen([sys.executable, "-m", "crawler.cli", "serve", "--port", str(port), "--workers", "1",
                                "--replay", str(DEMO_HAR)], env=env, cwd=folder, stdout=subprocess.DEVNULL,
                               stderr=open(folder / "serve.log", "w"))  # noqa: SIM115
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        assert process.poll() is None, (folder / "serve.log").read_text()
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "the service did not come up"
        time.sleep(0.2)
    ARTIFACTS.mkdir(exist_ok=True)
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True,
                                             args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            yield {"base": base, "browser": browser, "ids": ids, "leads": leads, "url": url, "log": folder / "serve.log"}
        finally:
            browser.close()
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


class Watched:
    """A page whose every dialog, script error and request outside the service is recorded."""

    def __init__(self, desk: dict[str, Any], **context: Any) -> None:
        self.base = desk["base"]
        self.context = desk["browser"].new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True, **context)
        self.page = self.context.new_page()
        self.page.set_default_timeout(20_000)
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", lambda message: self.errors.append(message.text) if message.type == "error" else None)
        self.page.route("**/*", self._offline)

    def _offline(self, route: Any) -> None:
        if route.request.url.startswith(self.base + "/"):
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()

    def log_in(self, who: str = "Ana 分析师") -> None:
        self.page.goto(f"{self.base}/")
        self.page.get_by_label("Your name").fill(who)
        self.page.get_by_label("API token").fill(TOKEN)
        self.page.get_by_role("button", name="Log in").click()
        self.page.wait_for_url(f"{self.base}/")

    def close(self) -> None:
        self.context.close()
        assert self.dialogs == [], f"a dialog fired: {self.dialogs}"
        assert self.outside == [], f"the desk asked for {self.outside}"
        assert [e for e in self.errors if "status of 401" not in e] == [], self.errors  # 401: the wrong token, on purpose


@pytest.fixture
def watched(desk: dict[str, Any]) -> Iterator[Watched]:
    page = Watched(desk)
    yield page
    page.close()


def table_names(page: Any) -> list[str]:
    return [" ".join(t.split()) for t in page.locator("table.cohort tbody th.name > a").all_inner_texts()]


def wait_for_table(page: Any, predicate: Any, timeout: float = 15.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        names = table_names(page)
        if predicate(names) or time.monotonic() > deadline:
            return names
        time.sleep(0.1)


def canvas_has_points(page: Any, selector: str) -> int:
    """Pixels of the chart's canvas that are drawn (not transparent)."""
    return int(page.evaluate("""(selector) => {
        const canvas = document.querySelector(selector + ' canvas');
        if (!canvas) return 0;
        const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let drawn = 0;
        for (let i = 3; i < data.length; i += 4) if (data[i] > 0) drawn++;
        return drawn;
    }""", selector))


def test_log_in_filter_sort_page_and_log_out_with_hostile_names_shown_as_text(desk: dict[str, Any], watched: Watched) -> None:
    page = watched.page
    page.goto(f"{desk['base']}/")
    assert page.url.startswith(f"{desk['base']}/desk/login")
    page.get_by_label("Your name").fill("Ana")
    page.get_by_label("API token").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    page.get_by_text("not the service's token").wait_for()
    watched.log_in()
    assert len(table_names(page)) == 13
    # The XSS names are in the DOM as their literal text, and nothing ran.
    assert page.get_by_role("link", name=SCRIPT_NAME, exact=True).count() == 1
    assert page.get_by_role("link", name=IMG_NAME, exact=True).count() == 1
    assert page.locator("img[src=x]").count() == 0
    # Filter: text search (htmx swaps the table, the URL holds the view).
    page.get_by_label("Name or alias").fill("lena")
    assert wait_for_table(page, lambda names: names == ["Lena在纽约"]) == ["Lena在纽约"]
    page.wait_for_url("**q=lena**")
    page.get_by_label("Name or alias").fill("")
    page.get_by_role("checkbox", name="instagram").check()
    assert sorted(wait_for_table(page, lambda names: len(names) == 3)) == ["Mia在洛杉矶", "Paris Chen", "米兰Sofia"]
    bookmarked = page.url
    assert "platform=instagram" in bookmarked
    page.goto(bookmarked)  # a shared view opens as it was
    assert sorted(table_names(page)) == ["Mia在洛杉矶", "Paris Chen", "米兰Sofia"]
    # Sort by followers, both ways.
    page.goto(f"{desk['base']}/")
    page.get_by_role("link", name="Followers", exact=True).click()
    names = wait_for_table(page, lambda names: names[:1] == ["老番茄"])
    assert names[0] == "老番茄" and page.locator("th[aria-sort=descending]").inner_text().startswith("Followers")
    page.locator("th[aria-sort] a").click()
    ascending = wait_for_table(page, lambda names: names[:1] == ["Berlin Bo"])
    assert ascending[0] == "Berlin Bo" and ascending[-1] == "碧诗"  # not read yet: last, whichever the direction
    # Page: 10 rows a page.
    page.goto(f"{desk['base']}/?per=10&sort=name&dir=asc")
    first = table_names(page)
    assert len(first) == 10
    page.get_by_role("link", name="Next →").click()
    second = wait_for_table(page, lambda names: names != first)
    assert len(second) == 3 and not set(first) & set(second) and "page=2" in page.url
    page.screenshot(path=str(ARTIFACTS / "desk-table-page2.png"))
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/desk/login")
    page.goto(f"{desk['base']}/")
    assert "/desk/login" in page.url


def test_candidate_chart_compare_shortlist_note_and_csv_export(desk: dict[str, Any], watched: Watched) -> None:
    page, base, ids = watched.page, desk["base"], desk["ids"]
    watched.log_in("Ana")
    page.screenshot(path=str(ARTIFACTS / "desk-table.png"))
    page.get_by_role("link", name="Lena在纽约").click()
    page.wait_for_url(f"**/desk/candidates/{ids['Lena在纽约']}")
    chart = page.locator("[data-chart][data-drawn=true]")
    chart.first.wait_for()
    assert chart.first.get_attribute("data-points") == "30" and chart.first.get_attribute("data-gaps") == "1"
    assert canvas_has_points(page, "[data-chart]") > 500
    page.screenshot(path=str(ARTIFACTS / "desk-candidate.png"))
    # The XSS candidate's page: its name, bio, post and article title as text.
    page.goto(f"{base}/desk/candidates/{ids[SCRIPT_NAME]}")
    assert page.get_by_role("heading", name=SCRIPT_NAME, exact=True).count() == 1
    assert page.get_by_text(f"post {SCRIPT_NAME}").count() == 3 and page.get_by_text(f"Article {SCRIPT_NAME}").count() == 1
    page.goto(f"{base}/desk/candidates/{ids[IMG_NAME]}")
    assert page.get_by_role("heading", name=IMG_NAME, exact=True).count() == 1 and page.locator("img[src=x]").count() == 0

    # Compare three, ticked in the table.
    page.goto(f"{base}/")
    for name in ("老番茄", "Lena在纽约", "Mia在洛杉矶"):
        page.get_by_role("checkbox", name=f"Select {name}").check()
    page.get_by_role("button", name="Compare selected (2–4)").click()
    page.wait_for_url("**/desk/compare?ids=*")
    page.locator("[data-chart][data-drawn=true]").wait_for()
    headers = page.locator("table.compare").first.locator("thead th").all_inner_texts()
    assert sorted(headers[1:]) == sorted(["老番茄", "Lena在纽约", "Mia在洛杉矶"])  # in the table's order
    assert int(page.locator("[data-chart]").get_attribute("data-points") or 0) > 100
    assert canvas_has_points(page, "[data-chart]") > 1000
    page.screenshot(path=str(ARTIFACTS / "desk-compare.png"), full_page=True)

    # A shortlist, the candidate on it with a note, the note in the history.
    page.goto(f"{base}/desk/shortlists")
    page.get_by_label("Name").fill("春季 beauty")
    page.get_by_role("button", name="Create").click()
    page.wait_for_url("**/desk/shortlists/*")
    page.goto(f"{base}/desk/candidates/{ids['Lena在纽约']}")
    page.get_by_label("Status").select_option("shortlisted")
    page.get_by_label("Note").fill("Great fit for the Q3 <b>beauty</b> launch")
    page.get_by_role("button", name="Save status").click()
    page.wait_for_url("**#shortlists")
    assert page.locator("ol.history li").first.inner_text().endswith("set shortlisted on 春季 beauty: “Great fit for the Q3 <b>beauty</b> launch”")
    page.goto(f"{base}/?list=1&status=shortlisted")
    assert table_names(page) == ["Lena在纽约"]

    # Export the current view and read it back.
    page.goto(f"{base}/?platform=weibo&sort=followers_weibo&dir=desc")
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["display_name"] for r in rows] == ["老番茄", "Mia在洛杉矶", IMG_NAME, "悉尼Amy"]
    assert rows[0]["followers_weibo"].isdigit()


def test_look_up_now_runs_a_replayed_lookup_and_the_page_refreshes_when_it_finishes(desk: dict[str, Any], watched: Watched) -> None:
    page, ids = watched.page, desk["ids"]
    watched.log_in("Ana")
    page.goto(f"{desk['base']}/desk/candidates/{ids['碧诗']}")
    assert page.locator("[data-chart]").count() == 0  # nothing read yet
    page.get_by_role("button", name="Look up now").click()
    progress = page.locator("[data-lookup-events]")
    progress.wait_for()
    page.locator(".lookup-status").filter(has_text=" s").wait_for(timeout=20_000)  # events are arriving
    page.locator("[data-chart][data-drawn=true]").wait_for(timeout=150_000)  # reloaded after the lookup finished
    assert "bilibili followers (1 points" in page.locator("figcaption").first.inner_text()
    assert page.get_by_role("button", name="Look up now").count() == 1


def axe_problems(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:3]]}"
            for v in results.response["violations"] if v.get("impact") in SERIOUS]


def test_axe_finds_no_serious_violation_and_the_keyboard_alone_works(desk: dict[str, Any], watched: Watched) -> None:
    page, base, ids = watched.page, desk["base"], desk["ids"]
    page.goto(f"{base}/desk/login")
    problems = {"login": axe_problems(page)}
    # Log in with the keyboard only.
    page.keyboard.press("Tab")  # the skip link
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Tab")  # the brand link
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "who"
    page.keyboard.type("Keyboard Kai")
    page.keyboard.press("Tab")
    page.keyboard.type(TOKEN)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/")
    for name, path in (("table", "/"), ("candidate", f"/desk/candidates/{ids['Lena在纽约']}"),
                       ("compare", f"/desk/compare?ids={ids['老番茄']}&ids={ids['Mia在洛杉矶']}"),
                       ("shortlists", "/desk/shortlists"), ("shortlist", "/desk/shortlists/1"),
                       ("filtered", "/?list=1&platform=weibo&tier=micro&sort=followers_weibo")):
        page.goto(base + path)
        page.wait_for_load_state("load")
        problems[name] = axe_problems(page)
    assert {k: v for k, v in problems.items() if v} == {}

    # The table with the keyboard: skip link, the search field, Enter, then a candidate.
    page.goto(f"{base}/")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # skip to content
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "q":
            break
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.type("Paris")
    page.keyboard.press("Enter")
    assert wait_for_table(page, lambda names: names == ["Paris Chen"]) == ["Paris Chen"]
    for _ in range(80):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Paris Chen":
            break
    assert page.evaluate("document.activeElement.tagName") == "A"
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/desk/candidates/{ids['Paris Chen']}")
    # A sort header is a link: reachable and followed with Enter.
    page.goto(f"{base}/")
    for _ in range(120):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent").startswith("Press 365"):
            break
    page.keyboard.press("Enter")
    page.wait_for_url("**sort=press**")


def lead_names(page: Any) -> list[str]:
    return [" ".join(t.split()) for t in page.locator("table.leads tbody th.name .lead-name").all_inner_texts()]


def test_the_leads_tab_filters_rejects_with_a_reason_and_has_no_serious_axe_violation(
        desk: dict[str, Any], watched: Watched) -> None:
    from storage.db import session_scope
    from storage.leads import get_leads

    page, base, leads = watched.page, desk["base"], desk["leads"]
    watched.log_in()
    page.get_by_role("link", name="Leads", exact=True).click()
    page.wait_for_url(f"{base}/desk/leads")
    names = lead_names(page)
    assert names[0] == "Mika在东京" and LEAD_SCRIPT_NAME in names  # the hostile name is text, and no dialog fires
    assert {"leads": axe_problems(page)} == {"leads": []}
    page.get_by_label("Bilibili").check()  # htmx swaps the table and pushes the view into the URL
    page.wait_for_url("**platform=bilibili**")
    deadline = time.monotonic() + 15
    while lead_names(page) != ["Amy海外好物"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert lead_names(page) == ["Amy海外好物"]
    page.get_by_label("Bilibili").uncheck()
    page.wait_for_url(lambda url: "/desk/leads?" in url and "platform=" not in url)
    # Reject with no reason: the browser asks for one (and the service would refuse it, 422).
    page.get_by_label("Select Shop not creator").check()
    page.get_by_role("button", name="Reject selected").click()
    assert page.get_by_label("Reason to reject").evaluate("field => field.validity.valueMissing") is True
    assert "Shop not creator" in lead_names(page)
    page.get_by_label("Reason to reject").fill("a shop, not a creator")
    page.get_by_role("button", name="Reject selected").click()
    page.wait_for_url(f"{base}/desk/leads")
    assert "Shop not creator" not in lead_names(page)
    with session_scope(desk["url"]) as session:
        lead = get_leads(session, [leads["Shop not creator"]])[leads["Shop not creator"]]
        assert (lead.status, lead.reason, lead.status_by) == ("rejected", "a shop, not a creator", "Ana 分析师")
    page.goto(f"{base}/desk/leads?status=all&sort=followers")
    assert {"leads, every status": axe_problems(page)} == {"leads, every status": []}


def test_edit_a_name_and_upload_a_csv_with_no_serious_axe_violation(desk: dict[str, Any], watched: Watched) -> None:
    page, base, ids = watched.page, desk["base"], desk["ids"]
    watched.log_in()
    page.goto(f"{base}/desk/candidates/{ids['首尔小金']}")
    page.get_by_role("link", name="Edit, accounts, merge").click()
    page.wait_for_url(f"**/desk/candidates/{ids['首尔小金']}/edit")
    problems = {"edit": axe_problems(page)}
    # A formula is refused on the form, the typed name kept; then a good name is saved and shown.
    page.get_by_label("Display name").fill("=1+1")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("like a spreadsheet formula").wait_for()
    assert page.get_by_label("Display name").input_value() == "=1+1"
    refused = [e for e in watched.errors if "status of 422" in e]  # the refusal's status, on purpose
    assert len(refused) == 1
    watched.errors.remove(refused[0])
    problems["edit, refused"] = axe_problems(page)
    page.get_by_label("Display name").fill("首尔小金 Kim")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Saved.").wait_for()
    page.goto(f"{base}/desk/candidates/{ids['首尔小金']}")
    assert page.get_by_role("heading", name="首尔小金 Kim", exact=True).count() == 1
    # Add candidates: from the table, a CSV upload with a bad row; the report names it by row.
    page.goto(f"{base}/")
    page.get_by_role("link", name="Add candidates").click()
    page.wait_for_url(f"{base}/desk/candidates/new")
    problems["new"] = axe_problems(page)
    body = f"name,aliases,bilibili\nUpload Una,Una,3001\n-5 bad,,\n{SCRIPT_NAME} two,,\n".encode()
    page.get_by_label("CSV file", exact=True).set_input_files({"name": "people.csv", "mimeType": "text/csv", "buffer": body})
    page.get_by_role("button", name="Upload and import").click()
    page.get_by_text("2 added, 1 rejected").wait_for()
    rejected = page.locator("tr.rejected").all_inner_texts()
    assert len(rejected) == 1 and rejected[0].startswith("3") and "formula" in rejected[0]
    assert page.get_by_role("link", name=f"{SCRIPT_NAME} two", exact=True).count() == 1  # text, and no dialog fired
    problems["new, report"] = axe_problems(page)
    assert {k: v for k, v in problems.items() if v} == {}
    page.screenshot(path=str(ARTIFACTS / "desk-add-candidates.png"), full_page=True)
