"""Platform name -> its module's pure parser and account normaliser.

``wangzi parse``, ``candidates add`` and the fixture tests find parsers here. Modules
are imported lazily, one at a time, so a broken or missing platform module only
affects that platform.

Every platform module ``spiders/<platform>.py`` defines:

* ``parse(payload: bytes, url: str | None, status: int | None) -> ParseResult`` -
  dispatches on the URL (and payload shape when no URL is given);
* ``normalize_account(text: str) -> AccountRef`` - accepts a handle, id or profile URL
  and raises ``ValueError`` with a user-facing message for anything else;
* ``PARSER_VERSION`` - bumped whenever parsing changes what it reads.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType

from crawler.items import AccountRef, ParseResult

#: Social platforms whose accounts Wangzi tracks, in display order.
#: ``domestic`` is True for platforms whose audience is mainland China.
PLATFORMS: dict[str, bool] = {
    "bilibili": True,
    "weibo": True,
    "xiaohongshu": True,
    "douyin": True,
    "taobao_live": True,
    "youku": True,
    "youtube": False,
    "instagram": False,
    "tiktok": False,
    "x": False,
}

#: News sources and page parsers that ``wangzi parse`` also knows.
SOURCES: dict[str, str] = {
    "google_news": "spiders.google_news",
    "gdelt": "spiders.gdelt",
    "article": "spiders.article",
}

DOMESTIC_PLATFORMS = frozenset(p for p, domestic in PLATFORMS.items() if domestic)
OVERSEAS_PLATFORMS = frozenset(p for p, domestic in PLATFORMS.items() if not domestic)


class UnknownPlatform(LookupError):
    """The name is not a platform or source Wangzi knows."""


def platform_module(name: str) -> ModuleType:
    if name in PLATFORMS:
        module_name = f"spiders.{name}"
    elif name in SOURCES:
        module_name = SOURCES[name]
    else:
        known = ", ".join([*PLATFORMS, *SOURCES])
        raise UnknownPlatform(f"unknown platform {name!r}; known: {known}")
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            raise UnknownPlatform(f"platform {name!r} is not implemented yet") from exc
        raise


def available_platforms() -> list[str]:
    """Platforms whose module imports, in display order."""
    found = []
    for name in PLATFORMS:
        try:
            platform_module(name)
        except UnknownPlatform:
            continue
        found.append(name)
    return found


def parser_for(name: str) -> Callable[[bytes, str | None, int | None], ParseResult]:
    return platform_module(name).parse


def normalize_account(platform: str, text: str) -> AccountRef:
    """A handle, id or profile URL typed by a user, as an account reference."""
    text = text.strip()
    if not text:
        raise ValueError(f"empty {platform} account")
    return platform_module(platform).normalize_account(text)
