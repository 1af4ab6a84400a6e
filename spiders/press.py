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
   handles and the international brands their recent posts mention) and yield a :class:`PressMentionItem`; ``crawler.press_pipeline`` stores it
   idempotently. An article that could not be fetched (robots.txt, 4xx, network) or a
   Google link that could not be resolved is kept as ``unconfirmed`` with what the feed said.

Settings (``-s NAME=…`` or the environment):

* ``WANGZI_PRESS_LOOKBACK_DAYS`` (365): how far back Google News is searched without ``--since``.
* ``WANGZI_GOOGLE_NEWS_FEED_CAP`` (100): a window whose feed has at least this many items is
  split in two (unless it is one day long).
* ``WANGZI_GOOGLE_NEWS_MAX_FEEDS_PER_ALIAS`` (100): Google News feed requests per alias and
  candidate, all editions and windows together; beyond it windows are not split further
  (a warning and the stat ``wangzi/press/google_news/feed_budget_exhausted``).
* ``WANGZI_PRESS_TODAY`` (empty: today in UTC): the last day searched, to re-run a past search
  or pin the windows in tests.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.http import Request, Response
from scrapy.settings import BaseSettings

from records import Failure, FeedFailureItem, PressMentionItem
from spiders.pages import article as article_parser
from spiders.pages import gdelt as gdelt_parser
from spiders.pages import google_news as google_news_parser
from spiders.base import failure_from_exception
from spiders.pages.parsing import parser_crash
from spiders.pages.google_news import NewsItem, Window

logger = logging.getLogger(__name__)

PARSER_VERSION = f"gn{google_news_parser.PARSER_VERSION}.gd{gdelt_parser.PARSER_VERSION}.a{article_parser.PARSER_VERSION}"
DEFAULT_EDITIONS = ("en-US", "en-GB", "ja-JP", "ko-KR", "de-DE", "fr-FR", "es-ES")
GDELT_HOST = "api.gdeltproject.org"
FEED_ACCEPT = "application/rss+xml, application/xml;q=0.9, application/json;q=0.9, */*;q=0.5"
ROBOTS_PRIORITY = 50  # above Scrapy's "cmdline" (40)
ARTICLE_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"
BRAND_CONTEXT_POSTS = 200  # the candidate's latest posts read for brand names
BRAND_CONTEXT_BRANDS = 20  # most-mentioned brands passed as context
DEFAULT_LOOKBACK_DAYS = 365
DEFAULT_FEED_CAP = 100  # Google News RSS returns at most ~100 items per feed
DEFAULT_MAX_FEEDS_PER_ALIAS = 100
GOOGLE_HOPS = 2  # news.google.com -> news.google.com redirects followed before giving up
PRESS_META = ("press_item", "press_target", "press_source")


@dataclass(frozen=True)
class PressTarget:
    candidate_id: int
    aliases: tuple[str, ...]
    context: tuple[str, ...]  # handles and promoted brand names that raise confidence


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def setting(settings: BaseSettings, name: str, default: str) -> Any:
    """A press setting from ``-s NAME=...``/project settings, else the environment, else the default.

    The press settings live here rather than in crawler/settings.py, so the environment is
    read directly (``crawl_settings`` copies only names the project settings define).
    """
    value = settings.get(name)
    if value is None or value == "":
        value = os.environ.get(name, default)
    return value


def int_setting(settings: BaseSettings, name: str, default: int, minimum: int = 1) -> int:
    value = setting(settings, name, str(default))
    try:
        number = int(str(value).strip())
    except ValueError:
        logger.warning("%s=%r is not a whole number; using %s", name, value, default)
        return default
    return max(number, minimum)


def press_today(settings: BaseSettings) -> date:
    """``WANGZI_PRESS_TODAY`` when set (tests, re-running a past search), else today in UTC."""
    value = str(setting(settings, "WANGZI_PRESS_TODAY", "") or "").strip()
    if value:
        try:
            return date.fromisoformat(value)
        except ValueError:
            logger.warning("WANGZI_PRESS_TODAY=%r is not a date like 2026-01-31; using today", value)
    return datetime.now(timezone.utc).date()


