"""The candidate report: one self-contained HTML file whose charts really render in a
headless Chromium (Playwright), with a screenshot kept in test-artifacts/."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from enrichment.features import PressRow
from enrichment.report import ReportData, load_report, render_report
from enrichment.stage import enrich
from storage.db import session_scope
from tests.test_export import populate

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
NOW = datetime.now(timezone.utc)


def _press() -> list[PressRow]:
    return [
        PressRow(NOW - timedelta(days=3), "https://news.example.com/gao-hungary", "news.example.com", "US", "en", 0.9,
                 title="The creator bringing Hungarian skincare to China"),
        PressRow(NOW - timedelta(days=70), "https://presse.example.fr/gao", "presse.example.fr", "FR", "fr", 0.6,
                 status="unconfirmed", title="Une créatrice chinoise à Budapest"),
        PressRow(NOW - timedelta(days=5), "javascript:alert(1)", "bad.example", "US", "en", 0.5, title="<script>x</script>"),
    ]


def _report(database_url: str) -> tuple[ReportData, str]:
    ids = populate(database_url)
    with session_scope(database_url) as session:
        enrich(session)
    with session_scope(database_url) as session:
        data = load_report(session, ids["global"])
    data.press = _press()  # press storage belongs to another module; the rendering is what is tested here
    return data, render_report(data)


def test_the_report_is_self_contained_and_shows_every_section(database_url: str) -> None:
    data, page = _report(database_url)
    assert data.history["weibo"][-1][1] == 54_000
    for heading in ("Indices", "Follower growth authenticity", "Follower history", "Growth", "Brands by country", "Press",
                    "Data freshness"):
        assert f"<h2>{heading}</h2>" in page
    # The explanation (what `wangzi explain` prints): tier, reference, every component with its group and points.
    assert "Tier <b>mid</b> (weibo micro, youtube mid)" in page and "reference <b>cohort</b>" in page
    assert "<td>ip_abroad</td><td>2</td><td>yes</td><td>yes/no</td><td>100</td>" in page
    assert "no data" in page and "Growth authenticity" in page
    assert "Omorovicza" in page and "HU" in page
    assert 'href="https://news.example.com/gao-hungary"' in page
    assert "javascript:" not in page and "<script>" not in page  # unsafe links and text are neutralised
    assert not re.search(r"<(script|link|img|iframe)\b", page)  # nothing loaded from anywhere
    # The only URLs are the articles' own links (timeline and table), never a resource.
    assert set(re.findall(r'(?:src|href)="(https?://[^"]+)"', page)) == {
        "https://news.example.com/gao-hungary", "https://presse.example.fr/gao"}


def test_a_candidate_with_no_data_still_gets_a_page(database_url: str) -> None:
    ids = populate(database_url)
    with session_scope(database_url) as session:
        page = render_report(load_report(session, ids["empty"]))
    assert "No features yet" in page and "never crawled" in page and "No press data" in page


@pytest.mark.browser
def test_the_report_renders_its_charts_in_chromium(tmp_path: Path) -> None:
    from crawler.settings import chromium_executable

    playwright_api = pytest.importorskip("playwright.sync_api")
    executable = chromium_executable()
    if executable is None:
        pytest.skip("no Chromium installed (apt-get install chromium)")
    database_url = f"sqlite:///{tmp_path / 'report.db'}"
    from storage.db import upgrade

    upgrade(database_url)
    _, page_html = _report(database_url)
    out = tmp_path / "report.html"
    out.write_text(page_html, encoding="utf-8")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            requests: list[str] = []
            page.on("request", lambda request: requests.append(request.url))
            page.goto(out.as_uri())
            charts = page.locator("svg.chart")
            assert charts.count() >= 5  # breakdown x3, follower history x2, brands, press timeline
            for i in range(charts.count()):
                box = charts.nth(i).bounding_box()
                assert box is not None and box["width"] > 0 and box["height"] > 0
            assert page.locator("svg.chart polyline").count() >= 1  # a follower line was drawn
            assert page.locator("svg.chart circle").count() > 0
            assert page.locator("svg.chart a circle").count() == 2  # press dots link to the articles
            bars = page.locator("svg.chart rect[fill]")
            assert bars.count() > 0 and bars.first.bounding_box()["width"] > 0  # type: ignore[index]
            assert requests == [out.as_uri()]  # the page fetched nothing else
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
        finally:
            browser.close()
    assert (ARTIFACTS / "report.png").stat().st_size > 10_000


def test_report_command_writes_the_file(database_url: str, tmp_path: Path) -> None:
    from crawler.cli import app

    populate(database_url)
    out = tmp_path / "r" / "gao.html"
    result = CliRunner().invoke(app, ["report", "Global Gao", "--out", str(out), "--database-url", database_url])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    missing = CliRunner().invoke(app, ["report", "Nobody Such", "--out", str(out), "--database-url", database_url])
    assert missing.exit_code == 2
