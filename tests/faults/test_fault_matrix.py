"""The fault matrix: every platform spider that exists, run for real (Scrapy's download path,
Chromium for browser sources) against a loopback server answering with each way platforms
fail. One crawl covers the whole matrix: every (fault, platform) cell is its own account.
Platforms that rotate logged-in sessions (X, Weibo) get sessions enough for every cell
(:func:`tests.faults.crawl.session_env`): a fault that locks or expires a session (429, code
88, a login wall) is the session's, so it must not keep the cells after it from being sent.

Per cell we assert: the stored failure kind is the right one, the server saw the retries the
settings ask for (and waited the Retry-After), and no snapshot was written. The matrix is
printed (``-rA`` / ``-s``) and written to ``test-artifacts/fault-matrix.md``.

The press spider gets its own row, run as ``wangzi press`` against the same server: a GDELT
answer listing hostile URLs (loopback, metadata, private, ``file:``, credentials, a name that
resolves into the local network, an article that redirects to the metadata service) must give
one ``refused`` failure per URL, no mention, and no request to any of them.

A second crawl checks the circuit breaker: a platform that keeps refusing is paused while
another platform of the same crawl carries on.
"""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from records import PLATFORMS
from storage.db import upgrade
from spiders.pages import gdelt
from tests.faults.catalogue import PRESS_NAME, SSRF_REDIRECT, SSRF_URLS, Fault, account_input, faults_for, press_faults
from tests.faults.crawl import crawl, logged_stat, outcomes, press, press_outcome, register, run_stats, session_env
from tests.faults.server import FaultServer, Routes, fixture_answer, fixture_cases, success_fallbacks
from tests.helpers import REPO

# The matrix is built once, in the setup of the module's first test, and pytest-timeout counts
# that setup against the test: the crawl (up to 360 s) and the press run (up to 240 s) may take
# longer than the suite's 300 s per test. A full CI run took 220 s for both.
pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.timeout(900)]

ARTIFACT = REPO / "test-artifacts" / "fault-matrix.md"


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("faults")
    database_url = f"sqlite:///{tmp / 'wangzi.db'}"
    upgrade(database_url)
    platforms = list(PLATFORMS)
    routes = Routes(fallback=success_fallbacks(platforms))
    cells: dict[tuple[str, str], tuple[Fault, str]] = {}  # (platform, fault name) -> (fault, token)
    accounts: dict[str, list[tuple[str, str]]] = defaultdict(list)
    number = 0
    for platform in platforms:
        for fault in faults_for(platform):
            number += 1
            text, token = account_input(platform, number)
            routes.tokens[token] = fault.answer
            if fault.page:
                routes.pages[fault.page[0]] = fault.page[1]
            cells[(platform, fault.name)] = (fault, token)
            accounts[platform].append((text, token))
    register(database_url, accounts)
    (press_fault,) = press_faults()
    routes.pages[gdelt.search_url(f'"{PRESS_NAME}"')] = press_fault.answer
    if press_fault.page:
        routes.pages[press_fault.page[0]] = press_fault.page[1]
    with FaultServer(routes) as server:
        started = time.monotonic()
        process = crawl(database_url, server.base_url, platforms, {"WANGZI_CIRCUIT_ENABLED": "false"}, tmp,
                        env=session_env({p: len(tokens) for p, tokens in accounts.items()}), timeout=360)
        seconds = time.monotonic() - started
        hits = server.hits
        searched = press(database_url, server.base_url, PRESS_NAME, tmp)
        press_hits = server.hits[len(hits):]
    log = process.stdout + process.stderr
    assert process.returncode in (0, 1), log[-3000:]
    return {"cells": cells, "outcomes": outcomes(database_url), "hits": hits, "log": log, "seconds": seconds,
            "platforms": platforms, "stats": run_stats(database_url),
            "press": {"fault": press_fault, "outcome": press_outcome(database_url), "hits": press_hits,
                      "process": searched}}


def _hits_by_url(matrix: dict[str, Any], token: str) -> dict[str, list[float]]:
    found: dict[str, list[float]] = defaultdict(list)
    for hit in matrix["hits"]:
        if hit.token == token:
            found[hit.url].append(hit.at)
    return found


def _not_applicable(matrix: dict[str, Any], fault: Fault, token: str) -> bool:
    """A fixture answer for an endpoint the spider does not ask first (e.g. an API error served
    to a browser page) says nothing about the spider: the cell is shown as n/a."""
    if fault.endpoint is None:
        return False
    first = next((hit.url for hit in matrix["hits"] if hit.token == token), None)
    outcome = next(o for (p, t), o in matrix["outcomes"].items() if t == token)
    right = bool(outcome.kinds) and set(outcome.kinds) <= fault.accept
    return first is not None and urlsplit(first).path != fault.endpoint and not right