def _google_host(host: str) -> bool:
    """www.google.com, consent.google.de, www.google.co.jp (Google's captcha/consent pages),
    not an article host such as blog.google."""
    labels = host.lower().split(".")
    return "google" in labels[:-1]


def editions(settings: BaseSettings) -> list[str]:
    value = setting(settings, "WANGZI_NEWS_EDITIONS", ",".join(DEFAULT_EDITIONS))
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    return [part.strip() for part in str(value).split(",") if part.strip()]


def load_targets(database_url: str | None, candidate_ids: list[int]) -> list[PressTarget]:
    """Aliases and context of the given candidates, from the database."""
    from sqlmodel import select

    from enrichment.press import searchable_aliases
    from storage.db import session_scope
    from storage.models import Account, Candidate

    targets = []
    with session_scope(database_url) as session:
        for candidate_id in candidate_ids:
            candidate = session.get(Candidate, candidate_id)
            if candidate is None:
                logger.warning("candidate %s does not exist; no press search", candidate_id)
                continue
            aliases = searchable_aliases([candidate.display_name, *(candidate.aliases or [])])
            accounts = session.exec(select(Account).where(Account.candidate_id == candidate_id)).all()
            handles = [a.handle for a in accounts if a.handle and len(a.handle) >= 3]
            brands = promoted_brand_terms(session, [a.id for a in accounts if a.id is not None])
            context = tuple(dict.fromkeys([*handles, *brands]))
            targets.append(PressTarget(candidate_id, tuple(aliases), context))
    return targets


