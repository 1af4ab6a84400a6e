"""Run a real ``wangzi crawl`` against the fault server and read back what each account got."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import select

from storage.db import session_scope
from storage.models import Account, CrawlRun, FetchFailure, PressMention, ProfileSnapshot
from tests.helpers import REPO, register_candidates, run_wangzi

#: Settings for crawls against the fault server: no politeness toward loopback, short timeouts
#: so a stall costs seconds, backoff short but measurable, retries as in production.
FAST = {
    "DOWNLOAD_DELAY": "0",
    "DOWNLOAD_DELAY_JITTER": "0",
    "AUTOTHROTTLE_ENABLED": "false",
    "CONCURRENT_REQUESTS": "64",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "32",
    # Under the 10 s stall (tests/faults/server.py). Not 2 s: the Taobao Live and Youku parsers read
    # the 1 MB nested page in ~5 s each here (BeautifulSoup builds 66,000 elements) in parse
    # threads that hold the GIL most of that time, and the downloads in flight meanwhile get that
    # much less of the reactor. (TikTok's page of that fault asked a third time in CI was not
    # this but its Chromium attempt: see the navigation timeout below.) A stall costs 3 x 6 s,
    # in parallel.
    "DOWNLOAD_TIMEOUT": "6",
    # Four browser platforms share 2 cores, and the 1 MB nested page is slow for Chromium: here
    # 2 s to DOMContentLoaded and 5.5 s more for page.content() alone, 15 s + 6 s each four at
    # once (the browser cells of that fault run together), and over 45 s to DOMContentLoaded in
    # a CI run with the other test worker busy: TikTok's page timed out and was asked a third
    # time. A stall does not wait for this timeout: the fault server closes a stalled connection
    # after 10 s, Chromium asks once more by itself and then fails with ERR_EMPTY_RESPONSE, so a
    # browser cell of the stall costs 3 x 20 s (a 30 s stall and this timeout made it 3 x 60 s,
    # and the crawl ran past its 240 s; the browser stall cells are the crawl's last requests).
    "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": "120000",
    "RETRY_TIMES": "2",
    # A request refused on a logged-in session (a 429 or code 88 locks the session for that
    # endpoint, a login wall expires it) is asked once more through another session: X's 429
    # cells are then 2 attempts at their URL, never more.
    "WANGZI_PROXY_RETRIES": "1",
    "WANGZI_BACKOFF_BASE": "0.05",
    "WANGZI_BACKOFF_MAX": "2",
}


def secret_env() -> dict[str, str]:
    """A dummy value for every cookie/token setting a spider reads (a spider without its login
    cookie may stop before sending anything, and the fault would never be reached)."""
    names: set[str] = set()
    for module in (REPO / "spiders").glob("*.py"):
        names.update(re.findall(r"WANGZI_[A-Z0-9_]*(?:COOKIE|TOKEN|CT0|API_KEY|SESSIONID)\b", module.read_text(encoding="utf-8")))
    return {name: f"fault-dummy-{name.lower()}" for name in sorted(names) if not name.endswith("_FILE")}


def session_env(cells: dict[str, int]) -> dict[str, str]:
    """Dummy sessions for every platform whose spider rotates logged-in sessions: two per cell
    (``cells``: platform -> number of cells) and one to spare. A cell whose fault is the
    session's (a 429 or code 88 locks it for the endpoint, a login wall expires it) then uses up
    the session it went out through and the one it is asked again through, never the sessions of
    the cells after it: with one shared session every later cell would go unsent and prove
    nothing about how its own fault is stored."""
    from crawler.runner import spider_class

    env = {}
    for platform, count in sorted(cells.items()):
        if not hasattr(spider_class(platform), "platform_sessions"):
            continue
        env[f"WANGZI_{platform.upper()}_SESSIONS"] = json.dumps([
            {"name": f"fault{n:03d}", "auth_token": f"fault-dummy-{platform}-auth-{n:03d}",
             "ct0": f"fault-dummy-{platform}-ct0-{n:03d}", "cookie": f"SUB=fault-dummy-{platform}-cookie-{n:03d}"}
            for n in range(2 * count + 1)])
    return env


def register(database_url: str, platform_tokens: dict[str, list[tuple[str, str]]]) -> None:
    """One candidate per account (platform -> [(input, token)])."""
    for platform in sorted(platform_tokens):
        register_candidates(database_url, platform,
                            [(f"fault {platform} {token}", text) for text, token in platform_tokens[platform]])


def crawl(database_url: str, server_url: str, platforms: list[str], settings: dict[str, str], tmp: Path,
          env: dict[str, str] | None = None, timeout: float = 240):  # type: ignore[no-untyped-def]
    args = ["crawl", "--verbose"]
    for platform in platforms:
        args += ["--platform", platform]
    for name, value in {**FAST, **settings}.items():
        args += ["-s", f"{name}={value}"]
    full_env = {"SCRAPY_SETTINGS_MODULE": "tests.faults.settings", "WANGZI_FAULT_SERVER": server_url,
                "WANGZI_DEAD_LETTER_DIR": str(tmp / "dead-letters"), **secret_env(), **(env or {})}
    return run_wangzi(*args, database_url=database_url, cwd=tmp, env=full_env, timeout=timeout)


@dataclass
class AccountOutcome:
    platform: str
    token: str
    failures: list[FetchFailure] = field(default_factory=list)
    snapshots: list[ProfileSnapshot] = field(default_factory=list)

    @property
    def kinds(self) -> list[str]:
        return sorted({f.kind for f in self.failures})


def outcomes(database_url: str) -> dict[tuple[str, str], AccountOutcome]:
    """(platform, token) -> what the crawl stored for that account."""
    found: dict[tuple[str, str], AccountOutcome] = {}
    with session_scope(database_url) as session:
        accounts = {a.id: a for a in session.exec(select(Account)).all()}
        for account in accounts.values():
            token = (account.handle or account.platform_user_id or "")
            found[(account.platform, token)] = AccountOutcome(account.platform, token)
        for failure in session.exec(select(FetchFailure)).all():
            account = accounts.get(failure.account_id)
            if account is not None:
                session.expunge(failure)
                found[(account.platform, (account.handle or account.platform_user_id or ""))].failures.append(failure)
        for snapshot in session.exec(select(ProfileSnapshot)).all():
            account = accounts[snapshot.account_id]
            session.expunge(snapshot)
            found[(account.platform, (account.handle or account.platform_user_id or ""))].snapshots.append(snapshot)
    return found


def run_stats(database_url: str) -> dict[str, dict]:
    with session_scope(database_url) as session:
        merged: dict[str, dict] = {}
        for run in session.exec(select(CrawlRun)).all():
            merged.update(run.stats or {})
        return merged


def logged_stat(log: str, name: str) -> int:
    """Sum of one Scrapy stat over every spider's stats dump in a --verbose log."""
    return sum(int(v) for v in re.findall(rf"'{re.escape(name)}': (\d+)", log))


