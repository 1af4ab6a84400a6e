"""Article pages: extract main text, title, date and canonical URL, and confirm a mention (pure).

* Main text and title: trafilatura (precision mode, no comments, no tables of links), so
  navigation, "most viewed", related-story teasers and comments are not part of the text
  the name is looked for in. A name that appears only there does NOT confirm.
* In-body teaser lines ("Read more: …", "Lesen Sie auch: …", "関連記事：…") are dropped
  from the text: they name other stories.
* Furigana: ``<rt>``/``<rp>`` are removed before extraction, so "<ruby>虐待<rt>ぎゃくたい</rt></ruby>"
  reads "虐待" and Japanese phrases (and names) stay contiguous.
* BeautifulSoup for what trafilatura does not give reliably: ``<link rel=canonical>``,
  ``og:url``/``og:title``, ``article:published_time`` and other date meta, ``<html lang>``.
* Outlet domain and country: ``enrichment.outlets`` (tldextract offline, ccTLD, outlet table).
* Language: ``enrichment.language`` on the main text (lingua offline), else ``<html lang>``.

``parse(payload, url, status, aliases=[...], context=[...])``: without aliases the page is
extracted and ``confirmed`` is false with no alias, snippet or confidence.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urljoin, urlsplit

from records import Failure, FailureKind
from spiders.pages.news import NEWS_STATUSES, iso_utc
from spiders.pages.payload import parse_iso_time
from spiders.pages.status import status_failure

PARSER_VERSION = "1"

_RUBY_NOTES = re.compile(r"<(rt|rp)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
#: Lines that introduce a link to another story; a name in them is not about this article.
_TEASER_LINE = re.compile(
    r"^\s*(read more|read also|also read|related( stories| articles| story| coverage)?|see also|more on this|"
    r"recommended|lesen sie auch|mehr zum thema|lire aussi|à lire aussi|a lire aussi|lea también|leer más|"
    r"관련\s?기사|関連記事|関連ニュース|相关阅读|延伸阅读|相關閱讀)\s*[:：|]",
    re.IGNORECASE,
)
_DATE_META = (
    ("property", "article:published_time"),
    ("name", "article:published_time"),
    ("itemprop", "datePublished"),
    ("name", "pubdate"),
    ("name", "publishdate"),
    ("name", "date"),
    ("name", "dc.date"),
    ("name", "DC.date.issued"),
    ("property", "DC.date.issued"),
    ("property", "og:published_time"),
)


@dataclass(frozen=True)
class ArticlePage:
    """What one article page says, and whether it names the candidate."""

    url: str | None
    canonical_url: str | None
    title: str | None
    published_at: datetime | None
    language: str | None
    outlet_domain: str | None
    country: str | None
    confirmed: bool
    matched_alias: str | None = None
    snippet: str | None = None
    confidence: float | None = None
    text: str = field(default="", repr=False)  # main text, for re-matching; not printed
    outlet_name: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "canonical_url": self.canonical_url,
            "title": self.title,
            "published_at": iso_utc(self.published_at),
            "language": self.language,
            "outlet_domain": self.outlet_domain,
            "country": self.country,
            "confirmed": self.confirmed,
            "matched_alias": self.matched_alias,
            "snippet": self.snippet,
            "confidence": self.confidence,
        }


def decode_html(payload: bytes) -> str:
    """Bytes -> text using the page's declared charset (BeautifulSoup's UnicodeDammit)."""
    from bs4.dammit import UnicodeDammit

    return UnicodeDammit(payload, is_html=True).unicode_markup or ""


def drop_teasers(text: str) -> str:
    """Remove in-body teaser lines ("Read more: …", "関連記事：…") that link to other stories."""
    return "\n".join(line for line in text.splitlines() if not _TEASER_LINE.match(line))


def strip_furigana(html: str) -> str:
    """Remove ``<rt>``/``<rp>`` readings so ruby base text stays contiguous."""
    return _RUBY_NOTES.sub("", html)


def _parse_datetime(value: str | None) -> datetime | None:
    """An ISO time (naive = UTC), else the leading ``YYYY-MM-DD`` of a longer date string."""
    if not value:
        return None
    parsed = parse_iso_time(value)
    if parsed is not None:
        return parsed
    match = re.match(r"(\d{4})-(\d{2})-(\d{2})", value.strip())
    if not match:
        return None
    try:
        return datetime(int(match[1]), int(match[2]), int(match[3]), tzinfo=timezone.utc)
    except ValueError:
        return None


def _meta(soup, attr: str, value: str) -> str | None:  # type: ignore[no-untyped-def]
    tag = soup.find("meta", attrs={attr: re.compile(f"^{re.escape(value)}$", re.IGNORECASE)})
    content = tag.get("content") if tag else None
    return content.strip() if isinstance(content, str) and content.strip() else None


def _canonical(soup, url: str | None) -> str | None:  # type: ignore[no-untyped-def]
    from enrichment.outlets import clean_url

    for link in soup.find_all("link", href=True):
        rel = link.get("rel") or []
        rel = rel if isinstance(rel, list) else [rel]
        if "canonical" in [r.lower() for r in rel]:
            try:
                href = urljoin(url or "", link["href"].strip())
                if href.startswith(("http://", "https://")):
                    return clean_url(href)
            except ValueError:  # a malformed canonical link (e.g. "http://[x"): look further
                continue
    og_url = _meta(soup, "property", "og:url")
    if og_url and og_url.startswith(("http://", "https://")):
        try:
            return clean_url(og_url)
        except ValueError:
            pass
    return clean_url(url) if url and url.startswith(("http://", "https://")) else None


def parse(
    payload: bytes,
    url: str | None = None,
    status: int | None = 200,
    aliases: Sequence[str] | None = None,
    context: Sequence[str] = (),
) -> ArticlePage | Failure:
    """An article page -> :class:`ArticlePage` (confirmed when an alias is in its own title/text)."""
    import trafilatura
    from bs4 import BeautifulSoup

    from enrichment.language import detect_language
    from enrichment.outlets import outlet_for
    from enrichment.press import confirm_mention

    failure = status_failure(status, NEWS_STATUSES, "article page")
    if failure:
        return failure
    if not payload or not payload.strip():
        return Failure(FailureKind.UNRECOGNIZED, "empty page", status)
    html = strip_furigana(decode_html(payload))
    if "<" not in html[:2000] or not re.search(r"<(html|body|p|div|article)\b", html, re.IGNORECASE):
        return Failure(FailureKind.UNRECOGNIZED, "not an HTML page", status)
    soup = BeautifulSoup(html, "lxml")
    document = trafilatura.bare_extraction(
        html, url=url, with_metadata=True, include_comments=False, include_tables=False,
        favor_precision=True,  # no deduplicate: its process-wide cache drops a page seen twice
    )
    text = drop_teasers((getattr(document, "text", None) or "") if document is not None else "")
    title = getattr(document, "title", None) if document is not None else None
    if not title:
        title = _meta(soup, "property", "og:title") or (soup.title.get_text(" ", strip=True) if soup.title else None)
    title = " ".join(title.split()) if title else None
    # An explicit article:published_time (with its time) first, then trafilatura's date (it
    # weighs many signals and skips "updated"/sidebar dates, but gives the day only), made
    # exact by a date meta of the same day, then other date meta.
    published = _parse_datetime(_meta(soup, "property", "article:published_time"))
    if published is None:
        day = _parse_datetime(getattr(document, "date", None)) if document is not None else None
        metas = (_parse_datetime(_meta(soup, attr, value)) for attr, value in _DATE_META)
        published = next((t for t in metas if t and (day is None or t.date() == day.date())), day)
    if not text and not title:
        return Failure(FailureKind.UNRECOGNIZED, "no article text or title found", status)

    canonical = _canonical(soup, url)
    outlet = outlet_for(canonical or url)
    language = detect_language(text[:4000]) if text else None
    if language is None:
        html_tag = soup.find("html")
        lang = html_tag.get("lang") if html_tag else None
        language = lang.split("-")[0].lower() if isinstance(lang, str) and lang else None

    confirmation = None
    if aliases:
        confirmation = confirm_mention(title, text, aliases, context)
    sitename = getattr(document, "sitename", None) if document is not None else None
    return ArticlePage(
        url=url,
        canonical_url=canonical,
        title=title,
        published_at=published,
        language=language,
        outlet_domain=outlet.domain,
        country=outlet.country,
        confirmed=bool(confirmation and confirmation.confirmed),
        matched_alias=confirmation.matched_alias if confirmation else None,
        snippet=confirmation.snippet if confirmation else None,
        confidence=confirmation.confidence if confirmation else None,
        text=text,
        outlet_name=outlet.name or sitename,
    )


def host_of(url: str) -> str:
    return urlsplit(url).hostname or ""
