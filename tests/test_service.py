"""The HTTP service: bearer auth on every route but /health, request limits, validated
handles (never an arbitrary URL), lookups run in worker subprocesses and reported per
platform, candidates and features read back, OpenAPI docs."""

from __future__ import annotations

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
from fastapi.testclient import TestClient

from records import AccountRef
from crawler.service.app import create_app
from storage.candidates import add_candidate
from storage.db import session_scope
from storage.models import FeatureRanking, FeatureSnapshot, utcnow
from tests.helpers import REPO

TOKEN = "test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(database_url, token=TOKEN, workers=1)) as test_client:
        yield test_client


def test_health_needs_no_token_and_says_the_database_answers(client: TestClient) -> None:
    answer = client.get("/health")
    assert answer.status_code == 200
    assert answer.json()["status"] == "ok" and answer.json()["queued"] == 0


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/candidates"), ("GET", "/candidates/1"), ("GET", "/candidates/1/features"), ("POST", "/lookups"),
     ("GET", "/lookups/abc")],
)
def test_every_other_route_needs_the_bearer_token(client: TestClient, method: str, path: str) -> None:
    assert client.request(method, path).status_code == 401
    wrong = client.request(method, path, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.headers["WWW-Authenticate"] == "Bearer"
    assert client.request(method, path, headers=AUTH).status_code != 401


def test_the_service_refuses_to_start_without_a_token(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WANGZI_API_TOKEN", raising=False)
    with pytest.raises(ValueError, match="WANGZI_API_TOKEN"):
        create_app(database_url)


def test_what_the_app_holds_at_startup_is_kept_out_of_the_collectors_sight_until_shutdown(database_url: str) -> None:
    import gc

    assert gc.get_freeze_count() == 0
    with TestClient(create_app(database_url, token=TOKEN, workers=1)) as served:
        assert gc.get_freeze_count() > 10_000  # the framework, SQLAlchemy, the modules
        assert served.get("/health").status_code == 200
    assert gc.get_freeze_count() == 0  # a process building many apps can collect the old ones


def test_bodies_over_the_limit_are_refused_with_413(database_url: str) -> None:
    with TestClient(create_app(database_url, token=TOKEN, max_body=1024)) as small:
        big = {"name": "x" * 2000, "handles": {"bilibili": "2"}}
        assert small.post("/lookups", json=big, headers=AUTH).status_code == 413

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
            for _ in range(10):
                yield b" " * 200

        streamed = small.post("/lookups", content=chunks(), headers={**AUTH, "Content-Type": "application/json"})
        assert streamed.status_code == 413


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "either candidate_id, or name with handles"),
        ({"name": "A"}, "a name needs handles"),
        ({"candidate_id": 1, "name": "A", "handles": {"bilibili": "2"}}, "either candidate_id"),
        ({"name": "A", "handles": {"myspace": "tom"}}, "unknown platform 'myspace'"),
        ({"name": "A", "handles": {"bilibili": "x" * 301}}, "at most 300"),
    ],
)
def test_malformed_lookup_requests_get_422_with_the_reason(client: TestClient, body: dict[str, Any], message: str) -> None:
    answer = client.post("/lookups", json=body, headers=AUTH)
    assert answer.status_code == 422
    assert message in answer.text


def test_an_unknown_candidate_or_lookup_is_404(client: TestClient) -> None:
    assert client.post("/lookups", json={"candidate_id": 999}, headers=AUTH).status_code == 404
    assert client.get("/lookups/00000000-0000-0000-0000-000000000000", headers=AUTH).status_code == 404


def test_candidates_are_listed_with_their_accounts(client: TestClient, database_url: str) -> None:
    with session_scope(database_url) as session:
        add_candidate(session, "碧诗", aliases=["Bishi"], accounts=[AccountRef("bilibili", platform_user_id="2")])
        add_candidate(session, "Other")
    listed = client.get("/candidates", headers=AUTH).json()
    assert [c["display_name"] for c in listed] == ["碧诗", "Other"]
    assert listed[0]["accounts"][0]["platform_user_id"] == "2"
    assert client.get("/candidates?limit=1&offset=1", headers=AUTH).json()[0]["display_name"] == "Other"
    assert client.get(f"/candidates/{listed[0]['id']}", headers=AUTH).json()["aliases"] == ["Bishi"]
    assert client.get("/candidates?limit=5000", headers=AUTH).status_code == 422


def test_features_are_read_from_the_feature_table_or_404_with_a_reason(client: TestClient, database_url: str) -> None:
    with session_scope(database_url) as session:
        candidate_id = add_candidate(session, "碧诗").id
    answer = client.get(f"/candidates/{candidate_id}/features", headers=AUTH)
    assert answer.status_code == 404 and "no features computed yet" in answer.json()["detail"]
    with session_scope(database_url) as session:
        session.add(FeatureSnapshot(candidate_id=candidate_id, as_of=utcnow(), schema_version="test", followers_total=1234))
    features = client.get(f"/candidates/{candidate_id}/features", headers=AUTH)
    assert features.status_code == 200, features.text
    assert features.json()["followers_total"] == 1234 and features.json()["candidate_id"] == candidate_id
    assert client.get("/candidates/999/features", headers=AUTH).status_code == 404