def press(database_url: str, server_url: str, name: str, tmp: Path, timeout: float = 240):  # type: ignore[no-untyped-def]
    """``wangzi press NAME --all`` against the fault server (the candidate is added first)."""
    from crawler.cli.candidates import import_rows

    report = import_rows(f"name\n{name}\n", database_url)
    assert not report.errors, report.errors
    env = {"SCRAPY_SETTINGS_MODULE": "tests.faults.settings", "WANGZI_FAULT_SERVER": server_url,
           "WANGZI_DEAD_LETTER_DIR": str(tmp / "dead-letters"), "WANGZI_BACKOFF_BASE": FAST["WANGZI_BACKOFF_BASE"],
           "WANGZI_BACKOFF_MAX": FAST["WANGZI_BACKOFF_MAX"]}
    return run_wangzi("press", name, "--all", database_url=database_url, cwd=tmp, env=env, timeout=timeout)


@dataclass
class PressOutcome:
    failures: list[FetchFailure] = field(default_factory=list)  # the feed failures of the press candidates
    mentions: list[PressMention] = field(default_factory=list)

    @property
    def kinds(self) -> list[str]:
        return sorted({f.kind for f in self.failures})


def press_outcome(database_url: str) -> PressOutcome:
    """What the press runs stored: feed failures (rows naming a candidate) and mentions."""
    found = PressOutcome()
    with session_scope(database_url) as session:
        for failure in session.exec(select(FetchFailure).where(FetchFailure.candidate_id.is_not(None))).all():  # type: ignore[union-attr]
            session.expunge(failure)
            found.failures.append(failure)
        for mention in session.exec(select(PressMention)).all():
            session.expunge(mention)
            found.mentions.append(mention)
    return found
