"""Wangzi's Scrapy project, laid out as Scrapy lays itself out.

``settings.py`` (every default), ``items.py``; the components one per module, grouped by kind:
``middlewares/`` (downloader), ``spidermiddlewares/``, ``pipelines/``, ``extensions/``,
``handlers/`` (download handlers); ``distributed/`` (the Redis job queue, rate limit and
workers); ``replay.py`` (HAR recordings and the loopback server), ``schedule.py`` (refresh
policy and leases), ``deadletter.py``, ``runner.py`` (crawls in this process), ``logging.py``
(JSON logs); ``cli/`` (the ``wangzi`` command) and ``service/`` (the HTTP API).
"""

__version__ = "0.1.0"
