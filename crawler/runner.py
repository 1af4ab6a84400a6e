"""Run spiders in this process for the CLI: one ``CrawlerProcess``, one ``CrawlRun``.

Scrapy's reactor cannot be restarted in a process, so each ``wangzi`` command runs at
most one crawl; the HTTP service and tests start crawls in subprocesses.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.settings import Settings
from scrapy.spiderloader import SpiderLoader
from scrapy.utils.project import get_project_settings

from crawler.logging import install_json_logging
from crawler.replay import Recording
from records import AccountRef
from storage.db import database_url as resolve_url
from storage.db import session_scope
from storage.runs import RUN_HEARTBEAT, beat_run, finish_run, interrupt_dead_runs, start_run

logger = logging.getLogger(__name__)

#: Settings replaced when a crawl is served from a recording: politeness toward loopback
#: only slows tests and the demo down. Applied above spiders' own custom_settings.
REPLAY_SETTINGS: dict[str, Any] = {
    "DOWNLOAD_DELAY": 0,
    "DOWNLOAD_DELAY_JITTER": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "CONCURRENT_REQUESTS": 32,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
    "WANGZI_BACKOFF_BASE": 0.05,
    "WANGZI_BACKOFF_MAX": 0.5,
    "ROBOTSTXT_OBEY": False,
}


def crawl_settings(overrides: dict[str, Any] | None = None) -> Settings:
    """Project settings, then ``WANGZI_*``/Scrapy setting names from the environment, then overrides."""
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.settings")
    settings = get_project_settings()
    for name, value in os.environ.items():
        if name.startswith("WANGZI_") and name in settings:
            settings.set(name, value, priority="cmdline")
    for name, value in (overrides or {}).items():
        settings.set(name, value, priority="cmdline")
    return settings


def spider_class(platform: str, settings: Settings | None = None) -> type:
    return SpiderLoader.from_settings(settings or crawl_settings()).load(platform)


def run_crawl(
    targets: dict[str, list[AccountRef]],
    *,
    trigger: str,
    database_url: str | None = None,
    replay: str | Path | None = None,
    record: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
    extra_spiders: list[tuple[str, dict[str, Any]]] | None = None,
    run_id: int | None = None,
    due: dict[str, dict[int, frozenset[str]]] | None = None,
) -> int:
    """Crawl the given accounts (platform -> refs) as one run; returns the run id.

    ``extra_spiders`` are (spider name, spider kwargs) run in the same process and run,
    e.g. the press spider during a lookup. ``run_id`` continues a run the caller already
    started (``crawl --due`` claims its leases under the run before crawling). ``due``: per platform, the refresh kinds
    due per account id (``crawl --due``): each spider then asks only the endpoints of those kinds.
    """
    url = resolve_url(database_url)
    if run_id is None:
        with session_scope(url) as session:
            interrupt_dead_runs(session)
            run_id = start_run(session, trigger).id
    values: dict[str, Any] = {"WANGZI_RUN_ID": run_id, "WANGZI_DATABASE_URL": url, "WANGZI_TRIGGER": trigger}
    if replay:
        Recording.load(replay)  # fail early, with a clear message, on a bad file
        values.update(REPLAY_SETTINGS)
        values["WANGZI_REPLAY"] = str(replay)
    if record:
        values["WANGZI_RECORD"] = str(record)
        Path(record).unlink(missing_ok=True)
    values.update(overrides or {})
    settings = crawl_settings(values)

    if settings.getbool("WANGZI_LOG_JSON"):
        settings.set("LOG_ENABLED", False, priority="cmdline")  # Scrapy's text handler off; ours on
        install_json_logging(settings.get("LOG_LEVEL"))
    process = CrawlerProcess(settings)
    crawlers: list[Crawler] = []
    loader = SpiderLoader.from_settings(settings)
    for platform, refs in targets.items():
        if not refs:
            continue
        crawler = process.create_crawler(loader.load(platform))
        crawlers.append(crawler)
        process.crawl(crawler, targets=refs, due=(due or {}).get(platform))
    for name, kwargs in extra_spiders or []:
        crawler = process.create_crawler(loader.load(name))
        crawlers.append(crawler)
        process.crawl(crawler, **kwargs)
    heartbeat = RunHeartbeat(url, run_id)
    status = "finished"
    try:
        heartbeat.start()
        if crawlers:
            process.start()
        reasons = [c.stats.get_value("finish_reason") for c in crawlers]
        if any(reason != "finished" for reason in reasons):
            status = "interrupted"
    except BaseException:
        status = "failed"
        raise
    finally:
        heartbeat.stop()
        with session_scope(url) as session:
            finish_run(session, run_id, status)
    return run_id


class RunHeartbeat:
    """Stamps the run alive every ``RUN_HEARTBEAT`` while the crawl's reactor runs, so a run
    whose process was killed is told apart from a long one (storage.runs.interrupt_dead_runs).
    Built after the ``CrawlerProcess``, which installs the reactor the loop runs on."""

    def __init__(self, database_url: str, run_id: int) -> None:
        from twisted.internet import task

        self.database_url = database_url
        self.run_id = run_id
        self.loop = task.LoopingCall(self.beat)

    def start(self) -> None:
        self.loop.start(RUN_HEARTBEAT.total_seconds(), now=True)

    def stop(self) -> None:
        if self.loop.running:
            self.loop.stop()

    def beat(self) -> None:
        try:
            with session_scope(self.database_url) as session:
                beat_run(session, self.run_id)
        except Exception:  # noqa: BLE001 - a missed beat only makes the run look older
            logger.exception("could not stamp run %s alive", self.run_id)
