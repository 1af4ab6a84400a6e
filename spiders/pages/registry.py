"""Platform or source name -> its page module (pure parsers, account normaliser).

``wangzi parse``, ``candidates add``, identity links and the fixture tests find parsers
here. Modules are imported lazily, one at a time, so a broken page module only affects
its own platform.

Every platform page module ``spiders/pages/<platform>.py`` defines:

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

from records import PLATFORMS, AccountRef, ParseResult

#: News sources, page parsers and search answers that ``wangzi parse`` also knows, with their page modules.
SOURCES: dict[str, str] = {
    "google_news": "spiders.pages.google_news",
    "gdelt": "spiders.pages.gdelt",
    "article": "spiders.pages.article",
    # Search answers (discovery, docs/discovery.md): they parse to a records.leads.SearchPage.
    "bilibili_search": "spiders.pages.bilibili_search",
    "weibo_search": "spiders.pages.weibo_search",
    "xiaohongshu_search": "spiders.pages.xiaohongshu_search",
    "youtube_search": "spiders.pages.youtube_search",
}


class UnknownPlatform(LookupError):
    """The name is not a platform or source Wangzi knows."""


def platform_module(name: str) -> ModuleType:
    """The page module of a platform or news source."""
    if name in PLATFORMS:
        module_name = f"spiders.pages.{name}"
    elif name in SOURCES:
        module_name = SOURCES[name]
    else:
        known = ", ".join([*PLATFORMS, *SOURCES])
        raise UnknownPlatform(f"unknown platform {name!r}; known: {known}")
    return importlib.import_module(module_name)


def parser_for(name: str) -> Callable[[bytes, str | None, int | None], ParseResult]:
    return platform_module(name).parse


def normalize_account(platform: str, text: str) -> AccountRef:
    """A handle, id or profile URL typed by a user, as an account reference."""
    text = text.strip()
    if not text:
        raise ValueError(f"empty {platform} account")
    return platform_module(platform).normalize_account(text)
