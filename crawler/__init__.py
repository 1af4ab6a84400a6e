"""Wangzi's Scrapy project: settings, items, middlewares, pipelines, the CLI and the process runner."""

__version__ = "0.1.0"
