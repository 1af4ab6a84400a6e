"""Downloader middlewares, one per module, as in ``scrapy/downloadermiddlewares/``.

``public_hosts`` (first of all: only http(s) requests to public hosts leave; the resolver
is :mod:`crawler.dns`), ``backoff`` (retry 429/5xx after ``Retry-After`` or exponential
backoff), ``circuit`` (pause a platform that keeps refusing), ``har_record`` and ``har_replay`` (HAR recordings, see
:mod:`crawler.replay`), ``rate_limit`` (the per-platform token bucket distributed workers
share). Their order is ``DOWNLOADER_MIDDLEWARES`` in :mod:`crawler.settings`.
"""
