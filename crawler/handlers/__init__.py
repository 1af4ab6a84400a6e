"""Download handlers, as in ``scrapy/core/downloader/handlers/``: ``browser`` (Playwright,
launched on the first request that needs it). Listed in ``DOWNLOAD_HANDLERS`` in
:mod:`crawler.settings`.
"""
