"""A live progress line for ``wangzi lookup``/``crawl`` on a terminal (a Scrapy extension)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from records import FailureItem, PostsItem, ProfileItem

_PROGRESS: Progress | None = None


def _shared_progress() -> Progress:
    """One display for all spiders of the process (each adds its own line): the spiders of
    a ``wangzi`` command run side by side in one ``CrawlerProcess``, each with its own
    extension instance, so the display they share lives in the module."""
    global _PROGRESS
    if _PROGRESS is None:
        _PROGRESS = Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
            console=Console(stderr=True), transient=True,
        )
        _PROGRESS.start()
    return _PROGRESS


def stop_progress() -> None:
    """Take the display off the terminal (the CLI calls it when the crawl is over)."""
    global _PROGRESS
    if _PROGRESS is not None:
        _PROGRESS.stop()
        _PROGRESS = None


class ProgressExtension:
    """Shows, per platform, responses received and profiles/posts/failures so far.
    Enabled by ``WANGZI_PROGRESS`` (the CLI sets it when stderr is a terminal)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.counts = {"responses": 0, "profiles": 0, "posts": 0, "failures": 0}
        self.task: Any = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProgressExtension:
        if not crawler.settings.getbool("WANGZI_PROGRESS"):
            raise NotConfigured
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.response_received, signal=signals.response_received)
        crawler.signals.connect(extension.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def _show(self, spider: Spider) -> None:
        c = self.counts
        text = (f"[bold]{spider.name}[/]: {c['responses']} responses, {c['profiles']} profiles, "
                f"{c['posts']} post pages, {c['failures']} failures")
        _shared_progress().update(self.task, description=text)

    def spider_opened(self, spider: Spider) -> None:
        self.task = _shared_progress().add_task(spider.name, total=None)
        self._show(spider)

    def response_received(self, response: Any, request: Any, spider: Spider) -> None:
        self.counts["responses"] += 1
        self._show(spider)

    def item_scraped(self, item: Any, response: Any, spider: Spider) -> None:
        key = {ProfileItem: "profiles", PostsItem: "posts", FailureItem: "failures"}.get(type(item))
        if key:
            self.counts[key] += 1
            self._show(spider)

    def spider_closed(self, spider: Spider) -> None:
        _shared_progress().update(self.task, visible=False)