def promoted_brand_terms(session: Any, account_ids: list[int], *, posts: int = BRAND_CONTEXT_POSTS,
                         brands: int = BRAND_CONTEXT_BRANDS) -> list[str]:
    """Names of the international brands the candidate's own recent posts mention, most
    mentioned first, as disambiguation context: an article about "Mia Chen" that also names
    Sulwhasoo, which her posts promote, is more likely about her than about a namesake.

    Every alias of a brand is returned (an English article says "Sulwhasoo", a Chinese one
    "雪花秀"); the confidence rule counts context terms, so one brand named in two scripts can
    count twice - rare, and still evidence about the same person.
    """
    from sqlmodel import col, select

    from enrichment.brands import default_brands
    from storage.models import Post

    if not account_ids:
        return []
    texts = session.exec(
        select(Post.text)
        .where(col(Post.account_id).in_(account_ids), col(Post.text).is_not(None))
        .order_by(col(Post.published_at).desc(), col(Post.id).desc())
        .limit(posts)
    ).all()
    finder = default_brands()
    counts: Counter[Any] = Counter()
    for text in texts:
        counts.update(finder.find(text))
    ranked = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0].name))[:brands]
    return [alias for brand, _ in ranked for alias in brand.aliases if len(alias) >= 2]


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

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        super().update_settings(settings)
        # Robots.txt is obeyed on article hosts even when a replay turns it off for platforms:
        # recordings then hold the robots.txt answers too. WANGZI_PRESS_ROBOTSTXT_OBEY=false opts out.
        obey = setting(settings, "WANGZI_PRESS_ROBOTSTXT_OBEY", "true")
        # Priority above "cmdline" (40): CrawlerProcess.crawl() re-applies the process settings,
        # replay's ROBOTSTXT_OBEY=False included, onto the crawler at their own priorities.
        settings.set("ROBOTSTXT_OBEY", _truthy(obey), priority=ROBOTS_PRIORITY)
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
        self.today = datetime.now(timezone.utc).date()
        self.feed_cap = DEFAULT_FEED_CAP
        self.max_feeds_per_alias = DEFAULT_MAX_FEEDS_PER_ALIAS
        self.lookback_days = DEFAULT_LOOKBACK_DAYS
        self.google_feeds: Counter[tuple[int, str]] = Counter()  # Google feed requests per (candidate, alias)

    async def start(self) -> Any:  # Scrapy >= 2.13
        for request in self.start_requests():
            yield request

    def start_requests(self) -> Iterator[Request]:
        settings = self.crawler.settings
        google = _truthy(setting(settings, "WANGZI_GOOGLE_NEWS_ENABLED", "false"))
        gdelt = _truthy(setting(settings, "WANGZI_GDELT_ENABLED", "true"))
        self.today = press_today(settings)
        self.lookback_days = int_setting(settings, "WANGZI_PRESS_LOOKBACK_DAYS", DEFAULT_LOOKBACK_DAYS)
        self.feed_cap = int_setting(settings, "WANGZI_GOOGLE_NEWS_FEED_CAP", DEFAULT_FEED_CAP)
        self.max_feeds_per_alias = int_setting(settings, "WANGZI_GOOGLE_NEWS_MAX_FEEDS_PER_ALIAS",
                                               DEFAULT_MAX_FEEDS_PER_ALIAS)
        window = google_news_parser.search_window(self.since, self.today, self.lookback_days)
        targets = load_targets(settings.get("WANGZI_DATABASE_URL") or None, self.candidate_ids)
        for target in targets:
            if not target.aliases:
                logger.warning("candidate %s has no searchable alias", target.candidate_id)
            for alias in target.aliases:
                query = f'"{alias}"'
                if google:
                    for edition in editions(settings):
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

    def parse_feed(self, response: Response) -> Iterator[Request | PressMentionItem | FeedFailureItem]:
        source = response.meta["press_source"]
        target: PressTarget = response.meta["press_target"]
        url = response.meta.get("wangzi_original_url", response.url)
        parser = google_news_parser.parse if source == "google_news" else gdelt_parser.parse
        result = self._parse_safely(parser, response, url)
        if isinstance(result, Failure):
            # Stored as the run's typed failure (with the candidate, no account), never as "no press".
            logger.warning("%s: %s (%s)", url, result.kind.value, result.detail)
            self.crawler.stats.inc_value(f"wangzi/press/{source}/{result.kind.value}")
            yield FeedFailureItem(candidate_id=target.candidate_id, source=source, url=url, failure=result)
            return
        self.crawler.stats.inc_value(f"wangzi/press/{source}/items", len(result.items))
        yield from self._split_full_window(response.meta, target, len(result.items))
        for item in result.items:
            key = (target.candidate_id, item.url)
            if key in self.requested:
                continue
            self.requested.add(key)
            meta = {"press_item": item, "press_target": target, "press_source": source}
            if urlsplit(item.url).hostname in google_news_parser.GOOGLE_NEWS_HOSTS:
                # A token that could not be decoded offline: ask Google where it points, without
                # following, so the article host's own robots.txt is checked for the next request.
                yield self._google_page_request(item.url, meta)
            else:
                yield self._article_request(item.url, meta)

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

    def resolve_google_link(self, response: Response) -> Iterator[Request | PressMentionItem]:
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
            if _google_host(host):
                self.crawler.stats.inc_value("wangzi/press/google_unresolved")
                yield self._unconfirmed(meta, f"Google link not resolved: Google redirected to {host}"
                                              f"{urlsplit(target).path} (consent or captcha page); kept as is")
                return
            self.crawler.stats.inc_value("wangzi/press/google_redirects")
            yield self._article_request(target, meta)
            return
        page = self._parse_safely(google_news_parser.parse_article_page, response, page_url)
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

    def google_link_answered(self, response: Response) -> Iterator[Request | PressMentionItem]:
        """Google's batchexecute answer -> the article request (robots.txt of its host obeyed)."""
        meta = {k: response.meta[k] for k in PRESS_META}
        url = response.meta.get("wangzi_original_url", response.url)
        link = self._parse_safely(google_news_parser.parse_batchexecute, response, url)
        if isinstance(link, Failure):
            self.crawler.stats.inc_value("wangzi/press/google_unresolved")
            yield self._unconfirmed(meta, f"Google link not resolved: batchexecute answer (HTTP {response.status}): "
                                          f"{link.kind.value}: {link.detail}")
            return
        self.crawler.stats.inc_value("wangzi/press/google_batchexecute_resolved")
        yield self._article_request(link.url, meta)

    def google_link_failed(self, failure: Any) -> Iterator[PressMentionItem]:
        """A Google page or batchexecute request that got no answer (network, replay miss)."""
        request = failure.request
        reason = f"{type(failure.value).__name__}: {failure.value}"
        self.crawler.stats.inc_value("wangzi/press/google_unresolved")
        stage = request.meta.get("press_google_stage", "Google request")
        yield self._unconfirmed(request.meta, f"Google link not resolved: {stage} not fetched ({reason})")

    @staticmethod
    def _parse_safely(parser: Any, response: Response, url: str, **context: Any) -> Any:
        """A feed, Google or article parser on this answer; a parser bug becomes an
        ``unrecognized`` failure (a lost feed or mention is stored as such, never a crash)."""
        try:
            return parser(response.body, url, response.status, **context)
        except Exception as exc:  # noqa: BLE001 - a parser bug must not stop the crawl
            return parser_crash(parser, exc, url, response.status)

    # ------------------------------------------------------------------ articles

    def parse_article(self, response: Response) -> Iterator[PressMentionItem]:
        item: NewsItem = response.meta["press_item"]
        target: PressTarget = response.meta["press_target"]
        url = response.meta.get("wangzi_original_url", response.url)
        page = self._parse_safely(article_parser.parse, response, url,
                                  aliases=list(target.aliases), context=list(target.context))
        if isinstance(page, Failure):
            yield self._unconfirmed(response.meta, f"{page.kind.value}: {page.detail}", final_url=url)
            return
        if page.confirmed:
            self.crawler.stats.inc_value("wangzi/press/confirmed")
        yield PressMentionItem(
            candidate_id=target.candidate_id,
            source=response.meta["press_source"],
            url=item.google_url or item.url,
            canonical_url=page.canonical_url or url,
            status="confirmed" if page.confirmed else "unconfirmed",
            outlet_domain=page.outlet_domain,
            outlet_name=item.outlet or page.outlet_name,
            # GDELT's sourcecountry (already in the item) wins over the domain's guess.
            country=item.country or page.country,
            language=page.language or item.language,
            published_at=page.published_at or item.published_at,
            title=page.title or item.title,
            matched_alias=page.matched_alias,
            snippet=page.snippet,
            confidence=page.confidence,
            parser_version=PARSER_VERSION,
            detail=None if page.confirmed else "no alias in the article's own title or text",
            page_read=True,
        )

    def feed_failed(self, failure: Any) -> Iterator[FeedFailureItem]:
        """A feed that could not be fetched (network, replay miss): a log line, a stat and a
        stored typed failure, never a traceback; the other feeds and the platform spiders carry on."""
        request = failure.request
        source = request.meta.get("press_source", "feed")
        result = failure_from_exception(failure)
        self.crawler.stats.inc_value(f"wangzi/press/{source}/{result.kind.value}")
        logger.warning("%s feed not fetched: %s: %s", source, type(failure.value).__name__, failure.value)
        yield FeedFailureItem(candidate_id=request.meta["press_target"].candidate_id, source=source,
                              url=request.meta.get("wangzi_original_url", request.url), failure=result)

    def article_failed(self, failure: Any) -> Iterator[PressMentionItem]:
        request = failure.request
        reason = type(failure.value).__name__
        if reason == "IgnoreRequest":
            reason = f"refused: {failure.value}"  # robots.txt forbids it
        self.crawler.stats.inc_value("wangzi/press/article_failures")
        yield self._unconfirmed(request.meta, reason)

    def _unconfirmed(self, meta: dict[str, Any], detail: str, final_url: str | None = None) -> PressMentionItem:
        from enrichment.outlets import clean_url, outlet_for

        item: NewsItem = meta["press_item"]
        target: PressTarget = meta["press_target"]
        canonical = clean_url(final_url) if final_url and "news.google.com" not in final_url else item.url
        outlet = outlet_for(canonical)
        logger.info("article %s stays unconfirmed: %s", item.url, detail)
        return PressMentionItem(
            candidate_id=target.candidate_id,
            source=meta["press_source"],
            url=item.google_url or item.url,
            canonical_url=canonical,
            status="unconfirmed",
            outlet_domain=outlet.domain,
            outlet_name=item.outlet or outlet.name,
            country=item.country or outlet.country,
            language=item.language,
            published_at=item.published_at,
            title=item.title,
            parser_version=PARSER_VERSION,
            detail=detail[:300],
        )
