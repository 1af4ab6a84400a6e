"""Keep every answer a crawl receives in WARC files, indexed in the database (issue 16 item 4)."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

from crawler.replay import Exchange, redact_exchange
from crawler.warc import WarcFile, prune
from records import AccountRef
from spiders.credentials import secret_values
from storage.archive_index import add_captures, expire_files
from storage.db import session_scope

logger = logging.getLogger(__name__)


def _text_headers(headers: Any) -> dict[str, str]:
    return {k.decode("latin-1"): b", ".join(v).decode("latin-1") for k, v in headers.items()}


class ArchiveMiddleware:
    """Downloader middleware: every response - platform answers, article pages, robots.txt,
    retried 429s and 5xx - goes into this run's WARC file (:mod:`crawler.warc`) and gets an
    ``archivecapture`` row naming its run, spider, source, account, real URL and payload hash.

    Enabled by ``WANGZI_ARCHIVE_ENABLED`` with ``WANGZI_ARCHIVE_DIR``. Placed after Scrapy's
    HttpCompressionMiddleware (590) on the way back, so the payload kept is the one the parser
    reads, whose sha256 the snapshots carry; before RedirectMiddleware's follow-up and the
    retry middleware, so every answer is kept, not only the last. Under replay the real URL is
    kept (``meta["wangzi_real_url"]``). Secrets are redacted by the rule HAR recordings use
    (:func:`crawler.replay.redact_exchange`) plus every configured secret value in the bodies.
    Index rows are written ``WANGZI_STORAGE_BATCH`` at a time and when the spider closes; then
    run folders older than ``WANGZI_ARCHIVE_DAYS`` are deleted and their rows marked expired.
    An archive error is logged and counted (``wangzi/archive/errors``), never stops the crawl.
    """

    def __init__(self, crawler: Crawler, directory: Path, days: float, batch_size: int, database_url: str | None) -> None:
        self.crawler = crawler
        self.directory = directory
        self.days = days
        self.batch_size = max(1, batch_size)
        self.database_url = database_url
        self.secrets = secret_values()
        self.file: WarcFile | None = None
        self.pending: list[dict[str, Any]] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveMiddleware:
        settings = crawler.settings
        directory = settings.get("WANGZI_ARCHIVE_DIR")
        if not settings.getbool("WANGZI_ARCHIVE_ENABLED") or not directory:
            raise NotConfigured()
        middleware = cls(
            crawler, Path(directory), settings.getfloat("WANGZI_ARCHIVE_DAYS"),
            settings.getint("WANGZI_STORAGE_BATCH"), settings.get("WANGZI_DATABASE_URL") or None,
        )
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def process_response(self, request: Request, response: Response, spider: Spider | None = None) -> Response:
        try:
            self._keep(request, response)
        except Exception:  # noqa: BLE001 - the archive must never cost the crawl an answer
            logger.exception("could not archive %s", request.meta.get("wangzi_real_url") or response.url)
            self.crawler.stats.inc_value("wangzi/archive/errors")
        return response

    def _keep(self, request: Request, response: Response) -> None:
        spider = self.crawler.spider
        platform = getattr(spider, "platform", None) or getattr(spider, "name", "unknown")
        run_id = self.crawler.stats.get_value("wangzi/run_id") or self.crawler.settings.getint("WANGZI_RUN_ID") or None
        if self.file is None:
            self.file = WarcFile(self.directory, run_id, getattr(spider, "name", platform))
        url = request.meta.get("wangzi_real_url") or request.meta.get("wangzi_original_url") or response.url
        now = datetime.now(timezone.utc)
        exchange = redact_exchange(Exchange(
            url=url, status=response.status, body=response.body, headers=_text_headers(response.headers),
            method=request.method, request_headers=_text_headers(request.headers), request_body=request.body or None,
            started_at=now,
        ), self.secrets)
        account: AccountRef | None = request.meta.get("wangzi_account")
        source = request.meta.get("wangzi_source")
        digest = hashlib.sha256(response.body).hexdigest()
        written = self.file.write(exchange, payload_sha256=digest, context={
            "Run": str(run_id), "Platform": platform, "Source": source,
            "Account": {"platform": account.platform, "account_id": account.account_id, "handle": account.handle,
                        "platform_user_id": account.platform_user_id} if account is not None else None,
        })
        content_type = next((v for k, v in exchange.headers.items() if k.lower() == "content-type"), None)
        self.pending.append({
            "crawl_run_id": run_id, "captured_at": now, "platform": platform, "source": source,
            "account_id": account.account_id if account else None, "handle": account.handle if account else None,
            "platform_user_id": account.platform_user_id if account else None, "method": request.method,
            "url": exchange.url, "http_status": response.status, "content_type": (content_type or "")[:200] or None,
            "size": len(response.body), "payload_sha256": digest, "warc_file": written.warc_file,
            "warc_offset": written.offset, "warc_length": written.length, "warc_record_id": written.record_id,
        })
        self.crawler.stats.inc_value("wangzi/archive/records")
        if len(self.pending) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        """The file first, then its index rows: a row never points past what is on disk."""
        if not self.pending:
            return
        assert self.file is not None
        self.file.flush()
        rows, self.pending = self.pending, []
        try:
            with session_scope(self.database_url) as session:
                add_captures(session, rows)
        except Exception:  # noqa: BLE001 - the records are in the file; only their index is lost
            logger.exception("could not index %d archived answers of %s", len(rows), self.file.path)
            self.crawler.stats.inc_value("wangzi/archive/errors")

    def spider_closed(self, spider: Spider) -> None:
        self.flush()
        if self.file is not None:
            self.file.close()
        try:
            deleted = prune(self.directory, self.days)
            if deleted:
                with session_scope(self.database_url) as session:
                    expire_files(session, deleted)
                logger.info("archive: deleted %d WARC files older than %g days", len(deleted), self.days)
        except Exception:  # noqa: BLE001
            logger.exception("could not apply WANGZI_ARCHIVE_DAYS to %s", self.directory)
