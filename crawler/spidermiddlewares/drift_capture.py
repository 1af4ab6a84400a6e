"""Keep the answers a parser calls ``unrecognized`` (issue 16 item 5): drift, to become fixtures."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Request, Response

from crawler.replay import redact_body, redact_url
from records import Failure, FailureItem, FailureKind, FeedFailureItem
from spiders.credentials import secret_values
from spiders.pages.fingerprint import shape
from spiders.pages.registry import UnknownPlatform, platform_module
from storage.db import session_scope
from storage.drift_captures import add_drift_capture

logger = logging.getLogger(__name__)


class DriftCaptureMiddleware:
    """Spider middleware: when a response's parser answered ``unrecognized``, keep the response
    (``driftcapture``: URL, platform, parser and version, its shape, at most
    ``WANGZI_DRIFT_MAX_BYTES`` of the payload, secrets redacted) for ``wangzi drift`` and
    ``wangzi fixtures add``.

    It reads the verdict the spider already reached, never parses again: an account chain
    that goes on carries each answer's outcome in the next request's ``meta["wangzi_results"]``
    (its last entry is this response's: source, result, provenance, URL); a chain that ends
    yields a :class:`~records.FailureItem` naming this response's URL; a press feed yields a
    :class:`~records.FeedFailureItem`. Enabled by ``WANGZI_DRIFT_ENABLED``. A capture that
    cannot be stored is logged, never stops the crawl.
    """

    def __init__(self, crawler: Crawler, max_bytes: int, database_url: str | None) -> None:
        self.crawler = crawler
        self.max_bytes = max_bytes
        self.database_url = database_url
        self.secrets = secret_values()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DriftCaptureMiddleware:
        settings = crawler.settings
        if not settings.getbool("WANGZI_DRIFT_ENABLED"):
            raise NotConfigured()
        return cls(crawler, settings.getint("WANGZI_DRIFT_MAX_BYTES"), settings.get("WANGZI_DATABASE_URL") or None)

    # ------------------------------------------------------------------ seeing verdicts

    def _look(self, response: Response, output: Any) -> None:
        try:
            found = self._verdict(response, output)
            if found is not None:
                self._keep(response, *found)
        except Exception:  # noqa: BLE001 - drift capture must never cost the crawl an item
            logger.exception("could not keep the unrecognized answer of %s", response.url)
            self.crawler.stats.inc_value("wangzi/drift/errors")

    def _verdict(self, response: Response, output: Any) -> tuple[str, str, str, Failure] | None:
        """(platform, parser, version, failure) when ``output`` says this response was unrecognized."""
        spider = self.crawler.spider
        url = self._real_url(response)
        if isinstance(output, Request):
            results = output.meta.get("wangzi_results") or []
            # The chain's next request carries one outcome more than this response's request did.
            if not results or len(results) != len(response.meta.get("wangzi_results") or []) + 1:
                return None
            source, result, _, seen_url = results[-1][:4]
            if isinstance(result, Failure) and result.kind is FailureKind.UNRECOGNIZED and seen_url == url:
                return spider.platform, source.name, spider.parser_version, result
            return None
        if isinstance(output, FailureItem) and output.failure.kind is FailureKind.UNRECOGNIZED and output.url == url:
            parser = response.meta.get("wangzi_source") or output.account.platform
            return output.account.platform, parser, getattr(spider, "parser_version", "?"), output.failure
        if isinstance(output, FeedFailureItem) and output.failure.kind is FailureKind.UNRECOGNIZED and output.url == url:
            try:
                version = str(getattr(platform_module(output.source), "PARSER_VERSION", "?"))
            except UnknownPlatform:
                version = "?"
            return output.source, output.source, version, output.failure
        return None

    @staticmethod
    def _real_url(response: Response) -> str:
        return response.meta.get("wangzi_real_url") or response.meta.get("wangzi_original_url") or response.url

    def _keep(self, response: Response, platform: str, parser: str, version: str, failure: Failure) -> None:
        body = response.body
        kept = redact_body(body[: self.max_bytes], self.secrets)
        found = shape(body)
        content_type = response.headers.get("Content-Type")
        row = {
            "crawl_run_id": self.crawler.stats.get_value("wangzi/run_id") or self.crawler.settings.getint("WANGZI_RUN_ID") or None,
            "platform": platform, "parser": parser, "parser_version": str(version),
            "url": redact_url(self._real_url(response)), "http_status": response.status,
            "content_type": content_type.decode("latin-1")[:200] if content_type else None,
            "detail": failure.detail[:500], "shape": found.key, "shape_summary": found.summary,
            "payload_sha256": hashlib.sha256(body).hexdigest(), "size": len(body),
            "truncated": len(body) > self.max_bytes, "payload": kept,
        }
        with session_scope(self.database_url) as session:
            added = add_drift_capture(session, row)
        if added:
            self.crawler.stats.inc_value("wangzi/drift/captures")
            logger.info("kept an unrecognized %s answer (%s, shape %s) of %s", platform, parser, found.key, row["url"])

    # ------------------------------------------------------------------ Scrapy's hooks

    def process_spider_output(self, response: Response, result: Iterable[Any], spider: Any = None) -> Iterator[Any]:
        for output in result:
            self._look(response, output)
            yield output

    async def process_spider_output_async(self, response: Response, result: AsyncIterator[Any], spider: Any = None) -> AsyncIterator[Any]:
        async for output in result:
            self._look(response, output)
            yield output
