"""Scrapy's ``JOBDIR`` pause/resume for account spiders: a finished account is not crawled again."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from records import AccountRef, FailureItem, PostsItem, ProfileItem

logger = logging.getLogger(__name__)


class ResumeFinishedAccounts:
    """Spider middleware that makes Scrapy's ``JOBDIR`` pause/resume work for account spiders.

    With ``-s JOBDIR=DIR`` Scrapy keeps pending requests on disk and ``spider.state`` across a
    graceful stop (SIGINT/SIGTERM), but ``start()`` yields every account again on resume.
    This remembers in ``spider.state`` the accounts whose items were yielded and drops their
    start requests on resume, so a finished account is not crawled twice. An account that was
    half-way is started again: its own pending request may also come back from the disk queue,
    and the second answer is absorbed by the per-run unique keys of snapshots. (SIGKILL loses
    Scrapy's state; ``crawl --due`` leases cover that case.)"""

    STATE_KEY = "wangzi_finished_accounts"

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.skipped = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ResumeFinishedAccounts:
        if not crawler.settings.get("JOBDIR"):
            raise NotConfigured  # JOBDIR not set (no message: Scrapy would log a warning)
        return cls(crawler)

    def _finished(self) -> set[tuple[Any, ...]]:
        state = getattr(self.crawler.spider, "state", None)
        return state.setdefault(self.STATE_KEY, set()) if state is not None else set()

    @staticmethod
    def _key(account: AccountRef) -> tuple[Any, ...]:
        # The database id when there is one: a crawl may learn the account's platform id,
        # so the ref of the next run differs in everything else.
        if account.account_id is not None:
            return (account.platform, account.account_id)
        return (account.platform, None, account.handle, account.platform_user_id)

    def _note(self, output: Any) -> None:
        if isinstance(output, (ProfileItem, PostsItem, FailureItem)):
            self._finished().add(self._key(output.account))

    def _keep(self, output: Any) -> bool:
        """Note finished accounts; False for the first request of a finished account's chain."""
        self._note(output)
        meta = getattr(output, "meta", None)
        if not meta or meta.get("wangzi_index") != 0 or meta.get("wangzi_account") is None:
            return True
        if self._key(meta["wangzi_account"]) not in self._finished():
            return True
        self.skipped += 1
        if self.skipped == 1 or self.skipped % 100 == 0:
            logger.info("JOBDIR resume: %d accounts finished before the pause were not crawled again", self.skipped)
        return False

    # Account chains start from start() or, after a prelude (Bilibili's nav), from a callback.

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for output in start:
            if self._keep(output):
                yield output

    def process_spider_output(self, response: Any, result: Iterable[Any], spider: Any = None) -> Iterator[Any]:
        for output in result:
            if self._keep(output):
                yield output

    async def process_spider_output_async(self, response: Any, result: AsyncIterator[Any], spider: Any = None) -> AsyncIterator[Any]:
        async for output in result:
            if self._keep(output):
                yield output
