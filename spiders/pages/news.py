"""What every news source shares (pure, offline): the feed records and what a status means.

Google News (``spiders.pages.google_news``) and GDELT (``spiders.pages.gdelt``) both turn a
search answer into a :class:`NewsFeed` of :class:`NewsItem` (printed by ``wangzi parse`` as
``{"items": [{"title", "url", "outlet", "outlet_url", "published_at", "language",
"country"}]}``); article pages (``spiders.pages.article``) print their time the same way
(:func:`iso_utc`). No source module imports another: what two of them need lives here.

HTTP statuses mean the same on every news host (:data:`NEWS_STATUSES`): 429 ``rate_limited``,
401/403/451 ``blocked``, 404/410 ``not_found``, any other 4xx/5xx ``http_error``; each
source names itself in the detail ("GDELT: HTTP 429 (slow down)", "article page: HTTP 404").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from records import FailureKind
from spiders.pages.status import StatusTable

#: HTTP status -> (failure kind, detail) for feeds, Google's pages and article hosts alike.
NEWS_STATUSES: StatusTable = {
    429: (FailureKind.RATE_LIMITED, "HTTP 429 (slow down)"),
    404: (FailureKind.NOT_FOUND, "HTTP {status}"),
    410: (FailureKind.NOT_FOUND, "HTTP {status}"),
    401: (FailureKind.BLOCKED, "HTTP {status}"),
    403: (FailureKind.BLOCKED, "HTTP {status}"),
    451: (FailureKind.BLOCKED, "HTTP {status}"),
}


def iso_utc(value: datetime | None) -> str | None:
    """A time as ISO 8601 UTC with a "Z" (``2026-11-02T08:15:00Z``), as every press record prints it."""
    if value is None:
        return None
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


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
