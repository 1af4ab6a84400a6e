"""A press search without Scrapy: whom it looks for, how its settings read, what it yields.

``spiders.press.PressSpider`` decides what to request; everything it computes lives here:

* **Targets** (:func:`press_target`): a candidate's searchable aliases
  (``enrichment.press.searchable_aliases`` over the display name and aliases) and, as
  context that raises confidence, the handles of their accounts (3 characters or more) and
  the international brands their own latest posts mention (:func:`promoted_brand_terms`).
  The rows come from ``storage.mentions.press_candidate``.
* **Settings** (:func:`press_number`, :func:`press_today`, :func:`editions`, :func:`truthy`):
  how the ``WANGZI_*`` press settings read. Their defaults are in ``crawler/settings.py``
  (the "press" block); a number that is not a whole number is logged and replaced by its
  default there (``WANGZI_PRESS_DEFAULTS``), so a typo does not stop a crawl.
* **Mentions** (:func:`article_mention`, :func:`unconfirmed_mention`): the
  ``PressMentionItem`` of an article page that was read, or of a feed item alone (the page
  could not be read, or a Google link was not resolved: ``unconfirmed`` with what the feed said).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

from records import PressMentionItem
from spiders.pages import article as article_parser
from spiders.pages import gdelt as gdelt_parser
from spiders.pages import google_news as google_news_parser
from spiders.pages.article import ArticlePage
from spiders.pages.google_news import ArticleSignature, GoogleLink
from spiders.pages.news import NewsFeed, NewsItem

logger = logging.getLogger(__name__)

#: The press parsers' versions together, stored with every mention.
PARSER_VERSION = f"gn{google_news_parser.PARSER_VERSION}.gd{gdelt_parser.PARSER_VERSION}.a{article_parser.PARSER_VERSION}"
#: What the press parsers return besides a ``Failure`` (``safe_parse``'s ``expected``).
PRESS_RESULTS: tuple[type, ...] = (NewsFeed, ArticleSignature, GoogleLink, ArticlePage)
BRAND_CONTEXT_POSTS = 200  # the candidate's latest posts read for brand names
BRAND_CONTEXT_BRANDS = 20  # most-mentioned brands passed as context
MIN_HANDLE_CONTEXT = 3  # shorter handles ("li") would raise the confidence of any article


@dataclass(frozen=True)
class PressTarget:
    candidate_id: int
    aliases: tuple[str, ...]
    context: tuple[str, ...]  # handles and promoted brand names that raise confidence


# --------------------------------------------------------------------------- targets


def promoted_brand_terms(texts: Iterable[str | None], *, brands: int = BRAND_CONTEXT_BRANDS) -> list[str]:
    """Names of the international brands the candidate's own recent posts mention, most
    mentioned first, as disambiguation context: an article about "Mia Chen" that also names
    Sulwhasoo, which her posts promote, is more likely about her than about a namesake.

    Every alias of a brand is returned (an English article says "Sulwhasoo", a Chinese one
    "雪花秀"); the confidence rule counts context terms, so one brand named in two scripts can
    count twice - rare, and still evidence about the same person.
    """
    from enrichment.brands import default_brands

    finder = default_brands()
    counts: Counter[Any] = Counter()
    for text in texts:
        counts.update(finder.find(text))
    ranked = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0].name))[:brands]
    return [alias for brand, _ in ranked for alias in brand.aliases if len(alias) >= 2]


def press_target(candidate_id: int, names: Sequence[str | None], handles: Sequence[str | None],
                 post_texts: Sequence[str | None]) -> PressTarget:
    """The aliases searched for a candidate and the context that confirms them: ``names`` are
    the display name then the aliases, ``post_texts`` the latest posts' texts, newest first."""
    from enrichment.press import searchable_aliases

    aliases = searchable_aliases(names)
    kept_handles = [handle for handle in handles if handle and len(handle) >= MIN_HANDLE_CONTEXT]
    brands = promoted_brand_terms(post_texts) if post_texts else []
    return PressTarget(candidate_id, tuple(aliases), tuple(dict.fromkeys([*kept_handles, *brands])))


