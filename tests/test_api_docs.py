"""The API's docs page works in a browser and offline: ``/docs`` and its assets come from the
package (never from a CDN) and need no token - they hold no data - and the page asks for the
bearer token and fetches ``/openapi.json`` with it, which stays behind the token. Checked with
Debian's Chromium driven by Playwright, every request outside the service refused."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from crawler.service.app import create_app
from tests.helpers import REPO

TOKEN = "test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ARTIFACTS = REPO / "test-artifacts"


def test_the_docs_page_and_its_assets_come_from_the_service_without_a_token(sqlite_url: str) -> None:
    with TestClient(create_app(sqlite_url, token=TOKEN, workers=1)) as client:
        page = client.get("/docs")
        assert page.status_code == 200, page.text
        assert page.headers["content-type"].startswith("text/html")
        assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert assets, page.text
        for asset in assets:
            assert not re.match(r"(?i)(https?:)?//", asset), f"{asset} is not served by the service"
            fetched = client.get(asset if asset.startswith("/") else f"/docs/{asset}")
            assert fetched.status_code == 200, asset
        assert "default-src 'none'" in page.headers.get("content-security-policy", "")
        assert client.get("/openapi.json").status_code == 401  # the document itself stays behind the token
        assert client.get("/openapi.json", headers=AUTH).status_code == 200


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def service(sqlite_url: str) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": sqlite_url, "PYTHONPATH": str(REPO), "WANGZI_API_TOKEN": TOKEN}
    process = subprocess.Popen([sys.executable, "-m", "crawler.cli", "serve", "--port", str(port), "--workers", "1"],
                               env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, process.communicate()[1]
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "the service did not come up"
        time.sleep(0.1)
    try:
        yield base
    finally:
        process.terminate()
        process.communicate(timeout=30)


@pytest.mark.browser
def test_the_docs_page_lists_the_operations_offline_with_the_token(service: str) -> None:
    from crawler.settings import chromium_executable

    playwright_api = pytest.importorskip("playwright.sync_api")
    executable = chromium_executable()
    if executable is None:
        pytest.skip("no Chromium installed (apt-get install chromium)")
    outside: list[str] = []
    openapi_auth: list[str | None] = []
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})

            def offline(route) -> None:  # type: ignore[no-untyped-def]
                url = route.request.url
                if url.startswith(service + "/"):
                    if url.startswith(f"{service}/openapi.json"):
                        openapi_auth.append(route.request.headers.get("authorization"))
                    route.continue_()
                else:
                    outside.append(url)
                    route.abort()

            page.route("**/*", offline)
            page.goto(f"{service}/docs")
            page.get_by_label("API token").fill("wrong-token")
            page.get_by_role("button", name="Load").click()
            page.get_by_text("401").first.wait_for(timeout=10_000)  # a wrong token is said, not hidden

            page.get_by_label("API token").fill(TOKEN)
            page.get_by_role("button", name="Load").click()
            operations = page.locator(".operation")
            operations.first.wait_for(timeout=10_000)
            shown = [" ".join(text.split()) for text in operations.all_inner_texts()]
            for expected in ("POST /lookups", "GET /lookups/{job_id}", "GET /candidates", "GET /candidates/{candidate_id}",
                             "GET /candidates/{candidate_id}/features", "GET /health"):
                assert any(text.startswith(expected) for text in shown), (expected, shown)
            page.get_by_text("Start a lookup of a candidate, or of a name plus handles").first.click()
            opened = operations.filter(has_text="Start a lookup of a candidate")
            for field in ("candidate_id", "name", "handles", "platforms", "202"):
                assert opened.get_by_role("cell", name=field, exact=True).count() >= 1, field
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "api-docs.png"), full_page=True)
        finally:
            browser.close()
    assert outside == [], f"the docs page asked for {outside}"
    assert openapi_auth[-1] == f"Bearer {TOKEN}"
    assert (ARTIFACTS / "api-docs.png").stat().st_size > 5_000


def test_the_docs_assets_ship_with_the_package() -> None:
    import crawler.service

    folder = Path(crawler.service.__file__).parent
    names = {path.name for path in folder.iterdir()}
    assert {"docs_page.html", "docs_page.js"} <= names  # package data (*.html, *.js): in the wheel too
