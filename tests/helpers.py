"""Test helpers: run the real CLI in a subprocess and read what it stored.

Crawls run in subprocesses because Scrapy's reactor cannot restart in one process; that
is also exactly how users run them.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from sqlmodel import select

from crawler.replay import Exchange, write_har  # noqa: F401 - re-exported for tests
from storage.db import session_scope
from storage.models import Account, AccountLink, CrawlRun, FetchFailure, Post, PostSnapshot, ProfileSnapshot

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"


def run_wangzi(
    *args: str, database_url: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    """``wangzi ARGS`` with DATABASE_URL set; returns the finished process (check .returncode)."""
    full_env = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(REPO), "COLUMNS": "200", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "crawler.cli", *args],
        cwd=cwd or REPO, env=full_env, capture_output=True, text=True, timeout=timeout,
    )


def fixture_exchange(platform: str, case: str, *, url: str | None = None, status: int | None = None,
                     headers: dict[str, str] | None = None) -> Exchange:
    """An exchange answering with a fixture's payload (its meta.json url/status unless given)."""
    folder = FIXTURES / platform / case
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    (payload,) = [p for p in folder.iterdir() if p.name.startswith("response.")]
    return Exchange(url=url or meta["url"], status=status or meta.get("status", 200), body=payload.read_bytes(),
                    headers=headers or {})


def crawl_replayed(tmp_path: Path, database_url: str, platform: str, account: str, exchanges: list[Exchange],
                   *args: str, name: str = "Someone", env: dict[str, str] | None = None) -> str:
    """Register ``name`` with one account, ``wangzi crawl --platform PLATFORM`` it from a
    recording of ``exchanges``; returns the crawl's output (exit 0 or 1 asserted)."""
    har = write_har(tmp_path / f"{platform}.har", exchanges)
    added = run_wangzi("candidates", "add", name, f"--{platform.replace('_', '-')}", account, database_url=database_url)
    assert added.returncode == 0, added.stderr
    crawled = run_wangzi("crawl", "--platform", platform, "--replay", str(har), *args, database_url=database_url, env=env)
    assert crawled.returncode in (0, 1), crawled.stderr
    return crawled.stdout + crawled.stderr


def register_candidates(database_url: str, platform: str, people: list[tuple[str, str]]) -> None:
    """Register each (name, account) on ``platform`` through the CSV import ``wangzi candidates
    import`` runs (:func:`crawler.candidates_csv.import_rows`), in this process: a set-up step,
    not a process to start per candidate."""
    from crawler.candidates_csv import import_rows

    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["name", platform])
    writer.writerows(people)
    report = import_rows(text.getvalue(), database_url)
    assert not report.errors and len(report.added) == len(people), (report.errors, report.added)


def account_links(database_url: str) -> list[str]:
    """Stored profile links, in the order they were stored."""
    with session_scope(database_url) as session:
        return [link.url for link in session.exec(select(AccountLink).order_by(AccountLink.id)).all()]


def snapshots(database_url: str) -> list[tuple[Account, ProfileSnapshot]]:
    with session_scope(database_url) as session:
        return list(session.exec(select(Account, ProfileSnapshot).join(ProfileSnapshot)).all())


def failures(database_url: str) -> list[FetchFailure]:
    with session_scope(database_url) as session:
        return list(session.exec(select(FetchFailure).order_by(FetchFailure.id)).all())


def runs(database_url: str) -> list[CrawlRun]:
    with session_scope(database_url) as session:
        return list(session.exec(select(CrawlRun).order_by(CrawlRun.id)).all())


def posts(database_url: str) -> list[tuple[Post, PostSnapshot]]:
    with session_scope(database_url) as session:
        return list(session.exec(select(Post, PostSnapshot).join(PostSnapshot)).all())


def json_output(process: subprocess.CompletedProcess[str]) -> Any:
    assert process.stdout.strip(), f"no output; stderr:\n{process.stderr}"
    return json.loads(process.stdout)


def project_crawler(spider_cls: type[Any], settings: dict[str, Any] | None = None) -> Any:
    """A crawler with the project's settings (``crawler/settings.py``) plus ``settings``, for
    unit tests of spiders and components: they read their settings with no defaults of their
    own, so a crawler with Scrapy's settings alone would switch them off or misconfigure them."""
    from scrapy.settings import BaseSettings
    from scrapy.utils.test import get_crawler

    project = BaseSettings()
    project.setmodule("crawler.settings", priority="project")
    values = {**project.copy_to_dict(), **(settings or {})}
    values["TWISTED_REACTOR_ENABLED"] = False  # no reactor runs in a unit test; nothing is downloaded
    return get_crawler(spider_cls, values)


def make_spider(spider_cls: type[Any], settings: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """A spider built the way Scrapy builds one (``from_crawler``, the project's settings plus
    ``settings``), for unit tests of ``sources()`` and ``next_sources()``: the spider reads its
    settings (``WANGZI_RECENT_POSTS`` ...) with no defaults of its own."""
    return spider_cls.from_crawler(project_crawler(spider_cls, settings), **kwargs)


def refuse_inserts_named(database_url: str, name: str) -> None:
    """A trigger that makes the database itself refuse one candidate name (a stand-in for any
    error the database raises on one row: a constraint, a value it cannot store, a server
    hiccup), on SQLite and PostgreSQL."""
    from sqlalchemy import text

    from storage.db import get_engine

    with get_engine(database_url).begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text(
                "CREATE FUNCTION refuse_candidate() RETURNS trigger AS $$ BEGIN "
                f"IF NEW.display_name = '{name}' THEN RAISE EXCEPTION 'refused by the test trigger'; END IF; "
                "RETURN NEW; END $$ LANGUAGE plpgsql"))
            connection.execute(text("CREATE TRIGGER refuse BEFORE INSERT ON candidate FOR EACH ROW EXECUTE FUNCTION refuse_candidate()"))
        else:
            connection.execute(text(
                f"CREATE TRIGGER refuse BEFORE INSERT ON candidate WHEN NEW.display_name = '{name}' "
                "BEGIN SELECT RAISE(ABORT, 'refused by the test trigger'); END"))