def test_openapi_documents_the_routes_and_the_bearer_scheme(client: TestClient) -> None:
    assert client.get("/openapi.json").status_code == 401  # the document is behind the token
    assert client.get("/docs").status_code == 200  # the page holds no data: it asks for the token (test_api_docs)
    spec = client.get("/openapi.json", headers=AUTH).json()
    assert {"/lookups", "/lookups/{job_id}", "/candidates", "/candidates/{candidate_id}/features", "/health"} <= set(spec["paths"])
    assert any(s.get("scheme") == "bearer" for s in spec["components"]["securitySchemes"].values())


# --------------------------------------------------------------------------- real lookups (Bilibili, replayed)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[tuple[httpx.Client, str, str]]:
    """`wangzi serve` as users start it: a real process on a loopback port, one lookup worker,
    crawling from a recording (of Bilibili account 2 once that spider exists).
    Yields (client, platform, handle)."""
    from tests.ops_recording import account_ref, account_text, accounts_recording, ops_platform

    platform = ops_platform()
    handle = account_text(platform, 2)
    har = accounts_recording(tmp_path / "lookup.har", platform, [account_ref(platform, 2)])
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(REPO), "WANGZI_API_TOKEN": TOKEN}
    process = subprocess.Popen(
        [sys.executable, "-m", "crawler.cli", "serve", "--port", str(port), "--workers", "1", "--replay", str(har)],
        env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
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
        with httpx.Client(base_url=base, headers=AUTH, timeout=10) as http:
            yield http, platform, handle
    finally:
        process.terminate()
        process.communicate(timeout=30)


def _wait(http: httpx.Client, job_id: str, seen: dict[str, set[str]] | None = None) -> dict[str, Any]:
    deadline = time.monotonic() + 180
    while True:
        body = http.get(f"/lookups/{job_id}").json()
        if seen is not None:
            seen.setdefault(body["status"], set()).add(job_id)
        if body["status"] in {"finished", "failed"}:
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.2)


@pytest.mark.slow
def test_a_lookup_by_name_and_handle_runs_in_a_worker_and_reports_per_platform(served: tuple[httpx.Client, str, str]) -> None:
    http, platform, handle = served
    accepted = http.post("/lookups", json={"name": "碧诗", "handles": {platform: handle}})
    assert accepted.status_code == 202, accepted.text
    job = accepted.json()
    assert accepted.headers["Location"] == job["url"] == f"/lookups/{job['id']}"
    second = http.post("/lookups", json={"candidate_id": job["candidate_id"]}).json()

    deadline = time.monotonic() + 180
    while True:
        states = {j: http.get(f"/lookups/{j}").json()["status"] for j in (job["id"], second["id"])}
        if all(s in {"finished", "failed"} for s in states.values()):
            break
        assert time.monotonic() < deadline, states
        time.sleep(0.1)
    # One worker: the second lookup waited in the queue while the first ran. Read from the jobs'
    # own times (two status requests in a row can see the first still running and the second
    # already started, when the first finished between them).
    first, then = http.get(f"/lookups/{job['id']}").json(), http.get(f"/lookups/{second['id']}").json()
    assert then["started_at"] >= first["finished_at"], (first, then)

    result = _wait(http, job["id"])
    assert result["status"] == "finished", result
    answered = result["platforms"][platform]
    assert answered["profiles"] and answered["profiles"][0]["followers"] is not None
    assert result["run_id"] is not None
    listed = http.get("/candidates").json()
    assert [c["display_name"] for c in listed] == ["碧诗"]
    assert listed[0]["accounts"][0]["platform"] == platform


def test_a_handle_that_is_an_arbitrary_url_is_refused(client: TestClient) -> None:
    from tests.ops_recording import ops_platform

    platform = ops_platform()  # skips until a platform spider exists
    http = client
    http.headers.update(AUTH)
    for text in ("https://evil.example/steal?x=1", "http://127.0.0.1:6379/", "file:///etc/passwd"):
        answer = http.post("/lookups", json={"name": "Eve", "handles": {platform: text}})
        assert answer.status_code == 422, (text, answer.text)
        assert f"{platform} handle" in answer.json()["detail"]
    assert http.get("/candidates").json() == []


def test_features_answer_every_export_column_as_strict_json_with_the_explanation(client: TestClient, database_url: str) -> None:
    """The documented export columns (a value not known is null, never missing; a non-finite
    number stored by an old ranking is null, not Infinity) and what ``wangzi explain`` shows."""
    from enrichment.schema import EXPORT_COLUMNS

    with session_scope(database_url) as session:
        candidate_id = add_candidate(session, "碧诗").id
        session.add(FeatureSnapshot(candidate_id=candidate_id, as_of=utcnow(), schema_version="2",
                                    features={"followers_total": 5}, ranking=FeatureRanking(composite_index=float("inf"))))
    answer = client.get(f"/candidates/{candidate_id}/features", headers=AUTH)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert {spec.name for spec in EXPORT_COLUMNS} <= set(body)
    assert body["followers_total"] == 5 and body["composite_index"] is None and body["press_365d"] is None
    assert body["display_name"] == "碧诗" and body["active"] is True
    assert isinstance(body["explain"], dict) and body["explain"]
