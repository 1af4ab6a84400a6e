"""Give each request that needs a login one of the platform's sessions, and keep their health.

On for spiders that have sessions (``spider.platform_sessions()``, read from the environment or
the secrets file by :mod:`spiders.credentials`) and for requests that ask for one
(``meta["wangzi_session"]``); the spider puts the chosen session on the request itself
(``spider.apply_session(request, session)``: cookies, a CSRF header), each session in its own
cookie jar (``meta["cookiejar"]``). Runs before Scrapy's ``CookiesMiddleware`` (700).

* **Rotation and windows**: the least recently used session whose window for the endpoint (the
  source's name, ``WANGZI_SESSION_WINDOWS``) is not spent and that is not locked. When none is
  free, the request waits for the first to be (at most ``WANGZI_SESSION_MAX_WAIT`` seconds).
* **Locks**: a rate limit on a session (``rate_limited``: HTTP 429, X code 88) locks that
  session for that endpoint (never for the others) until the platform says it may come back:
  ``x-rate-limit-reset`` when sent, else ``Retry-After``, else the end of the endpoint's window;
  an answer saying ``x-rate-limit-remaining: 0`` does the same. The spider asks again through
  the next session (``meta["wangzi_identity"]``): at once when the platform named the session's
  reset, after the ``Retry-After`` when that is all it said (the limit may be the address's,
  which the next session shares).
* **Expiry**: ``login_required`` on a logged-in request marks the session expired: it is never
  used again in the crawl, ``wangzi sessions list`` and ``wangzi health`` name it. The request
  is asked again through another session (at most ``WANGZI_PROXY_RETRIES`` times, so one
  account whose own URL walls every session cannot expire them all: after that its
  ``login_required`` is stored). When no session is left, the account's requests are not
  sent and nothing is stored for them (the account stays due): an expired cookie is one
  expired session, not a pile of failures.
* **Unsent requests are counted, not lost**: each is logged, counted
  (``wangzi/sessions/unsent``) and, when the crawl closes, written to the run's statistics for
  the platform (``unsent``, shown by ``wangzi runs --json``) with a warning naming the count.
* **Sticky proxy**: with proxies configured, a session always goes out through the same proxy
  (:func:`~crawler.distributed.session_pool.sticky_proxy`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured

from crawler.distributed.session_pool import SessionPool, sticky_proxy
from records import Failure, FailureKind
from spiders.base import source_answered
from spiders.credentials import configured_proxies

logger = logging.getLogger(__name__)


class NoSession(IgnoreRequest):
    """No session may carry the request (all expired, or locked past the wait): not sent."""

    wangzi_unsent = True


class SessionMiddleware:
    """Downloader middleware (see module docstring)."""

    def __init__(self, crawler: Crawler, windows: dict[str, tuple[int, float]], max_wait: float,
                 retries: int, database_url: str | None) -> None:
        self.crawler = crawler
        self.windows = windows
        self.max_wait = max_wait
        self.retries = retries
        self.database_url = database_url
        self.pool: SessionPool | None = None
        self.proxies: list[str] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SessionMiddleware:
        settings = crawler.settings
        windows = {str(k): (int(v[0]), float(v[1])) for k, v in settings.getdict("WANGZI_SESSION_WINDOWS").items()}
        middleware = cls(crawler, windows, settings.getfloat("WANGZI_SESSION_MAX_WAIT"),
                         settings.getint("WANGZI_PROXY_RETRIES"), settings.get("WANGZI_DATABASE_URL") or None)
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(middleware.source_answered, signal=source_answered)
        return middleware

    def spider_opened(self, spider: Spider) -> None:
        reader = getattr(spider, "platform_sessions", None)
        sessions = reader() if reader is not None else []
        if not sessions:
            return
        platform = getattr(spider, "platform", spider.name)
        foreign = [s.name for s in sessions if s.platform != platform]
        if foreign:  # never: each spider reads its own platform's sessions
            raise NotConfigured(f"sessions of another platform given to {platform}: {', '.join(foreign)}")
        self.pool = SessionPool(sessions, self.windows)
        try:
            self.proxies = [p.name for p in configured_proxies()]
        except (OSError, ValueError):
            self.proxies = []
        logger.info("%s: %d sessions: %s", platform, len(sessions), ", ".join(s.name for s in sessions))

    # ------------------------------------------------------------------ requests

    async def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if self.pool is None or not request.meta.get("wangzi_session"):
            return None
        spider = self.crawler.spider
        endpoint = request.meta.get("wangzi_source", "")
        avoid = {a.split(":", 1)[1] for a in request.meta.get("wangzi_avoid", ()) if a.startswith("session:")}
        name = request.meta.get("wangzi_session_name")
        if name in self.pool.sessions and name not in avoid and not self.pool.states[name].expired:
            return None  # chosen on an earlier pass (the replay rewrite, a redirect)
        pause = float(request.meta.get("wangzi_not_before") or 0) - time.time()
        if pause > 0:  # asked again after a Retry-After: the next session waits it out too
            self.crawler.stats.inc_value("wangzi/sessions/wait_ms", int(min(pause, self.max_wait) * 1000))
            await asyncio.sleep(min(pause, self.max_wait))
        session, wait = self.pool.choose(endpoint, avoid)
        if session is None and wait is not None and wait <= self.max_wait:
            self.crawler.stats.inc_value("wangzi/sessions/wait_ms", int(wait * 1000))
            await asyncio.sleep(wait)
            session, wait = self.pool.choose(endpoint, avoid)
        if session is None:
            self.crawler.stats.inc_value("wangzi/sessions/unsent")
            self.persist()
            raise NoSession(f"no {getattr(spider, 'platform', '')} session may ask {endpoint}: "
                            + ("every session is expired" if wait is None else f"the first is free in {wait:.0f}s"))
        spider.apply_session(request, session)  # type: ignore[union-attr]
        meta = request.meta
        meta["wangzi_session_name"] = session.name
        identity = [i for i in meta.get("wangzi_identity", []) if not i.startswith("session:")]
        meta["wangzi_identity"] = [*identity, f"session:{session.name}"]
        meta["wangzi_identity_retries"] = max(int(meta.get("wangzi_identity_retries", 0)), min(self.retries, len(self.pool.sessions) - 1))
        proxy = sticky_proxy(session, self.proxies)
        if proxy is not None:
            meta["wangzi_proxy_name"] = proxy
            meta["wangzi_sticky_proxy"] = True
        self.crawler.stats.inc_value(f"wangzi/sessions/{session.name}/requests")
        return None

    # ------------------------------------------------------------------ verdicts

    def source_answered(self, spider: Spider, meta: dict[str, Any], result: Any, response: Any = None) -> None:
        name = meta.get("wangzi_session_name")
        if self.pool is None or name not in self.pool.sessions:
            return
        endpoint = meta.get("wangzi_source", "")
        reset = remaining = None
        if response is not None:
            raw_reset = response.headers.get(b"x-rate-limit-reset")
            raw_remaining = response.headers.get(b"x-rate-limit-remaining")
            try:
                reset = float(raw_reset) if raw_reset else None
                remaining = int(raw_remaining) if raw_remaining else None
            except ValueError:
                reset = remaining = None
        if isinstance(result, Failure) and result.kind is FailureKind.RATE_LIMITED:
            if reset is None and response is not None:
                reset = retry_after(response.headers.get(b"Retry-After"))
                if reset is not None:  # the request asked again through another session waits it too
                    meta["wangzi_not_before"] = reset
            self.pool.rate_limited(name, endpoint, reset)
            self.crawler.stats.inc_value("wangzi/sessions/locked")
            self.persist()
        elif isinstance(result, Failure) and result.kind is FailureKind.LOGIN_REQUIRED:
            # The wall is the session's, not the account's: the spider asks once more (this
            # signal runs before it decides), through another session or, with none left, not
            # at all - so the account stores nothing instead of a login_required of its own.
            # At most WANGZI_PROXY_RETRIES sessions per request: a wall that is the account's
            # own (every session walled on it) is then stored as the account's.
            meta["wangzi_identity_retries"] = max(int(meta.get("wangzi_identity_retries", 0)),
                                                  min(int(meta.get("wangzi_identity_tries", 0)) + 1, self.retries))
            self.pool.expired(name)
            self.crawler.stats.inc_value("wangzi/sessions/expired")
            self.persist()
        elif response is not None:
            self.pool.answered(name, endpoint, remaining, reset)

    # ------------------------------------------------------------------ state

    def persist(self) -> None:
        """Write the sessions' states to ``identitystate`` (names only, never values)."""
        if self.pool is None:
            return
        rows = []
        platform = getattr(self.crawler.spider, "platform", "")

        def stamp(value: float | None) -> datetime | None:
            return datetime.fromtimestamp(value, timezone.utc) if value else None

        for name, state in self.pool.states.items():
            if not state.changed:
                continue
            state.changed = False
            status, until, endpoint = self.pool.status(name)
            written = getattr(state, "written", (0, 0))
            rows.append({"name": name, "platform": platform, "status": status, "until": stamp(until), "endpoint": endpoint,
                         "requests": state.requests - written[0], "refused": state.refused - written[1],
                         "last_failure": state.last_failure, "last_failure_at": stamp(state.last_failure_at),
                         "last_ok_at": stamp(state.last_ok_at)})
            state.written = (state.requests, state.refused)  # type: ignore[attr-defined]
        if not rows:
            return
        from storage.db import session_scope
        from storage.identities import record_states

        try:
            with session_scope(self.database_url) as session:
                record_states(session, "session", rows)
        except Exception:  # noqa: BLE001 - the crawl goes on without the record
            logger.exception("could not store the sessions' states")

    def spider_closed(self, spider: Spider) -> None:
        self.persist()
        self.record_unsent()

    def record_unsent(self) -> None:
        """Name the requests no session could carry: a warning, and ``unsent`` in the run's
        statistics for the platform (the storage pipeline has written them when the spider
        closes; this adds the count to them)."""
        unsent = self.crawler.stats.get_value("wangzi/sessions/unsent") or 0
        if self.pool is None or not unsent:
            return
        platform = getattr(self.crawler.spider, "platform", "")
        states = {name: self.pool.status(name)[0] for name in self.pool.sessions}
        logger.warning("%s: %d request(s) not sent: no session could carry them (sessions: %s); their accounts "
                       "stay due", platform, unsent, ", ".join(f"{n} {s}" for n, s in states.items()))
        run_id = self.crawler.settings.getint("WANGZI_RUN_ID") or self.crawler.stats.get_value("wangzi/run_id")
        if not run_id:
            return
        from storage.db import session_scope
        from storage.runs import get_run, merge_run_stats

        try:
            with session_scope(self.database_url) as session:
                run = get_run(session, int(run_id))
                if run is not None:
                    stats = (run.stats or {}).get(platform)
                    merge_run_stats(session, int(run_id), platform, {**(stats if isinstance(stats, dict) else {}),
                                                                     "unsent": unsent})
        except Exception:  # noqa: BLE001 - the warning above still says it
            logger.exception("could not add the unsent requests to the run's statistics")


def retry_after(value: bytes | None, now: float | None = None) -> float | None:
    """The time (``time.time()``) a ``Retry-After`` header (seconds or an HTTP date) names, or None."""
    if not value:
        return None
    text = value.decode("latin-1").strip()
    now = time.time() if now is None else now
    if text.isdigit():
        return now + int(text)
    try:
        return parsedate_to_datetime(text).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
