"""Offline DNS for crawls against the fault server (``TWISTED_DNS_RESOLVER`` in ``tests.faults.settings``).

Every request of such a crawl is rewritten to the fault server on 127.0.0.1, so no platform
host is ever connected to; the project's resolver (``crawler.dns.PublicAddressResolver``)
still checks every address, but nothing asks the system's DNS:

* an IP literal is its own address (the fault server's 127.0.0.1 is allowed, as the replay
  server's is under ``--replay``; no other loopback URL gets that far: the downloader
  middleware refuses it first);
* a name under ``private.wangzi-fault.test`` resolves to :data:`PRIVATE` (a public-looking
  host whose DNS points into the local network: refused);
* every other name resolves to :data:`PUBLIC`.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from scrapy.crawler import Crawler
from twisted.internet import defer
from twisted.internet.base import ReactorBase

from crawler.dns import PublicAddressResolver

PUBLIC = "93.184.215.14"
PRIVATE = "10.0.0.7"
PRIVATE_SUFFIX = ".private.wangzi-fault.test"


class FaultResolver(PublicAddressResolver):
    @classmethod
    def from_crawler(cls, crawler: Crawler, reactor: ReactorBase) -> "FaultResolver":
        resolver = super().from_crawler(crawler, reactor)
        resolver.allow_loopback = True  # the fault server
        return resolver  # type: ignore[return-value]

    def getHostByName(self, name: str, timeout: Any = ()) -> Any:
        try:
            address = str(ipaddress.ip_address(name))
        except ValueError:
            address = PRIVATE if name.lower().endswith(PRIVATE_SUFFIX) else PUBLIC
        return defer.maybeDeferred(self.checked, address, name)
