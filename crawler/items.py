"""Scrapy's conventional ``items`` module: the items and records spiders yield.

They are defined in the bottom layer, :mod:`records` (which imports nothing of the project),
and re-exported here so ``crawler.items`` reads as it does in any Scrapy project.
"""

from records import *  # noqa: F401,F403
from records import __all__  # noqa: F401