#: Wrong verdicts found by the matrix in other modules, reported to their owners. Strict: a
#: listed cell that starts passing fails the test until its entry is removed.
KNOWN_BUGS: dict[tuple[str, str], str] = {}


def _cell_problems(matrix: dict[str, Any], platform: str, fault: Fault, token: str) -> list[str]:
    outcome = matrix["outcomes"][(platform, token)]
    if _not_applicable(matrix, fault, token):
        return [] if not outcome.snapshots else ["wrote a snapshot"]
    problems = _raw_problems(matrix, platform, fault, token, outcome)
    known = KNOWN_BUGS.get((platform, fault.name))
    if known and not outcome.snapshots:
        return [] if problems else [f"fixed? remove the KNOWN_BUGS entry ({known})"]
    return problems


def _raw_problems(matrix: dict[str, Any], platform: str, fault: Fault, token: str, outcome: Any) -> list[str]:
    problems = []
    if outcome.snapshots:
        problems.append(f"wrote {len(outcome.snapshots)} snapshot(s): followers={[s.followers for s in outcome.snapshots]}")
    if not outcome.failures:
        problems.append("stored no failure")
    wrong = set(outcome.kinds) - fault.accept
    if wrong:
        details = "; ".join(f"{f.kind}: {f.detail[:80]}" for f in outcome.failures if f.kind in wrong)
        problems.append(f"kinds {sorted(wrong)} not in {sorted(fault.accept)} ({details})")
    if not _hits_by_url(matrix, token):
        problems.append("no request reached the server")
    return problems


def _outcome_text(matrix: dict[str, Any], platform: str, fault: Fault, token: str) -> str:
    outcome = matrix["outcomes"][(platform, token)]
    attempts = max((len(v) for v in _hits_by_url(matrix, token).values()), default=0)
    if _not_applicable(matrix, fault, token):
        return "n/a"
    text = "/".join(outcome.kinds) or "NOTHING"
    if outcome.snapshots:
        text += " + SNAPSHOT"
    if attempts > 1:
        text += f" ({attempts}x)"
    if (platform, fault.name) in KNOWN_BUGS and not _cell_problems(matrix, platform, fault, token):
        return f"**{text}** ✗ (known bug)"
    return text if not _cell_problems(matrix, platform, fault, token) else f"**{text}** ✗"


def _last_cells(matrix: dict[str, Any], count: int = 5) -> str:
    """The cells whose last request came latest, seconds after the crawl's first request: what
    the crawl's length is made of when it nears its time limit."""
    if not matrix["hits"]:
        return "none"
    first = min(hit.at for hit in matrix["hits"])
    cell_of = {token: cell for cell, (_, token) in matrix["cells"].items()}
    last: dict[tuple[str, str], float] = {}
    for hit in matrix["hits"]:
        if hit.token in cell_of:
            last[cell_of[hit.token]] = max(last.get(cell_of[hit.token], 0.0), hit.at - first)
    latest = sorted(last.items(), key=lambda item: -item[1])[:count]
    return ", ".join(f"{platform} x {name} +{at:.0f} s" for (platform, name), at in latest)


def _matrix_markdown(matrix: dict[str, Any]) -> str:
    platforms = matrix["platforms"]
    names: list[str] = []
    for platform in platforms:
        for fault in faults_for(platform):
            if fault.name not in names:
                names.append(fault.name)
    lines = ["# Fault matrix (fault x platform -> stored outcome)", "",
             "Generated by `pytest tests/faults/test_fault_matrix.py`. `(3x)`: the server saw 3 attempts per URL "
             "(RETRY_TIMES=2). `-`: the platform has no such code. n/a: the platform's sample is for an endpoint "
             "the spider does not ask first. ✗: unexpected.", "",
             "| fault | " + " | ".join(platforms) + " |", "|---|" + "---|" * len(platforms)]
    for name in names:
        row = []
        for platform in platforms:
            cell = matrix["cells"].get((platform, name))
            row.append(_outcome_text(matrix, platform, *cell) if cell else "-")
        lines.append(f"| {name} | " + " | ".join(row) + " |")
    for (platform, name), why in KNOWN_BUGS.items():
        lines.append(f"\nKnown bug, {platform} x {name}: {why}.")
    press_fault, problems = matrix["press"]["fault"], _press_problems(matrix)
    kinds = "/".join(matrix["press"]["outcome"].kinds) or "NOTHING"
    count = len(matrix["press"]["outcome"].failures)
    lines += ["", "| press fault | press |", "|---|---|",
              f"| {press_fault.name} | {kinds} ({count} URLs, no mention, none asked)"
              + (f" **✗** {'; '.join(problems)}" if problems else "") + " |"]
    retries = logged_stat(matrix["log"], "retry/count")
    lines += ["", f"Scrapy `retry/count` over the crawl: {retries}; the crawl took {matrix['seconds']:.0f} s, "
              f"its last requests: {_last_cells(matrix)}."]
    return "\n".join(lines) + "\n"


