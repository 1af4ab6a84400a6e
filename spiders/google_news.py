"""Google News RSS search feeds: parse a saved feed into news items (pure, offline).

``news.google.com/rss/search?q="NAME"&hl=en-US&gl=US&ceid=US:en`` returns RSS 2.0 (at most
~100 items; page through time with ``after:``/``before:`` in the query). Each ``<item>``:

* ``<title>`` "Headline - Outlet": the " - Outlet" suffix is removed when it names the item's
  ``<source>``;
* ``<link>`` a Google URL ``/rss/articles/<token>`` (2020-era ``/__i/rss/rd/articles/<token>``).
  Older tokens (``CBMi…``) are a base64url protobuf that embeds the article URL (field 4)
  and often its AMP URL (field 26): decoded here offline. Current tokens wrap an opaque id
  (``CBMi`` + ``AU_yqL…``) that only Google's own page resolves: the Google URL is kept and
  the spider lets the redirect (or the article fetch) resolve it later;
* ``<pubDate>`` RFC 822 -> ISO 8601 UTC "…Z";
* ``<source url="https://outlet">Outlet</source>``.

Google's terms limit the RSS feeds to personal, non-commercial use: the source is off
unless ``WANGZI_GOOGLE_NEWS_ENABLED`` is set (see docs/press.md).
"""

from __future__ import annotations

import base64
import calendar
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from crawler.items import Failure, FailureKind

PARSER_VERSION = "1"

GOOGLE_NEWS_HOSTS = frozenset({"news.google.com"})


@dataclass(frozen=True)
class NewsItem:
    """One search hit from a news feed (Google News or GDELT), before the article is fetched."""

    title: str | None
    url: str  # the article URL when known, else the Google URL
    outlet: str | None
    outlet_url: str | None
    published_at: datetime | None
    language: str | None  # ISO 639-1
    country: str | None  # ISO 3166-1 alpha-2 of the outlet
    source: str = "google_news"
    google_url: str | None = None  # the feed's own link, kept for resolution/provenance

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "url": self.url,
            "outlet": self.outlet,
            "outlet_url": self.outlet_url,
            "published_at": iso_utc(self.published_at),
            "language": self.language,
            "country": self.country,
        }


@dataclass(frozen=True)
class NewsFeed:
    """A parsed feed/answer: its items in feed order."""

    items: tuple[NewsItem, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"items": [item.to_json() for item in self.items]}


def iso_utc(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def status_failure(status: int | None, what: str) -> Failure | None:
    """The typed failure for an HTTP error status (None for 2xx/3xx/unknown)."""
    if status is None or status < 400:
        return None
    if status == 429:
        return Failure(FailureKind.RATE_LIMITED, f"{what}: HTTP 429 (slow down)", status)
    if status in (404, 410):
        return Failure(FailureKind.NOT_FOUND, f"{what}: HTTP {status}", status)
    if status in (401, 403, 451):
        return Failure(FailureKind.BLOCKED, f"{what}: HTTP {status}", status)
    return Failure(FailureKind.HTTP_ERROR, f"{what}: HTTP {status}", status)


# --------------------------------------------------------------------------- tokens


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data):
            raise ValueError("truncated varint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def _protobuf_strings(data: bytes) -> list[tuple[int, bytes]]:
    """(field number, bytes) of every length-delimited field at the top level."""
    fields = []
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            _, pos = _varint(data, pos)
        elif wire == 2:
            length, pos = _varint(data, pos)
            if pos + length > len(data):
                raise ValueError("truncated field")
            fields.append((number, data[pos:pos + length]))
            pos += length
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        else:
            raise ValueError(f"wire type {wire}")
    return fields


def decode_google_news_url(url: str) -> str | None:
    """The article URL inside an old-style ``CBMi…`` Google News link; None when not decodable.

    New-style tokens (their protobuf string starts with ``AU_yqL``) return None: only
    Google's page can resolve them.
    """
    parts = urlsplit(url)
    if parts.hostname not in GOOGLE_NEWS_HOSTS or "/articles/" not in parts.path:
        return None
    token = parts.path.rsplit("/articles/", 1)[1].split("/")[0]
    try:
        data = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        fields = _protobuf_strings(data)
    except (ValueError, TypeError):
        return None
    for number, value in fields:
        if number == 4:
            try:
                text = value.decode("utf-8")
            except UnicodeDecodeError:
                return None
            if text.startswith(("http://", "https://")):
                return text
            return None  # AU_yqL…: an opaque id
    return None


# --------------------------------------------------------------------------- feed


def _language(url: str | None, channel_language: str | None) -> str | None:
    if channel_language:
        return channel_language.split("-")[0].lower() or None
    if url:
        hl = parse_qs(urlsplit(url).query).get("hl")
        if hl:
            return hl[0].split("-")[0].lower()
    return None


def _strip_outlet(title: str | None, outlet: str | None) -> str | None:
    if title is None:
        return None
    title = title.strip()
    if outlet:
        suffix = f" - {outlet.strip()}"
        if title.endswith(suffix):
            return title[: -len(suffix)].strip()
    return title


def parse(payload: bytes, url: str | None = None, status: int | None = 200) -> NewsFeed | Failure:
    """A Google News RSS feed -> :class:`NewsFeed`; anything else -> a typed failure."""
    import feedparser

    from enrichment.outlets import clean_url, outlet_for

    failure = status_failure(status, "Google News")
    if failure:
        return failure
    if not payload or not payload.strip():
        return Failure(FailureKind.UNRECOGNIZED, "empty answer, not an RSS feed", status)
    head = payload.lstrip()[:512].lower()
    if not (head.startswith(b"<?xml") or head.startswith(b"<rss")) or b"<html" in head:
        text = payload[:200].decode("utf-8", "replace").strip()
        return Failure(FailureKind.UNRECOGNIZED, f"not an RSS feed: {text}", status)
    feed = feedparser.parse(payload)
    if not feed.get("version", "").startswith("rss") or "channel" not in payload.decode("utf-8", "replace")[:2000]:
        return Failure(FailureKind.UNRECOGNIZED, "not an RSS 2.0 feed", status)
    if feed.bozo and not feed.entries:
        return Failure(FailureKind.UNRECOGNIZED, f"malformed RSS: {feed.get('bozo_exception')}", status)
    language = _language(url, feed.feed.get("language"))
    items = []
    for entry in feed.entries:
        link = entry.get("link")
        if not link:
            continue
        source = entry.get("source") or {}
        outlet_name = source.get("title") or None
        outlet_url = source.get("href") or None
        decoded = decode_google_news_url(link)
        article_url = clean_url(decoded) if decoded else link
        published = entry.get("published_parsed")
        published_at = (
            datetime.fromtimestamp(calendar.timegm(published), tz=timezone.utc) if published else None
        )
        outlet = outlet_for(decoded or outlet_url)
        items.append(NewsItem(
            title=_strip_outlet(entry.get("title"), outlet_name),
            url=article_url,
            outlet=outlet_name or outlet.name,
            outlet_url=outlet_url,
            published_at=published_at,
            language=language,
            country=outlet.country,
            source="google_news",
            google_url=link,
        ))
    return NewsFeed(tuple(items))


def search_url(query: str, edition: str) -> str:
    """The RSS search URL for one edition ("en-US" -> hl=en-US&gl=US&ceid=US:en)."""
    language, _, country = edition.partition("-")
    country = country or language.upper()
    return (
        f"https://news.google.com/rss/search?q={quote(query)}"
        f"&hl={edition}&gl={country}&ceid={country}:{language}"
    )
