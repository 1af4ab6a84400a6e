"""The DNS resolver of every crawl: Scrapy's caching resolver that never hands a connection a
non-public address (``TWISTED_DNS_RESOLVER`` in :mod:`crawler.settings`).

Checking a URL's host before a request is not enough on its own: a public-looking name can
resolve to ``127.0.0.1`` or ``169.254.169.254`` (a hostile DNS record), and a name checked
once can resolve elsewhere when the connection is made (DNS rebinding). Twisted asks this
resolver for the address of every connection Scrapy's HTTP client opens (IP literals too), so
the address checked here is the address connected to: a loopback, private, link-local,
multicast, reserved or unspecified one (``spiders.pages.public_url.refused_address``) fails
the lookup with :class:`RefusedAddress`. Results are cached as by Scrapy's own resolver
(``DNSCACHE_ENABLED``, ``DNSCACHE_SIZE``) and checked on every use, cached or not.

Under ``--replay`` (``WANGZI_REPLAY`` set) every request goes to the loopback replay server,
so loopback addresses are allowed then, and only then; the other kinds never are.

Through Twisted's connection code a refusal reaches the request as a DNS lookup error (a
``network`` failure); ``crawler.middlewares.public_hosts`` asks this resolver before the
request is sent, so a refused address is normally a typed ``refused`` failure, and this
check is what remains when a name changes its answer in between. Chromium (Playwright
pages) resolves names itself; the middleware's check covers those requests.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Any

from scrapy.crawler import Crawler
from scrapy.resolver import CachingThreadedResolver
from twisted.internet.base import ReactorBase
from twisted.internet.error import DNSLookupError

from records import Failure
from spiders.pages.public_url import refused_address

logger = logging.getLogger(__name__)


class RefusedAddress(DNSLookupError):
    """A name resolved to an address no request may go to; carries the ``refused`` failure."""

    def __init__(self, name: str, address: str, failure: Failure) -> None:
        super().__init__(failure.detail)
        self.name = name
        self.address = address
        self.wangzi_failure = failure


class PublicAddressResolver(CachingThreadedResolver):
    """``scrapy.resolver.CachingThreadedResolver`` (IPv4, cached, ``DNS_TIMEOUT``) that refuses
    every address that is not public, loopback excepted under replay."""

    def __init__(self, reactor: ReactorBase, cache_size: int, timeout: float, allow_loopback: bool) -> None:
        super().__init__(reactor, cache_size, timeout)
        self.allow_loopback = allow_loopback

    @classmethod
    def from_crawler(cls, crawler: Crawler, reactor: ReactorBase) -> PublicAddressResolver:
        # Built once per process from the process's settings (CrawlerProcess), as Scrapy's own.
        settings = crawler.settings
        cache_size = settings.getint("DNSCACHE_SIZE") if settings.getbool("DNSCACHE_ENABLED") else 0
        return cls(reactor, cache_size, settings.getfloat("DNS_TIMEOUT"), bool(settings.get("WANGZI_REPLAY")))

    def getHostByName(self, name: str, timeout: Any = ()) -> Any:
        return super().getHostByName(name, timeout).addCallback(self.checked, name)

    def checked(self, address: str, name: str) -> str:
        """``address`` when a connection may go to it, else :class:`RefusedAddress`."""
        if self.allow_loopback and ipaddress.ip_address(address).is_loopback:
            return address
        failure = refused_address(address, name)
        if failure is None:
            return address
        logger.warning("DNS: refused %s -> %s (%s)", name, address, failure.detail)
        raise RefusedAddress(name, address, failure)
