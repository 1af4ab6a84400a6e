"""A Scrapy settings module for tests/test_press_failures.py (``SCRAPY_SETTINGS_MODULE``):
the project settings, with a press spider that yields a ``FeedFailureItem`` for every feed
that fails - exactly the lines ``spiders/press.py`` gets in ``parse_feed``'s failure branch
and in ``feed_failed`` - so the item is crawled through the real pipelines and the real
``wangzi press`` command before the spider itself yields it. No tests here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scrapy.http import Response

from crawler.items import Failure, FeedFailureItem
from crawler.settings import *  # noqa: F403 - this module *is* the project settings, plus SPIDER_MODULES
from spiders import gdelt as gdelt_parser
from spiders import google_news as google_news_parser
from spiders.base import failure_from_exception
from spiders.press import PressSpider

SPIDER_MODULES = ["tests.test_press_failures_spider"]


class PressSpiderWithFeedFailures(PressSpider):
    """``press``, yielding the typed failure of every feed that gave no list."""

    name = "press"

    def parse_feed(self, response: Response) -> Iterator[Any]:
        source = response.meta["press_source"]
        url = response.meta.get("wangzi_original_url", response.url)
        parser = google_news_parser.parse if source == "google_news" else gdelt_parser.parse
        result = parser(response.body, url, response.status)
        if isinstance(result, Failure):
            # The line spiders/press.py gets in `if isinstance(result, Failure):`
            yield FeedFailureItem(candidate_id=response.meta["press_target"].candidate_id, source=source, url=url, failure=result)
        yield from super().parse_feed(response)

    def feed_failed(self, failure: Any) -> Iterator[Any]:
        request = failure.request
        # The line spiders/press.py gets in `feed_failed`
        yield FeedFailureItem(candidate_id=request.meta["press_target"].candidate_id, source=request.meta["press_source"],
                              url=request.meta.get("wangzi_original_url", request.url), failure=failure_from_exception(failure))
        yield from super().feed_failed(failure)