def test_matrix_is_reported(matrix: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    text = _matrix_markdown(matrix)
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(text, encoding="utf-8")
    with capsys.disabled():
        print("\n" + text)
    assert "NOTHING" not in text.replace("`NOTHING`", "")


def test_every_fault_is_stored_as_its_typed_failure_and_never_as_a_snapshot(matrix: dict[str, Any]) -> None:
    problems = [
        f"{platform} x {fault.name}: {problem}"
        for (platform, _), (fault, token) in matrix["cells"].items()
        for problem in _cell_problems(matrix, platform, fault, token)
    ]
    assert not problems, "\n".join(problems)


def test_every_request_of_the_matrix_was_sent(matrix: dict[str, Any]) -> None:
    """A request no session could carry is counted in the run's statistics (``unsent``): in the
    matrix every cell has sessions of its own, so none may be left unsent."""
    unsent = {platform: stats["unsent"] for platform, stats in matrix["stats"].items()
              if isinstance(stats, dict) and stats.get("unsent")}
    assert unsent == {}
    assert "not sent: no session" not in matrix["log"]


def test_every_failure_kind_of_the_data_model_is_produced(matrix: dict[str, Any]) -> None:
    """Coverage of FailureKind by real crawls: each kind is stored for at least one cell
    (kinds no platform produces would show here as missing)."""
    from records import FailureKind

    stored = {kind for outcome in matrix["outcomes"].values() for kind in outcome.kinds}
    stored |= set(matrix["press"]["outcome"].kinds)  # refused: the press row
    assert {k.value for k in FailureKind} - stored == set()
    assert {k.value for k in FailureKind} == {"rate_limited", "blocked", "captcha", "login_required", "not_found",
                                               "private", "unrecognized", "http_error", "network", "refused"}


def _press_problems(matrix: dict[str, Any]) -> list[str]:
    outcome, hits = matrix["press"]["outcome"], matrix["press"]["hits"]
    problems = []
    if outcome.mentions:
        problems.append(f"stored {len(outcome.mentions)} mention(s): {[m.url for m in outcome.mentions]}")
    refused = {f.url for f in outcome.failures if f.kind == "refused"}
    if refused != set(SSRF_URLS):
        problems.append(f"refused {sorted(refused)}, expected {sorted(SSRF_URLS)}")
    if {f.kind for f in outcome.failures} - {"refused"}:
        problems.append(f"other failures: {[(f.kind, f.url) for f in outcome.failures if f.kind != 'refused']}")
    hostile = {urlsplit(url).netloc for url in SSRF_URLS if url != SSRF_REDIRECT} - {""} | {"169.254.169.254"}
    asked = [hit.url for hit in hits if urlsplit(hit.url).netloc in hostile]
    if asked:
        problems.append(f"the server was asked {asked}")
    return problems


def test_a_feed_listing_hostile_urls_gives_refused_failures_no_mention_and_no_request(matrix: dict[str, Any]) -> None:
    process = matrix["press"]["process"]
    assert process.returncode == 1, process.stderr[-3000:]  # failures of the feed were printed
    assert not _press_problems(matrix), (_press_problems(matrix), process.stderr[-3000:])
    redirect = next(f for f in matrix["press"]["outcome"].failures if f.url == SSRF_REDIRECT)
    assert "169.254.169.254" in redirect.detail  # refused on the redirect hop, after the public page answered
    assert any(hit.url == SSRF_REDIRECT for hit in matrix["press"]["hits"])
    private = next(f for f in matrix["press"]["outcome"].failures if "intranet" in f.url)
    assert "10.0.0.7" in private.detail  # refused after resolution


def test_retries_follow_the_settings(matrix: dict[str, Any]) -> None:
    """RETRY_TIMES=2: three attempts per URL for 429/5xx, one for answers that are not retried
    (times the number of sources that ask the same URL, e.g. an HTTP source and a browser one)."""
    problems = []
    expected_retries = 0
    for (platform, name), (fault, token) in matrix["cells"].items():
        if fault.answer.action != "respond":
            continue
        for url, times in _hits_by_url(matrix, token).items():
            want = 3 if fault.retried else 1
            expected_retries += (want - 1) * (len(times) // want)
            if len(times) % want or (not fault.retried and len(times) > 2):
                start = min(times)
                said = [line for line in matrix["log"].splitlines() if url in line][:6]
                problems.append(f"{platform} x {name}: {len(times)} attempts at {url[:80]}, expected {want} "
                                f"(at +{', +'.join(f'{at - start:.1f} s' for at in sorted(times))}); the log on it:\n  "
                                + "\n  ".join(line[:300] for line in said))
    assert not problems, "\n".join(problems)
    assert logged_stat(matrix["log"], "retry/count") >= expected_retries


def test_retry_after_is_waited_and_backoff_is_exponential_otherwise(matrix: dict[str, Any]) -> None:
    for (platform, name), (fault, token) in matrix["cells"].items():
        if name == "429 + Retry-After" and fault.retried:  # X, Instagram: one attempt, nothing to wait
            for url, times in _hits_by_url(matrix, token).items():
                gaps = [b - a for a, b in zip(times, times[1:])]
                assert gaps and min(gaps) >= 0.9, f"{platform}: Retry-After: 1 not waited at {url}: {gaps}"
    assert logged_stat(matrix["log"], "wangzi/backoff_seconds") >= 0


def test_network_faults_are_retried_then_stored_as_network(matrix: dict[str, Any]) -> None:
    for (platform, name), (fault, token) in matrix["cells"].items():
        if name in {"10 s stall", "connection reset"}:
            outcome = matrix["outcomes"][(platform, token)]
            assert outcome.kinds == ["network"], (platform, name, outcome.kinds)
            attempts = max(len(v) for v in _hits_by_url(matrix, token).values())
            assert attempts >= 2, f"{platform} x {name}: not retried ({attempts} attempt)"


# --------------------------------------------------------------------------- circuit breaker


def _good_answer(platform: str) -> tuple[Any, str] | None:
    """A successful fixture answer for the platform's first source, with its account token."""
    for name, meta, expected, payload in fixture_cases(platform):
        if isinstance(expected, dict) and "error" not in expected and expected.get("followers") is not None:
            return fixture_answer(meta, payload), name
    return None


def test_a_platform_that_keeps_refusing_is_paused_while_another_carries_on(tmp_path: Path) -> None:
    refusing, healthy = "instagram", "x"
    database_url = f"sqlite:///{tmp_path / 'wangzi.db'}"
    upgrade(database_url)
    routes = Routes()
    accounts: dict[str, list[tuple[str, str]]] = {refusing: [], healthy: []}
    blocked = fixture_answer(*next((m, p) for n, m, e, p in fixture_cases(refusing) if n == "rate_limited_401_please_wait"))
    good = fixture_answer(*next((m, p) for n, m, e, p in fixture_cases(healthy) if n == "user_by_screen_name_2026_05_core_legacy"))
    for number in range(1, 13):
        for offset, platform, answer in ((0, refusing, blocked), (100, healthy, good)):
            text, token = account_input(platform, offset + number)
            routes.tokens[token] = answer
            accounts[platform].append((text, token))
    register(database_url, accounts)
    with FaultServer(routes) as server:
        process = crawl(database_url, server.base_url, [refusing, healthy],
                        {"WANGZI_CIRCUIT_THRESHOLD": "3", "WANGZI_CIRCUIT_COOLDOWN": "600",
                         "CONCURRENT_REQUESTS_PER_DOMAIN": "1", "CONCURRENT_REQUESTS": "4"}, tmp_path)
        hits = server.hits
    log = process.stdout + process.stderr
    assert process.returncode in (0, 1), log[-3000:]
    found = outcomes(database_url)
    refused = [found[(refusing, t)] for _, t in accounts[refusing]]
    paused = [o for o in refused if any(f.detail.startswith("circuit open") for f in o.failures)]
    assert len(paused) >= 6, [o.kinds for o in refused]
    # An account caught mid-chain keeps its first source's verdict, then "circuit open".
    assert all("blocked" in o.kinds and set(o.kinds) <= {"blocked", "rate_limited"} for o in paused), [o.kinds for o in paused]
    assert all(not o.snapshots for o in refused)
    # Paused accounts sent nothing: far fewer requests than 12 accounts x 2 sources.
    sent = sum(1 for h in hits if h.token in {t for _, t in accounts[refusing]})
    untouched = [o for o in paused if o.kinds == ["blocked"]]
    assert len(untouched) >= 1 and sent <= 24 - 2 * len(untouched), (sent, len(untouched))
    # The healthy platform carried on: every account has its snapshot.
    healthy_outcomes = [found[(healthy, t)] for _, t in accounts[healthy]]
    assert all(len(o.snapshots) == 1 for o in healthy_outcomes), [(o.kinds, len(o.snapshots)) for o in healthy_outcomes]
    assert "circuit open" in log
