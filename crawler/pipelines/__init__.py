"""Item pipelines, one per module, as in ``scrapy/pipelines/``.

``validation`` (turn items that break the data rules into failures), ``press`` (press
mentions), ``storage`` (snapshots, posts, links, failures, in batches), ``job_ack``
(acknowledge a distributed worker's jobs once stored). Their order is ``ITEM_PIPELINES``
in :mod:`crawler.settings`.
"""
