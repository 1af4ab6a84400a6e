"""Scrapy extensions, one per module, as in ``scrapy/extensions/``.

``redaction`` (configured secrets out of every log line), ``progress`` (a live progress line
on a terminal), ``lease_heartbeat`` (renew a ``crawl --due`` run's leases). They are listed
in ``EXTENSIONS`` in :mod:`crawler.settings`.
"""
