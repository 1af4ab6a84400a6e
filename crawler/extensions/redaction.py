"""Keeping secrets out of the logs: every configured secret value is replaced in log records.

Where secrets come from is :mod:`spiders.credentials`; :class:`RedactingFilter` replaces every
known secret value in log records and :class:`RedactionExtension` installs it when a crawler
starts. Recordings are redacted by the HAR writer (cookie/authorization headers and key
parameters, :mod:`crawler.replay`).
"""

from __future__ import annotations

import logging

from scrapy.crawler import Crawler

from spiders.credentials import secret_values

REDACTED = "[REDACTED]"


def redact(text: str, secrets: list[str] | None = None) -> str:
    """``text`` with every secret value (by default every configured one) replaced."""
    for value in secrets if secrets is not None else secret_values():
        text = text.replace(value, REDACTED)
    return text


class RedactingFilter(logging.Filter):
    """Replaces secret values in every log record (message and arguments)."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets = secret_values()

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        cleaned = redact(message, self.secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def install_log_redaction() -> None:
    """Attach the filter to every handler of the root logger (call after logging is set up)."""
    redacting = RedactingFilter()
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(redacting)


class RedactionExtension:
    """Scrapy extension: installs :class:`RedactingFilter` when a crawler starts, so
    ``scrapy crawl`` and ``wangzi`` logs never show a configured secret."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedactionExtension:
        install_log_redaction()
        return cls()
