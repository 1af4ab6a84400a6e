"""Structured logs: one JSON object per line (``--log-json``), for log shippers and alerting.

Every record carries ``time`` (UTC, ISO 8601), ``level``, ``logger`` and ``message``; the
spider's name when Scrapy adds it, the exception text when there is one, and any
``extra={...}`` fields given to the logging call.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone
from typing import Any, TextIO

#: Attributes every LogRecord has; anything else was passed with ``extra=`` and is kept.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """Format a record as one line of JSON."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        spider = getattr(record, "spider", None)
        if spider is not None:
            entry["spider"] = getattr(spider, "name", str(spider))
        for key, value in vars(record).items():
            if key not in _STANDARD and key != "spider" and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


_HANDLER_NAME = "wangzi-json"


def install_json_logging(level: str | int = "INFO", stream: TextIO | None = None) -> logging.Handler:
    """Send every log record (Scrapy's included) to ``stream`` (stderr) as JSON lines.

    Idempotent: a second call replaces the first handler."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == _HANDLER_NAME:
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter())
    handler.setLevel(level if isinstance(level, int) else level.upper())
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > handler.level:
        root.setLevel(handler.level)
    return handler
