"""Send every request through a pool of forward proxies, and keep each proxy's health.

Enabled when proxies are configured (``WANGZI_PROXIES`` or ``WANGZI_PROXIES_FILE``, read by
:func:`spiders.credentials.configured_proxies`: proxy URLs may carry credentials, so they
are never Scrapy settings). Scrapy's own ``HttpProxyMiddleware`` (750) does the proxying:
this middleware (before it) only sets ``meta["proxy"]``, and Scrapy turns the URL's
credentials into a ``Proxy-Authorization`` header.

* **Choice**: the least-used proxy that is healthy for the spider's platform
  (:class:`~crawler.distributed.proxy_pool.ProxyPool`); a request that names a proxy already
  (``meta["wangzi_proxy_name"]``: its session's sticky proxy, or its first pass before the
  replay rewrite) keeps it while it is healthy. Each proxy has its own download slot per host
  (``host@proxy``), so per-host politeness holds per proxy.
* **Health**: the spiders' verdicts (the ``source_answered`` signal: ``blocked``, ``captcha``,
  ``rate_limited`` count against the proxy; any other answer resets it), a proxy's own
  refusals (403/407/429) and connections it reset or refused. ``WANGZI_PROXY_BAN_THRESHOLD``
  in a row quarantine it for the platform (``WANGZI_PROXY_COOLDOWN``, doubling up to
  ``WANGZI_PROXY_MAX_COOLDOWN``).
* **Rerouting**: a refused request goes out again through another proxy (at most
  ``WANGZI_PROXY_RETRIES`` times), so the accounts of a proxy that starts banning finish
  through the others. When every proxy is quarantined for the platform the request fails at
  once as ``blocked`` ("no proxy usable ..."): never through no proxy at all.
* **State**: written to ``identitystate`` (``wangzi proxies list``) as it changes and at the end.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response

from crawler.distributed.connection import redis_client
from crawler.distributed.proxy_pool import ProxyPool, ProxyState
from records import Failure, FailureKind
from spiders.base import source_answered
from spiders.credentials import configured_proxies

logger = logging.getLogger(__name__)

#: Parser verdicts that count against the proxy the answer came through.
REFUSAL_KINDS = frozenset({FailureKind.BLOCKED, FailureKind.CAPTCHA, FailureKind.RATE_LIMITED})
#: Meta keys of the proxy a request went out through (dropped when it is rerouted).
_PROXY_META = ("proxy", "_auth_proxy", "wangzi_proxy_name", "wangzi_proxy_counted")


class NoProxy(IgnoreRequest):
    """Every proxy is quarantined for the platform; carries the typed failure the spider stores."""

    def __init__(self, platform: str, seconds: float | None) -> None:
        when = f"; the first is usable again in {seconds:.0f}s" if seconds is not None else ""
        detail = f"no proxy usable for {platform}: every configured proxy is quarantined or was refused{when}"
        super().__init__(detail)
        self.wangzi_failure = Failure(FailureKind.BLOCKED, detail)


class ProxyMiddleware:
    """Downloader middleware (see module docstring)."""

    def __init__(self, crawler: Crawler, pool: ProxyPool, *, retries: int, statuses: set[int],
                 rates: dict[str, float], database_url: str | None) -> None:
        self.crawler = crawler
        self.pool = pool
        self.retries = retries
        self.statuses = statuses
        self.rates = rates
        self.database_url = database_url

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProxyMiddleware:
        proxies = configured_proxies()
        if not proxies:
            raise NotConfigured()
        settings = crawler.settings
        redis_url = settings.get("WANGZI_REDIS_URL")
        pool = ProxyPool(
            proxies, threshold=settings.getint("WANGZI_PROXY_BAN_THRESHOLD"), cooldown=settings.getfloat("WANGZI_PROXY_COOLDOWN"),
            max_cooldown=settings.getfloat("WANGZI_PROXY_MAX_COOLDOWN"), redis=redis_client(redis_url) if redis_url else None,
        )
        middleware = cls(
            crawler, pool, retries=settings.getint("WANGZI_PROXY_RETRIES"),
            statuses={int(s) for s in settings.getlist("WANGZI_PROXY_REFUSAL_STATUSES")},
            rates={str(k): float(v) for k, v in settings.getdict("WANGZI_PROXY_RATES").items()},
            database_url=settings.get("WANGZI_DATABASE_URL") or None,
        )
        crawler.signals.connect(middleware.source_answered, signal=source_answered)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        logger.info("sending requests through %d proxies: %s", len(proxies), ", ".join(p.name for p in proxies))
        return middleware

    def _platform(self) -> str:
        spider = self.crawler.spider
        return getattr(spider, "platform", None) or getattr(spider, "name", "unknown")

    # ------------------------------------------------------------------ requests

    def process_request(self, request: Request, spider: Spider | None = None) -> Request | None:
        platform = self._platform()
        avoid = set(request.meta.get("wangzi_avoid", ()))
        name = request.meta.get("wangzi_proxy_name")
        if name in self.pool.proxies and f"proxy:{name}" not in avoid and self.pool.usable(name, platform):
            if "proxy" not in request.meta:  # a sticky session's proxy, named before this middleware
                self._assign(request, name)
            return None
        session = request.meta.get("wangzi_session_name")
        if request.meta.get("wangzi_sticky_proxy") and session:
            # The session's own proxy is quarantined: the session never goes out elsewhere, so
            # another session (with its own proxy) takes the request.
            self.crawler.stats.inc_value("wangzi/proxies/session_moved")
            meta = {k: v for k, v in request.meta.items()
                    if k not in (*_PROXY_META, "wangzi_session_name", "wangzi_sticky_proxy", "cookiejar")}
            meta["wangzi_avoid"] = [*avoid, f"session:{session}"]
            return request.replace(meta=meta, dont_filter=True)  # type: ignore[return-value]
        proxy = self.pool.choose(platform, {n for n in self.pool.proxies if f"proxy:{n}" in avoid})
        if proxy is None:
            self.crawler.stats.inc_value("wangzi/proxies/none_usable")
            release = self.pool.next_release(platform)
            raise NoProxy(platform, None if release is None else release - self.pool.clock())
        self._assign(request, proxy.name)
        return None

    def _assign(self, request: Request, name: str) -> None:
        proxy = self.pool.proxies[name]
        meta = request.meta
        for key in _PROXY_META:
            meta.pop(key, None)
        request.headers.pop(b"Proxy-Authorization", None)
        meta["proxy"] = proxy.url
        meta["wangzi_proxy_name"] = name
        host = urlsplit(meta.get("wangzi_original_url") or request.url).netloc
        meta["download_slot"] = f"{host}@{name}"
        identity = [i for i in meta.get("wangzi_identity", []) if not i.startswith("proxy:")]
        meta["wangzi_identity"] = [*identity, f"proxy:{name}"]
        meta.setdefault("wangzi_identity_retries", min(self.retries, len(self.pool.proxies) - 1))
        self.crawler.stats.inc_value(f"wangzi/proxies/{name}/requests")

    # ------------------------------------------------------------------ refusals seen here

    def _reroute(self, request: Request, name: str) -> Request | None:
        tries = int(request.meta.get("wangzi_identity_tries", 0))
        if tries >= min(self.retries, len(self.pool.proxies) - 1):
            return None
        retry = request.copy()
        for key in _PROXY_META:
            retry.meta.pop(key, None)
        retry.headers.pop(b"Proxy-Authorization", None)
        retry.meta["wangzi_identity_tries"] = tries + 1
        retry.meta["wangzi_avoid"] = [*request.meta.get("wangzi_avoid", []), f"proxy:{name}"]
        retry.dont_filter = True
        self.crawler.stats.inc_value("wangzi/proxies/rerouted")
        return retry

    def process_response(self, request: Request, response: Response, spider: Spider | None = None) -> Request | Response:
        name = request.meta.get("wangzi_proxy_name")
        if name not in self.pool.proxies or response.status not in self.statuses:
            return response
        self._refused(name, f"http {response.status}")
        request.meta["wangzi_proxy_counted"] = True
        return self._reroute(request, name) or response

    def process_exception(self, request: Request, exception: BaseException, spider: Spider | None = None) -> Request | None:
        name = request.meta.get("wangzi_proxy_name")
        if name not in self.pool.proxies or isinstance(exception, IgnoreRequest):
            return None
        self._refused(name, type(exception).__name__)
        return self._reroute(request, name)

    # ------------------------------------------------------------------ verdicts

    def source_answered(self, spider: Spider, meta: dict[str, Any], result: Any, response: Any = None) -> None:
        name = meta.get("wangzi_proxy_name")
        if name not in self.pool.proxies or response is None:
            return
        if meta.pop("wangzi_proxy_counted", False):
            return
        if isinstance(result, Failure) and result.kind in REFUSAL_KINDS:
            self._refused(name, result.kind.value)
        else:
            self.pool.answered(name, self._platform())

    def _refused(self, name: str, kind: str) -> None:
        self.crawler.stats.inc_value(f"wangzi/proxies/{name}/refused")
        if self.pool.refused(name, self._platform(), kind):
            self.crawler.stats.inc_value("wangzi/proxies/quarantined")
            self.persist()

    # ------------------------------------------------------------------ state

    def persist(self) -> None:
        """Write the states that changed to ``identitystate`` (never the URL)."""
        changed = self.pool.changed_states()
        if not changed:
            return
        from storage.db import session_scope
        from storage.identities import record_states

        rows = [self._row(name, platform, state) for name, platform, state in changed]
        for _, _, state in changed:  # counted once: the next write adds only what is new
            state.requests_written = state.requests  # type: ignore[attr-defined]
        try:
            with session_scope(self.database_url) as session:
                record_states(session, "proxy", rows)
        except Exception:  # noqa: BLE001 - the crawl goes on without the record
            logger.exception("could not store the proxies' states")

    def _row(self, name: str, platform: str, state: ProxyState) -> dict[str, Any]:
        def stamp(value: float | None) -> datetime | None:
            return datetime.fromtimestamp(value, timezone.utc) if value else None

        written = getattr(state, "requests_written", 0)
        refused_written = getattr(state, "refused_written", 0)
        state.refused_written = state.refused  # type: ignore[attr-defined]
        now = self.pool.clock()
        return {
            "name": name, "platform": platform, "status": "quarantined" if state.until > now else "ok",
            "until": stamp(state.until) if state.until > now else None, "requests": state.requests - written,
            "refused": state.refused - refused_written, "quarantines": state.quarantines, "last_failure": state.last_failure,
            "last_failure_at": stamp(state.last_failure_at), "last_ok_at": stamp(state.last_ok_at),
            "rate": self.rates.get(platform, self.rates.get("*")),
        }

    def spider_closed(self, spider: Spider) -> None:
        for (name, platform), state in self.pool.states.items():
            state.changed = state.changed or state.requests > getattr(state, "requests_written", 0)
        self.persist()
