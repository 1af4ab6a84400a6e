"""Playwright for the sources that need a real browser, started only when one is needed.

scrapy-playwright starts its Node driver when the engine starts, even for crawls that never
ask for a page. This handler defers that to the first ``meta["playwright"]`` request, so
plain-HTTP spiders (and the many processes of a distributed crawl) carry no browser cost.
The browser itself is Debian's Chromium (see ``crawler.settings.chromium_executable``).
"""

from __future__ import annotations

import asyncio
from typing import Any

from scrapy.http import Request, Response
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler


class LazyPlaywrightDownloadHandler(ScrapyPlaywrightDownloadHandler):
    """``ScrapyPlaywrightDownloadHandler`` that launches Playwright on first use."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lazy_lock = asyncio.Lock()

    def _engine_started(self) -> Any:  # type: ignore[override]
        return None

    async def _maybe_launch_in_thread(self) -> None:  # type: ignore[override]
        return None

    async def _ensure_launched(self) -> None:
        async with self._lazy_lock:
            if getattr(self, "browser_provider", None) is None:
                await self._launch()

    async def download_request(self, request: Request, spider: Any = None) -> Response:  # type: ignore[override]
        if request.meta.get("playwright"):
            await self._ensure_launched()
            return await self._download_request(request)
        return await super().download_request(request)
