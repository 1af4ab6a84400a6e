"""Every request goes to a public host over http(s), or is refused with a typed failure.

First of the downloader middlewares (``DOWNLOADER_MIDDLEWARES`` in :mod:`crawler.settings`),
so it sees every request before anything is sent for it: a spider's own, robots.txt
requests (before ``RobotsTxtMiddleware`` asks a host for one), retries, and each redirect
hop (``RedirectMiddleware``'s new request goes through the middlewares again). A request is
refused when its URL fails ``spiders.pages.public_url.refused_url`` (scheme, credentials, an
IP literal or local name) or, on a live crawl, when its host resolves to an address that
fails ``refused_address``; the name is resolved through the crawl's resolver
(``crawler.dns``), whose cache the connection then uses. A refused request raises
:class:`RefusedRequest`, an ``IgnoreRequest`` (never retried) carrying the ``refused``
failure, which the spiders store (``wangzi_failure``, as the circuit breaker's).

Under replay the replay middleware rewrites requests to its loopback server: the URL checked
is the real one (``wangzi_original_url``, or the real URL behind a redirect the server kept
on loopback), the loopback server itself is allowed, and no name is resolved (nothing
leaves the machine).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, Spider
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.defer import maybe_deferred_to_future

from crawler.dns import RefusedAddress
from crawler.replay import real_url
from records import Failure
from spiders.pages.public_url import ipv4_number, refused_address, refused_url

logger = logging.getLogger(__name__)

Resolve = Callable[[str], Awaitable[str]]


class RefusedRequest(IgnoreRequest):
    """A request that was not sent: its URL is not http(s) to a public host."""

    def __init__(self, url: str, failure: Failure) -> None:
        super().__init__(f"{url}: {failure.detail}")
        self.url = url
        self.wangzi_failure = failure


async def resolve_with_reactor(name: str) -> str:
    """The address the crawl's resolver gives ``name`` (and caches for the connection)."""
    from twisted.internet import reactor

    return await maybe_deferred_to_future(reactor.resolve(name))  # type: ignore[attr-defined]


class PublicHostsMiddleware:
    """Downloader middleware: refuse requests to anything but public http(s) hosts."""

    def __init__(self, stats: Any, resolve: Resolve | None) -> None:
        self.stats = stats
        self.resolve = resolve  # None: no name is resolved (replay)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PublicHostsMiddleware:
        replay = bool(crawler.settings.get("WANGZI_REPLAY"))
        return cls(crawler.stats, None if replay else resolve_with_reactor)

    async def process_request(self, request: Request, spider: Spider | None = None) -> None:
        replay_url = request.meta.get("wangzi_replay_url")
        if replay_url and request.url == replay_url:
            # Rewritten by the replay middleware: the loopback server is the destination, the
            # real URL was checked before the rewrite; checked again, it costs nothing.
            self._check(request, request.meta.get("wangzi_original_url") or request.url)
            return
        behind = real_url(request.url, replay_url)
        if behind is not None:  # a redirect the replay server kept on loopback
            self._check(request, behind)
            return
        self._check(request, request.url)
        if self.resolve is not None:
            await self._check_address(request)

    def _check(self, request: Request, url: str) -> None:
        failure = refused_url(url)
        if failure is not None:
            self._refuse(request, url, failure)

    async def _check_address(self, request: Request) -> None:
        host = urlsplit(request.url).hostname or ""
        if ":" in host or _is_number(host):
            return  # an IP literal: refused_url judged it already
        try:
            address = await self.resolve(host)  # type: ignore[misc]
        except RefusedAddress as refused:
            self._refuse(request, request.url, refused.wangzi_failure)
        except Exception:  # noqa: BLE001 - no address (DNSLookupError, timeout): the download fails as it always did
            return
        else:
            failure = refused_address(address, host)
            if failure is not None:
                self._refuse(request, request.url, failure)

    def _refuse(self, request: Request, url: str, failure: Failure) -> None:
        if request.meta.get("redirect_urls"):
            # Not naming the URL: a printed failure line already names the one it was stored under.
            failure = Failure(failure.kind, f"redirect hop, {failure.detail}", failure.status)
        if self.stats is not None:
            self.stats.inc_value("wangzi/refused")
        logger.warning("refused %s %s: %s", request.method, url, failure.detail)
        raise RefusedRequest(url, failure)


def _is_number(host: str) -> bool:
    try:
        return ipv4_number(host) is not None
    except ValueError:
        return True
