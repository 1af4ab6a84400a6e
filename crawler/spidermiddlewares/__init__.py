"""Spider middlewares, one per module, as in ``scrapy/spidermiddlewares/``.

``resume`` (JOBDIR pause/resume for account spiders). They are listed in
``SPIDER_MIDDLEWARES`` in :mod:`crawler.settings`.
"""
