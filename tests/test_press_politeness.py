"""Politeness of the press spider outside replay: GDELT's one request every 5 seconds holds
even with AutoThrottle on (crawler/settings.py enables it for every crawl)."""

from __future__ import annotations

from types import SimpleNamespace

from scrapy.core.downloader import Slot
from scrapy.extensions.throttle import AutoThrottle
from scrapy.http import Response

from crawler.settings import AUTOTHROTTLE_ENABLED
from spiders.press import GDELT_HOST, PressSpider
from storage.db import session_scope
from storage.candidates import add_candidate
from tests.helpers import make_spider


def test_autothrottle_never_shortens_the_five_seconds_between_gdelt_requests(sqlite_url: str) -> None:
    assert AUTOTHROTTLE_ENABLED  # live crawls run with it: the protection below is needed
    with session_scope(sqlite_url) as session:
        candidate_id = add_candidate(session, "Li Jiaqi").id
    spider = make_spider(PressSpider, {"WANGZI_DATABASE_URL": sqlite_url, "AUTOTHROTTLE_ENABLED": True,
                                       "WANGZI_GOOGLE_NEWS_ENABLED": "false"}, candidates=str(candidate_id))
    crawler = spider.crawler
    (request,) = [r for r in spider.start_requests() if GDELT_HOST in r.url]
    slot_settings = crawler.settings.getdict("DOWNLOAD_SLOTS")[GDELT_HOST]
    assert (slot_settings["delay"], slot_settings["jitter"]) == (5.0, 0.0)  # never less than 5 s

    # The real AutoThrottle extension, fed fast answers on GDELT's real slot.
    slot = Slot(slot_settings["concurrency"], slot_settings["delay"], jitter=slot_settings["jitter"])
    crawler.engine = SimpleNamespace(downloader=SimpleNamespace(slots={GDELT_HOST: slot}, _delay=None))
    throttle = AutoThrottle(crawler)
    throttle._spider_opened(spider)
    assert throttle.mindelay < 5.0  # without the request's opt-out it would pull the delay down
    for _ in range(5):
        request.meta.update(download_slot=GDELT_HOST, download_latency=0.1)
        throttle._response_downloaded(Response(request.url, status=200, request=request), request, spider)
    assert slot.delay == 5.0