# --------------------------------------------------------------------------- settings


def truthy(value: Any) -> bool:
    """``true``/``1``/``yes``/``on`` (any case) or ``True``; everything else is false."""
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def int_setting(settings: Mapping[str, Any], name: str, default: int, minimum: int = 1) -> int:
    """A whole-number setting, at least ``minimum``; unset or empty is ``default``, and so is a
    value that is not a whole number (with a warning naming it)."""
    value = settings.get(name)
    if value is None or str(value).strip() == "":
        return default
    try:
        number = int(str(value).strip())
    except ValueError:
        logger.warning("%s=%r is not a whole number; using %s", name, value, default)
        return default
    return max(number, minimum)


def press_number(settings: Mapping[str, Any], name: str) -> int:
    """A press number (:func:`int_setting`, at least 1) whose fallback is its default in
    ``WANGZI_PRESS_DEFAULTS`` (``crawler/settings.py``)."""
    return int_setting(settings, name, int(settings["WANGZI_PRESS_DEFAULTS"][name]))


def press_today(settings: Mapping[str, Any]) -> date:
    """``WANGZI_PRESS_TODAY`` when set (tests, re-running a past search), else today in UTC."""
    value = str(settings.get("WANGZI_PRESS_TODAY") or "").strip()
    if value:
        try:
            return date.fromisoformat(value)
        except ValueError:
            logger.warning("WANGZI_PRESS_TODAY=%r is not a date like 2026-01-31; using today", value)
    return datetime.now(timezone.utc).date()


def editions(settings: Mapping[str, Any]) -> list[str]:
    """``WANGZI_NEWS_EDITIONS``: a list, or comma-separated text from the environment."""
    value = settings.get("WANGZI_NEWS_EDITIONS") or ()
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    return [part.strip() for part in str(value).split(",") if part.strip()]


# --------------------------------------------------------------------------- mentions


def article_mention(target: PressTarget, item: NewsItem, source: str, page: ArticlePage, url: str) -> PressMentionItem:
    """The mention of an article page that was read (``url`` is the page's own URL):
    confirmed when an alias is in its own title or text."""
    return PressMentionItem(
        candidate_id=target.candidate_id,
        source=source,
        url=item.google_url or item.url,
        canonical_url=page.canonical_url or url,
        status="confirmed" if page.confirmed else "unconfirmed",
        outlet_domain=page.outlet_domain,
        outlet_name=item.outlet or page.outlet_name,
        # GDELT's sourcecountry (already in the item) wins over the domain's guess.
        country=item.country or page.country,
        language=page.language or item.language,
        published_at=page.published_at or item.published_at,
        title=page.title or item.title,
        matched_alias=page.matched_alias,
        snippet=page.snippet,
        confidence=page.confidence,
        parser_version=PARSER_VERSION,
        detail=None if page.confirmed else "no alias in the article's own title or text",
        page_read=True,
    )


def unconfirmed_mention(target: PressTarget, item: NewsItem, source: str, detail: str,
                        final_url: str | None = None) -> PressMentionItem:
    """The mention of a feed item whose page was not read: what the feed said, ``detail``
    saying why. Keyed by ``final_url`` when an answer came from the article host."""
    from enrichment.outlets import clean_url, outlet_for

    canonical = clean_url(final_url) if final_url and "news.google.com" not in final_url else item.url
    outlet = outlet_for(canonical)
    return PressMentionItem(
        candidate_id=target.candidate_id,
        source=source,
        url=item.google_url or item.url,
        canonical_url=canonical,
        status="unconfirmed",
        outlet_domain=outlet.domain,
        outlet_name=item.outlet or outlet.name,
        country=item.country or outlet.country,
        language=item.language,
        published_at=item.published_at,
        title=item.title,
        parser_version=PARSER_VERSION,
        detail=detail[:300],
    )
