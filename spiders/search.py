"""What every search spider shares: ask one platform's search for a list of queries, within a
budget of requests, and yield what the answers name as leads.

A platform's search spider (``spiders/<platform>_search.py``) only says how to ask one page
of one query (:meth:`SearchSpider.search_source`: URL, headers, parser, as a
:class:`spiders.base.Source`). This base class:

* asks the queries **one request at a time**, in order: each query's pages (up to
  ``max_pages``, while the answer names a next page), then the next query. One request in
  flight per platform is gentler than the profile spiders' own limits, and keeps a replayed
  session in a fixed order;
* stops at ``max_requests`` requests (a prelude such as Bilibili's nav counts too): the
  politeness budget ``wangzi discover --max-requests`` splits between platforms;
* parses every answer off the reactor with the page module's pure parser
  (:func:`spiders.base.parse_off_reactor`), announces it with
  :data:`spiders.base.source_answered` (the proxy and session pools keep their health from it)
  and yields a :class:`records.leads.LeadItem` per hit, or a
  :class:`records.leads.SearchFailureItem` for a typed failure. After a wall (blocked, captcha,
  rate limited, login required) the platform's remaining queries are dropped: each would meet
  the same wall and only prolong it;
* follows hits one more hop while ``hop < max_hops`` (:func:`spiders.discovery.expand`):
  profile links and handle mentions in what the answer shows become leads at once; display-name
  mentions on this platform become ``resolve`` queries (a search for that exact name), asked
  after the seeds' own queries, within the same budget;
* keeps each (kind, text) query to one ask per crawl.

The per-host politeness (``custom_settings``) of each search spider is its platform's profile
spider's, so the same delays, concurrency, retries, backoff and circuit breaker apply.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from typing import Any, ClassVar

import scrapy
from scrapy.http import Request, Response
from twisted.python.failure import Failure as TwistedFailure

from records import Failure, FailureKind
from records.leads import LeadItem, SearchFailureItem, SearchPage, SearchQuery
from spiders.base import HANDLED_STATUSES, AccountSpider, Source, failure_from_exception, parse_off_reactor, source_answered
from spiders.discovery import KnownAccount, expand, same_name

#: After one of these, the platform's other searches would meet the same wall.
WALL_FAILURES = frozenset({FailureKind.BLOCKED, FailureKind.CAPTCHA, FailureKind.RATE_LIMITED, FailureKind.LOGIN_REQUIRED})


class SearchSpider(scrapy.Spider):
    """Base for search spiders. Subclasses set ``name`` (``<platform>_search``), ``platform``,
    ``parser_version``, ``allowed_domains``, ``custom_settings`` and write :meth:`search_source`.

    Spider arguments: ``queries`` (a list of :class:`~records.leads.SearchQuery`; the CLI passes
    it), ``max_requests``, ``max_pages`` and ``max_hops`` (else ``WANGZI_DISCOVERY_*``), or
    ``-a keywords=海淘,代购`` for ``scrapy crawl``.
    """

    platform: ClassVar[str] = ""
    parser_version: ClassVar[str] = "1"

    def __init__(self, *args: Any, queries: list[SearchQuery] | None = None, max_requests: int | None = None,
                 max_pages: int | None = None, max_hops: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if queries is None:
            words = [w.strip() for w in str(getattr(self, "keywords", "") or "").split(",") if w.strip()]
            queries = [SearchQuery(seed_kind="keyword", seed=w, text=w, kind=k) for w in words for k in ("users", "posts")]
        self._queue: deque[SearchQuery] = deque()
        self._asked: set[tuple[str, str]] = set()
        self._limits = {"max_requests": max_requests, "max_pages": max_pages, "max_hops": max_hops}
        self.requests_sent = 0
        self.stopped: str | None = None  # why the remaining queries were dropped
        for query in queries:
            self.enqueue(query)

    # ---------------------------------------------------------------- for subclasses

    def search_source(self, query: SearchQuery, page: str | None) -> Source | None:
        """How to ask page ``page`` (None: the first; else what the previous page named) of ``query``."""
        raise NotImplementedError

    # ---------------------------------------------------------------- limits

    def _limit(self, name: str) -> int:
        value = self._limits[name]
        return int(value) if value is not None else self.settings.getint(f"WANGZI_DISCOVERY_{name.upper()}")

    @property
    def max_requests(self) -> int:
        return self._limit("max_requests")

    def spend(self) -> bool:
        """Take one request from the budget; False (and the crawl's queries dropped) when spent."""
        if self.requests_sent >= self.max_requests:
            if self.stopped is None:
                self.stopped = "budget"
                self.logger.info("%s: request budget of %d spent; %d queries left unasked",
                                 self.name, self.max_requests, len(self._queue))
                self.crawler.stats.set_value("wangzi/discovery/unasked", len(self._queue))
            self._queue.clear()
            return False
        self.requests_sent += 1
        return True

    # ---------------------------------------------------------------- queries

    def enqueue(self, query: SearchQuery) -> None:
        key = (query.kind, query.text.casefold())
        if key not in self._asked:
            self._asked.add(key)
            self._queue.append(query)

    async def start(self) -> AsyncIterator[Any]:
        request = self.next_request()
        if request is not None:
            yield request

    def next_request(self, query: SearchQuery | None = None, page: str | None = None, pages_done: int = 0) -> Request | None:
        """The next request: ``page`` of ``query`` when given, else the first page of the next
        query; None when the queue is empty, the crawl was stopped or the budget is spent."""
        while self.stopped is None:
            if query is None:
                if not self._queue:
                    return None
                query, page, pages_done = self._queue.popleft(), None, 0
            source = self.search_source(query, page)
            if source is None:
                query = None
                continue
            if not self.spend():
                return None
            meta = {
                "handle_httpstatus_list": HANDLED_STATUSES,
                "wangzi_query": query,
                "wangzi_search": source,
                "wangzi_pages_done": pages_done,
                "wangzi_source": source.name,
                **source.meta,
            }
            return Request(source.url, method=source.method, body=source.body, headers=source.headers or None,
                           cookies=source.cookies, meta=meta, callback=self._on_page, errback=self._on_error,
                           dont_filter=True)
        return None

    # ---------------------------------------------------------------- answers

    async def _on_page(self, response: Response) -> AsyncIterator[Any]:
        meta = response.meta
        source: Source = meta["wangzi_search"]
        url = AccountSpider.real_response_url(response)
        result = await parse_off_reactor(self.settings, source.parser, response.body, url, response.status,
                                         expected=(SearchPage,))
        self.crawler.signals.send_catch_log(source_answered, spider=self, meta=meta, result=result, response=response)
        for output in self._outcome(meta, result, url):
            yield output

    def _on_error(self, failure: TwistedFailure) -> Iterator[Any]:
        meta = failure.request.meta
        url = meta.get("wangzi_original_url", failure.request.url)
        if getattr(failure.value, "wangzi_unsent", False):  # no identity may carry it: nothing was asked
            self.requests_sent -= 1
            result: Any = None
        else:
            result = failure_from_exception(failure)
            self.crawler.signals.send_catch_log(source_answered, spider=self, meta=meta, result=result, response=None)
        return self._outcome(meta, result, url)

    def _outcome(self, meta: dict[str, Any], result: Any, url: str) -> Iterator[Any]:
        query: SearchQuery = meta["wangzi_query"]
        source: Source = meta["wangzi_search"]
        pages_done = meta["wangzi_pages_done"] + 1
        if isinstance(result, Failure):
            self.logger.info("%s %s: %s (%s)", source.name, url, result.kind.value, result.detail)
            yield SearchFailureItem(source=self.name, url=url, failure=result, query=query.text)
            if result.kind in WALL_FAILURES:
                self.stopped = result.kind.value
                self.logger.warning("%s: %s on %s; its %d other queries are not asked in this crawl",
                                    self.name, result.kind.value, url, len(self._queue))
                self._queue.clear()
                return
        elif isinstance(result, SearchPage):
            yield from self.leads(query, source, result, url)
            if result.next_page and query.kind != "resolve" and pages_done < self._limit("max_pages"):
                request = self.next_request(query, result.next_page, pages_done)
                if request is not None:
                    yield request
                return
        request = self.next_request()
        if request is not None:
            yield request

    def leads(self, query: SearchQuery, source: Source, page: SearchPage, url: str) -> Iterator[LeadItem]:
        """A lead per hit (a ``resolve`` query keeps only the hit of that exact name), and the
        next hop of each hit while ``hop < max_hops``."""
        hits = list(page.hits)
        if query.kind == "resolve":  # the account of that exact name, found through the post that named it
            hits = [replace(h, post_url=h.post_url or query.post_url) for h in hits if same_name(h.display_name, query.exact_name)]
        for hit in hits:
            yield LeadItem(hit=hit, seed_kind=query.seed_kind, seed=query.seed, source=source.name, query=query.text,
                           source_url=url, hop=query.hop, via_account=query.via_account)
            if query.hop >= self._limit("max_hops"):
                continue
            found = expand(KnownAccount.of_hit(hit), seed_kind=query.seed_kind, seed=query.seed, hop=query.hop + 1,
                           resolvable=(self.platform,))
            label = KnownAccount.of_hit(hit).label
            for linked in found.hits:
                yield LeadItem(hit=linked, seed_kind=query.seed_kind, seed=query.seed, source=f"graph.{linked.via}",
                               query=query.text, source_url=hit.post_url or url, hop=query.hop + 1, via_account=label)
            for resolve in found.queries:
                self.enqueue(resolve)
