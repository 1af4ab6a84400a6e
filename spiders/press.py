"""The press spider: search news feeds for a candidate's names, fetch each article, confirm.

For every candidate (``-a candidates=1,2``):

1. Aliases: ``Candidate.display_name`` + ``Candidate.aliases``, without names shorter than
   2 characters or common words (``enrichment.press.searchable_aliases``); each is quoted.
2. Search: Google News RSS in each edition of ``WANGZI_NEWS_EDITIONS`` (only when
   ``WANGZI_GOOGLE_NEWS_ENABLED``: Google's feed terms are personal/non-commercial), and the
   GDELT DOC API (one request every 5 s to api.gdeltproject.org). Google queries cover a
   time window, ``"NAME" after:START before:END`` from ``--since`` (else
   ``WANGZI_PRESS_LOOKBACK_DAYS`` ago) through today; a feed that comes back full
   (``WANGZI_GOOGLE_NEWS_FEED_CAP`` items: Google returns ~100 at most) is searched again as
   two half windows, down to single days, at most ``WANGZI_GOOGLE_NEWS_MAX_FEEDS_PER_ALIAS``
   feeds per alias. GDELT gets ``startdatetime`` from ``--since`` (else its 3-month span).
3. Fetch every listed article once per candidate, obeying robots.txt on article hosts
   (Scrapy's RobotsTxtMiddleware; feed requests carry ``dont_obey_robotstxt``). Google links
   that could not be decoded offline are fetched as they are: Google's redirect is followed
   to the article, and when Google answers with its article page instead, the page's
   signature is posted to Google's batchexecute call, whose answer names the article.
4. Confirm (``spiders.pages.article.parse`` with the aliases and, as context, the candidate's
   handles and the international brands their recent posts mention) and yield a
   ``PressMentionItem``; the press pipeline stores it idempotently
   (``storage.mentions.store_mention``). An article that could not be fetched (robots.txt,
   4xx, network) or a Google link that could not be resolved is kept as ``unconfirmed``
   with what the feed said.

Article URLs must be http(s) to public hosts: every URL a feed lists, a Google redirect names
or batchexecute answers is checked before it is requested (``spiders.pages.public_url``);
a refused one is a ``refused`` ``FeedFailureItem`` of the feed that listed it, never a
mention. Every request (robots.txt and redirect hops included) is checked again on the
network side (``crawler.middlewares.public_hosts``, ``crawler.dns``): a refusal there reaches
the errbacks as a ``refused`` failure and is stored the same way.

Every answer (feed, Google page, article) is parsed off the reactor, within
``WANGZI_PARSE_TIMEOUT`` and ``WANGZI_PARSE_MAX_BYTES`` (``spiders.base.parse_off_reactor``):
a feed over either is a stored ``unrecognized`` feed failure, an article an ``unconfirmed`` mention.

Settings (``-s NAME=…``, or the environment for ``wangzi``; every default and its meaning
in the "press" block of ``crawler/settings.py``): ``WANGZI_GOOGLE_NEWS_ENABLED``,
``WANGZI_NEWS_EDITIONS``, ``WANGZI_GDELT_ENABLED``, ``WANGZI_PRESS_ROBOTSTXT_OBEY``,
``WANGZI_PRESS_LOOKBACK_DAYS``, ``WANGZI_GOOGLE_NEWS_FEED_CAP``,
``WANGZI_GOOGLE_NEWS_MAX_FEEDS_PER_ALIAS`` (beyond it windows are not split further: a
warning and the stat ``wangzi/press/google_news/feed_budget_exhausted``) and
``WANGZI_PRESS_TODAY``. How they read (a typo falls back to the default with a warning),
the targets and the mention items are in ``spiders.pages.press_search``: this module only
decides what to request.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import date, datetime, timezone
from typing import Any
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.http import Request, Response
from scrapy.settings import BaseSettings

from records import Failure, FailureKind, FeedFailureItem, PressMentionItem
from spiders.base import failure_from_exception, parse_off_reactor
from spiders.pages import article as article_parser
from spiders.pages import gdelt as gdelt_parser
from spiders.pages import google_news as google_news_parser
from spiders.pages.article import ArticlePage
from spiders.pages.google_news import ArticleSignature, GoogleLink, Window
from spiders.pages.news import NewsFeed, NewsItem
from spiders.pages.press_search import (
    BRAND_CONTEXT_POSTS,
    PARSER_VERSION,
    PressTarget,
    article_mention,
    editions,
    press_number,
    press_target,
    press_today,
    truthy,
    unconfirmed_mention,
)
from spiders.pages.public_url import refused_url

logger = logging.getLogger(__name__)

GDELT_HOST = "api.gdeltproject.org"
FEED_ACCEPT = "application/rss+xml, application/xml;q=0.9, application/json;q=0.9, */*;q=0.5"
ROBOTS_PRIORITY = 50  # above Scrapy's "cmdline" (40)
ARTICLE_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"
GOOGLE_HOPS = 2  # news.google.com -> news.google.com redirects followed before giving up
PRESS_META = ("press_item", "press_target", "press_source")


def load_targets(database_url: str | None, candidate_ids: list[int]) -> list[PressTarget]:
    """Aliases and context of the given candidates, from the database."""
    from storage.db import session_scope
    from storage.mentions import press_candidate

    targets = []
    with session_scope(database_url) as session:
        for candidate_id in candidate_ids:
            found = press_candidate(session, candidate_id, posts=BRAND_CONTEXT_POSTS)
            if found is None:
                logger.warning("candidate %s does not exist; no press search", candidate_id)
                continue
            targets.append(press_target(candidate_id, found.names, found.handles, found.post_texts))
    return targets


class PressSpider(scrapy.Spider):
    """Search, fetch and confirm press mentions for candidates (``scrapy crawl press -a candidates=1``)."""

    name = "press"
    platform = "press"
    parser_version = PARSER_VERSION
    custom_settings = {
        # Article sites are crawled as their robots.txt says; feeds opt out per request.
        "ROBOTSTXT_OBEY": True,
        "DEFAULT_REQUEST_HEADERS": {"Accept": ARTICLE_ACCEPT, "Accept-Language": "en;q=0.9,*;q=0.5"},
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
        "DOWNLOAD_DELAY": 2.0,
    }
    # Read from the settings when the search starts (start_requests).
    today: date
    lookback_days: int
    feed_cap: int
    max_feeds_per_alias: int

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        super().update_settings(settings)
        # Robots.txt is obeyed on article hosts even when a replay turns it off for platforms:
        # recordings then hold the robots.txt answers too. WANGZI_PRESS_ROBOTSTXT_OBEY=false opts out.
        obey = truthy(settings.get("WANGZI_PRESS_ROBOTSTXT_OBEY"))
        # Priority above "cmdline" (40): CrawlerProcess.crawl() re-applies the process settings,
        # replay's ROBOTSTXT_OBEY=False included, onto the crawler at their own priorities.
        settings.set("ROBOTSTXT_OBEY", obey, priority=ROBOTS_PRIORITY)
        if not settings.get("WANGZI_REPLAY"):
            # GDELT's 429 answer asks for one request every 5 seconds.
            slots = dict(settings.getdict("DOWNLOAD_SLOTS"))
            slots[GDELT_HOST] = {"concurrency": 1, "delay": 5.0, "jitter": 0.0}
            settings.set("DOWNLOAD_SLOTS", slots, priority="spider")

    def __init__(self, candidates: str | list[int] = "", since: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(candidates, str):
            self.candidate_ids = [int(part) for part in candidates.split(",") if part.strip()]
        else:
            self.candidate_ids = [int(c) for c in candidates]
        self.since = date.fromisoformat(since) if since else None
        self.requested: set[tuple[int, str]] = set()
        self.google_feeds: Counter[tuple[int, str]] = Counter()  # Google feed requests per (candidate, alias)

    async def start(self) -> Any:  # Scrapy >= 2.13
        for request in self.start_requests():
            yield request

    def start_requests(self) -> Iterator[Request]:
        settings = self.settings
        google = truthy(settings.get("WANGZI_GOOGLE_NEWS_ENABLED"))
        gdelt = truthy(settings.get("WANGZI_GDELT_ENABLED"))
        google_editions = editions(settings) if google else []
        self.today = press_today(settings)
        self.lookback_days = press_number(settings, "WANGZI_PRESS_LOOKBACK_DAYS")
        self.feed_cap = press_number(settings, "WANGZI_GOOGLE_NEWS_FEED_CAP")
        self.max_feeds_per_alias = press_number(settings, "WANGZI_GOOGLE_NEWS_MAX_FEEDS_PER_ALIAS")
        window = google_news_parser.search_window(self.since, self.today, self.lookback_days)
        targets = load_targets(settings.get("WANGZI_DATABASE_URL") or None, self.candidate_ids)
        for target in targets:
            if not target.aliases:
                logger.warning("candidate %s has no searchable alias", target.candidate_id)
            for alias in target.aliases:
                query = f'"{alias}"'
                if google:
                    for edition in google_editions:
                        request = self._google_feed_request(target, alias, edition, window)
                        if request is not None:
                            yield request
                if gdelt:
                    start = datetime.combine(self.since, datetime.min.time(), timezone.utc) if self.since else None
                    # AutoThrottle (on in crawler/settings.py) would lower the slot's 5 s delay
                    # towards DOWNLOAD_DELAY after fast answers: GDELT's delay is not its to adjust.
                    yield self._feed_request(gdelt_parser.search_url(query, start=start), "gdelt", target,
                                             {"autothrottle_dont_adjust_delay": True})

    def _feed_request(self, url: str, source: str, target: PressTarget, extra: dict[str, Any] | None = None) -> Request:
        return Request(
            url,
            callback=self.parse_feed,
            errback=self.feed_failed,
            headers={"Accept": FEED_ACCEPT},
            meta={"dont_obey_robotstxt": True, "press_source": source, "press_target": target,
                  "handle_httpstatus_list": list(range(400, 600)), **(extra or {})},
            dont_filter=True,
        )

    def _google_feed_request(self, target: PressTarget, alias: str, edition: str, window: Window) -> Request | None:
        """One Google News search for ``alias`` in ``window``; None once the alias's budget is spent."""
        key = (target.candidate_id, alias)
        if self.google_feeds[key] >= self.max_feeds_per_alias:
            self.crawler.stats.inc_value("wangzi/press/google_news/feed_budget_exhausted")
            logger.warning("Google News: %s feed requests for %r (candidate %s) reached "
                           "WANGZI_GOOGLE_NEWS_MAX_FEEDS_PER_ALIAS; %s in %s not searched",
                           self.google_feeds[key], alias, target.candidate_id, window, edition)
            return None
        self.google_feeds[key] += 1
        url = google_news_parser.search_url(window.query(f'"{alias}"'), edition)
        return self._feed_request(url, "google_news", target,
                                  {"press_alias": alias, "press_edition": edition, "press_window": window})

    def _split_full_window(self, meta: dict[str, Any], target: PressTarget, count: int) -> Iterator[Request]:
        """A Google feed at the cap probably lost items: search both halves of its window."""
        window: Window | None = meta.get("press_window")
        if window is None or count < self.feed_cap:
            return
        if window.days < 2:
            self.crawler.stats.inc_value("wangzi/press/google_news/full_single_day")
            logger.info("Google News: %d items for %r on %s alone; later items of that day are not listed",
                        count, meta["press_alias"], window.after)
            return
        self.crawler.stats.inc_value("wangzi/press/google_news/windows_split")
        for half in window.halves():
            request = self._google_feed_request(target, meta["press_alias"], meta["press_edition"], half)
            if request is not None:
                yield request

    # ------------------------------------------------------------------ feeds

    async def parse_feed(self, response: Response) -> AsyncIterator[Request | PressMentionItem | FeedFailureItem]:
        source = response.meta["press_source"]
        target: PressTarget = response.meta["press_target"]
        url = response.meta.get("wangzi_original_url", response.url)
        parser = google_news_parser.parse if source == "google_news" else gdelt_parser.parse
        result = await parse_off_reactor(self.settings, parser, response.body, url, response.status, expected=(NewsFeed,))
        if isinstance(result, Failure):
            # Stored as the run's typed failure (with the candidate, no account), never as "no press";
            # the commands print it from there, so the log line is info (a WARNING repeated it).
            logger.info("%s: %s (%s)", url, result.kind.value, result.detail)
            self.crawler.stats.inc_value(f"wangzi/press/{source}/{result.kind.value}")
            yield FeedFailureItem(candidate_id=target.candidate_id, source=source, url=url, failure=result)
            return
        self.crawler.stats.inc_value(f"wangzi/press/{source}/items", len(result.items))
        for request in self._split_full_window(response.meta, target, len(result.items)):
            yield request
        for item in result.items:
            key = (target.candidate_id, item.url)
            if key in self.requested:
                continue
            self.requested.add(key)
            meta = {"press_item": item, "press_target": target, "press_source": source}
            refused = refused_url(item.url)
            if refused is not None:  # loopback, private, file://, credentials ...: never asked
                yield self._refused(meta, item.url, refused.detail)
            elif urlsplit(item.url).hostname in google_news_parser.GOOGLE_NEWS_HOSTS:
                # A token that could not be decoded offline: ask Google where it points, without
                # following, so the article host's own robots.txt is checked for the next request.
                yield self._google_page_request(item.url, meta)
            else:
                yield self._article_request(item.url, meta)

    def _article(self, url: str, meta: dict[str, Any], named_by: str) -> Request | FeedFailureItem:
        """The request for an article URL Google named (``named_by`` says how), or its refusal."""
        refused = refused_url(url)
        if refused is not None:
            item: NewsItem = meta["press_item"]
            return self._refused(meta, item.google_url or item.url, f"{named_by} {url}: {refused.detail}")
        return self._article_request(url, meta)

    def _article_request(self, url: str, meta: dict[str, Any]) -> Request:
        return Request(
            url,
            callback=self.parse_article,
            errback=self.article_failed,
            headers={"Accept": ARTICLE_ACCEPT},
            meta={**meta, "handle_httpstatus_list": list(range(400, 600))},
            dont_filter=True,
        )

    def _google_page_request(self, url: str, meta: dict[str, Any], hops: int = 0) -> Request:
        return Request(
            url, callback=self.resolve_google_link, errback=self.google_link_failed,
            meta={**meta, "dont_obey_robotstxt": True, "dont_redirect": True, "press_google_hops": hops,
                  "press_google_stage": "Google article page",
                  "handle_httpstatus_list": [301, 302, 303, 307, 308, *range(400, 600)]},
            dont_filter=True,
        )

    async def resolve_google_link(self, response: Response) -> AsyncIterator[Request | PressMentionItem | FeedFailureItem]:
        """Google's redirect -> the article request; Google's article page -> its batchexecute
        call (see spiders.pages.google_news); anything else stays unconfirmed with the Google URL."""
        meta = {k: response.meta[k] for k in PRESS_META}
        page_url = response.meta.get("wangzi_original_url", response.url)
        location = response.headers.get("Location")
        if 300 <= response.status < 400 and location:
            # Under replay the middleware names the real target behind the loopback Location.
            target = response.meta.get("wangzi_real_location") or urljoin(response.url, location.decode("latin-1"))
            host = (urlsplit(target).hostname or "").lower()
            hops = response.meta.get("press_google_hops", 0)
            if host in google_news_parser.GOOGLE_NEWS_HOSTS and hops < GOOGLE_HOPS:
                yield self._google_page_request(target, meta, hops + 1)  # another Google page
                return
            if google_news_parser.google_host(host):
                self.crawler.stats.inc_value("wangzi/press/google_unresolved")
                yield self._unconfirmed(meta, f"Google link not resolved: Google redirected to {host}"
                                              f"{urlsplit(target).path} (consent or captcha page); kept as is")
                return
            self.crawler.stats.inc_value("wangzi/press/google_redirects")
            yield self._article(target, meta, "Google redirected to")
            return
        page = await parse_off_reactor(self.settings, google_news_parser.parse_article_page, response.body, page_url,
                                       response.status, expected=(ArticleSignature,))
        if isinstance(page, Failure) or not page.token:
            why = f"{page.kind.value}: {page.detail}" if isinstance(page, Failure) else "no token in the URL"
            self.crawler.stats.inc_value("wangzi/press/google_unresolved")
            yield self._unconfirmed(meta, f"Google link not resolved: article page (HTTP {response.status}): {why}")
            return
        yield Request(
            google_news_parser.batchexecute_url(page.token),
            method="POST",
            body=google_news_parser.batchexecute_body(page),
            headers=google_news_parser.BATCHEXECUTE_HEADERS,
            callback=self.google_link_answered,
            errback=self.google_link_failed,
            meta={**meta, "dont_obey_robotstxt": True, "press_google_stage": "Google batchexecute call",
                  "handle_httpstatus_list": list(range(400, 600))},
            dont_filter=True,
        )

    async def google_link_answered(self, response: Response) -> AsyncIterator[Request | PressMentionItem | FeedFailureItem]:
        """Google's batchexecute answer -> the article request (robots.txt of its host obeyed)."""
        meta = {k: response.meta[k] for k in PRESS_META}
        url = response.meta.get("wangzi_original_url", response.url)
        link = await parse_off_reactor(self.settings, google_news_parser.parse_batchexecute, response.body, url,
                                       response.status, expected=(GoogleLink,))
        if isinstance(link, Failure):
            self.crawler.stats.inc_value("wangzi/press/google_unresolved")
            yield self._unconfirmed(meta, f"Google link not resolved: batchexecute answer (HTTP {response.status}): "
                                          f"{link.kind.value}: {link.detail}")
            return
        self.crawler.stats.inc_value("wangzi/press/google_batchexecute_resolved")
        yield self._article(link.url, meta, "Google's batchexecute named")

    def google_link_failed(self, failure: Any) -> Iterator[PressMentionItem | FeedFailureItem]:
        """A Google page or batchexecute request that got no answer (network, replay miss) or
        was refused on the network side."""
        request = failure.request
        refused = self._refusal(failure)
        if refused is not None:
            listed: NewsItem = request.meta["press_item"]
            yield self._refused(request.meta, listed.google_url or listed.url, refused.detail)
            return
        reason = f"{type(failure.value).__name__}: {failure.value}"
        self.crawler.stats.inc_value("wangzi/press/google_unresolved")
        stage = request.meta.get("press_google_stage", "Google request")
        yield self._unconfirmed(request.meta, f"Google link not resolved: {stage} not fetched ({reason})")

    # ------------------------------------------------------------------ articles

    async def parse_article(self, response: Response) -> AsyncIterator[PressMentionItem]:
        item: NewsItem = response.meta["press_item"]
        target: PressTarget = response.meta["press_target"]
        url = response.meta.get("wangzi_original_url", response.url)
        page = await parse_off_reactor(self.settings, article_parser.parse, response.body, url, response.status,
                                       expected=(ArticlePage,), aliases=list(target.aliases),
                                       context=list(target.context))
        if isinstance(page, Failure):
            yield self._unconfirmed(response.meta, f"{page.kind.value}: {page.detail}", final_url=url)
            return
        if page.confirmed:
            self.crawler.stats.inc_value("wangzi/press/confirmed")
        yield article_mention(target, item, response.meta["press_source"], page, url)

    def feed_failed(self, failure: Any) -> Iterator[FeedFailureItem]:
        """A feed that could not be fetched (network, replay miss): a log line, a stat and a
        stored typed failure, never a traceback; the other feeds and the platform spiders carry on."""
        request = failure.request
        source = request.meta.get("press_source", "feed")
        result = failure_from_exception(failure)
        self.crawler.stats.inc_value(f"wangzi/press/{source}/{result.kind.value}")
        logger.info("%s feed not fetched: %s: %s", source, type(failure.value).__name__, failure.value)  # printed from the store
        yield FeedFailureItem(candidate_id=request.meta["press_target"].candidate_id, source=source,
                              url=request.meta.get("wangzi_original_url", request.url), failure=result)

    def article_failed(self, failure: Any) -> Iterator[PressMentionItem | FeedFailureItem]:
        request = failure.request
        refused = self._refusal(failure)
        if refused is not None:  # the URL, a redirect hop or the address its name resolves to
            item: NewsItem = request.meta["press_item"]
            asked = getattr(failure.value, "url", None) or item.url
            detail = refused.detail if asked == item.url else f"{asked}: {refused.detail}"
            yield self._refused(request.meta, item.url, detail)
            return
        reason = type(failure.value).__name__
        if reason == "IgnoreRequest":
            reason = f"refused: {failure.value}"  # robots.txt forbids it
        self.crawler.stats.inc_value("wangzi/press/article_failures")
        yield self._unconfirmed(request.meta, reason)

    @staticmethod
    def _refusal(failure: Any) -> Failure | None:
        """The ``refused`` failure a network-side refusal carries (``wangzi_failure``), if any."""
        carried = getattr(failure.value, "wangzi_failure", None)
        return carried if isinstance(carried, Failure) and carried.kind is FailureKind.REFUSED else None

    def _refused(self, meta: dict[str, Any], url: str, detail: str) -> FeedFailureItem:
        """A URL the feed listed (or Google named) that is not requested: a typed failure of the
        feed, stored and printed like a failed feed, never a mention."""
        self.crawler.stats.inc_value("wangzi/press/refused")
        logger.warning("%s listed %s: refused: %s", meta["press_source"], url, detail)
        return FeedFailureItem(candidate_id=meta["press_target"].candidate_id, source=meta["press_source"], url=url,
                               failure=Failure(FailureKind.REFUSED, detail))

    def _unconfirmed(self, meta: dict[str, Any], detail: str, final_url: str | None = None) -> PressMentionItem:
        item: NewsItem = meta["press_item"]
        logger.info("article %s stays unconfirmed: %s", item.url, detail)
        return unconfirmed_mention(meta["press_target"], item, meta["press_source"], detail, final_url)
