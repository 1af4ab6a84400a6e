"""Google News RSS search feeds: parse a saved feed into news items (pure, offline).

``news.google.com/rss/search?q="NAME"&hl=en-US&gl=US&ceid=US:en`` returns RSS 2.0 (at most
~100 items; page through time with ``after:``/``before:`` in the query). Each ``<item>``:

* ``<title>`` "Headline - Outlet": the " - Outlet" suffix is removed when it names the item's
  ``<source>``;
* ``<link>`` a Google URL ``/rss/articles/<token>`` (2020-era ``/__i/rss/rd/articles/<token>``).
  Older tokens (``CBMi…``) are a base64url protobuf that embeds the article URL (field 4)
  and often its AMP URL (field 26): decoded here offline. Current tokens wrap an opaque id
  (``CBMi`` + ``AU_yqL…``) that only Google resolves: the Google URL is kept and the spider
  resolves it later (a redirect, else Google's own batchexecute call, below);
* ``<pubDate>`` RFC 822 -> ISO 8601 UTC "…Z";
* ``<source url="https://outlet">Outlet</source>``.

Resolving a current token the way Google's web client (and public decoders such as
``googlenewsdecoder``) do, in two answers this module reads:

1. the article page ``news.google.com/rss/articles/<token>`` carries a signature and a
   timestamp (``data-n-a-sg``/``data-n-a-ts`` on ``c-wiz > div[jscontroller]``):
   :func:`parse_article_page` -> :class:`ArticleSignature`;
2. a POST to ``/_/DotsSplashUi/data/batchexecute?rpcids=Fbv4je&source-path=…`` with the form
   field ``f.req`` (:func:`batchexecute_body`) answers ``)]}'`` + JSON rows whose
   ``["wrb.fr","Fbv4je","[\"garturlres\",\"<article URL>\",1]",…]`` names the article:
   :func:`parse_batchexecute` -> :class:`GoogleLink`. Rejections come as an ``["er",…,400,…]``
   row or a ``wrb.fr`` row with no payload and an error code (``[3]``): typed failures.

:func:`parse` dispatches on the URL (feed, article page or batchexecute answer), else on
the payload, so ``wangzi parse google_news`` reads all three.

Google's terms limit the RSS feeds to personal, non-commercial use: the source is off
unless ``WANGZI_GOOGLE_NEWS_ENABLED`` is set (see docs/press.md).
"""

from __future__ import annotations

import base64
import calendar
import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from records import Failure, FailureKind
from spiders.pages.news import NEWS_STATUSES, NewsFeed, NewsItem
from spiders.pages.status import status_failure

PARSER_VERSION = "2"

GOOGLE_NEWS_HOSTS = frozenset({"news.google.com"})
BATCHEXECUTE_URL = "https://news.google.com/_/DotsSplashUi/data/batchexecute"
BATCHEXECUTE_RPC = "Fbv4je"
BATCHEXECUTE_HEADERS = {
    "Content-Type": "application/x-www-form-urlencoded;charset=UTF-8",
    "Origin": "https://news.google.com",
    "Referer": "https://news.google.com/",
}
#: The client context Google's web client sends with "garturlreq" (as googlenewsdecoder does).
GARTURLREQ_CONTEXT: list[Any] = [
    ["X", "X", ["X", "X"], None, None, 1, 1, "US:en", None, 1, None, None, None, None, None, 0, 1],
    "X", "X", 1, [1, 1, 1], 1, 1, None, 0, 0, None, 0,
]
XSSI_PREFIX = ")]}'"


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


def google_host(host: str) -> bool:
    """www.google.com, consent.google.de, www.google.co.jp (Google's captcha/consent pages),
    not an article host such as blog.google."""
    labels = host.lower().split(".")
    return "google" in labels[:-1]


def article_token(url: str | None) -> str | None:
    """The token of a Google News article link (``/rss/articles/T``, ``/articles/T``, ``/read/T``)."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.hostname not in GOOGLE_NEWS_HOSTS:
        return None
    segments = [segment for segment in parts.path.split("/") if segment]
    if len(segments) >= 2 and segments[-2] in ("articles", "read"):
        return segments[-1]
    return None


# --------------------------------------------------------------------------- Google's resolution


@dataclass(frozen=True)
class ArticleSignature:
    """What Google's article page gives to resolve its token: signature and timestamp."""

    token: str | None
    signature: str
    timestamp: int

    def to_json(self) -> dict[str, Any]:
        return {"token": self.token, "signature": self.signature, "timestamp": self.timestamp}


@dataclass(frozen=True)
class GoogleLink:
    """The article URL Google's batchexecute answer names for a token."""

    url: str

    def to_json(self) -> dict[str, Any]:
        return {"url": self.url}


def parse_article_page(payload: bytes, url: str | None = None, status: int | None = 200) -> ArticleSignature | Failure:
    """Google's article page -> the signature/timestamp its web client posts to resolve the token."""
    from bs4 import BeautifulSoup

    failure = status_failure(status, NEWS_STATUSES, "Google News article page")
    if failure:
        return failure
    if not payload or not payload.strip():
        return Failure(FailureKind.UNRECOGNIZED, "Google News article page: empty answer", status)
    soup = BeautifulSoup(payload, "html.parser")
    node = soup.select_one("c-wiz > div[jscontroller][data-n-a-sg]") or soup.find(attrs={"data-n-a-sg": True})
    signature = node.get("data-n-a-sg") if node else None
    timestamp = node.get("data-n-a-ts") if node else None
    if not signature or not timestamp:
        lowered = payload[:20000].lower()
        if b"unusual traffic" in lowered or b"/sorry/" in lowered or b"captcha" in lowered:
            return Failure(FailureKind.CAPTCHA, "Google News article page: Google asks for a captcha "
                                                "(unusual traffic); try again later", status)
        title = soup.title.get_text(" ", strip=True)[:80] if soup.title else ""
        return Failure(FailureKind.UNRECOGNIZED, "Google News article page without data-n-a-sg/data-n-a-ts "
                                                 f"(a JavaScript or consent page?) {title!r}", status)
    timestamp = str(timestamp).strip()
    if not timestamp.isdigit():
        return Failure(FailureKind.UNRECOGNIZED, f"Google News article page: data-n-a-ts {timestamp[:40]!r} "
                                                 "is not a number", status)
    token = article_token(url) or (node.get("data-n-a-id") if node else None) or None
    return ArticleSignature(token=token, signature=str(signature), timestamp=int(timestamp))


def batchexecute_url(token: str) -> str:
    """The batchexecute URL as Google's web client builds it (``rpcids`` and ``source-path``:
    one URL per token, which also keeps replay recordings unambiguous)."""
    return f"{BATCHEXECUTE_URL}?" + urlencode({"rpcids": BATCHEXECUTE_RPC, "source-path": f"/rss/articles/{token}"})


def batchexecute_request(signature: ArticleSignature) -> str:
    """The ``f.req`` JSON for one "garturlreq" call (compact, as the web client sends it)."""
    if not signature.token:
        raise ValueError("the article token is unknown: pass the article page URL")
    inner = json.dumps(["garturlreq", GARTURLREQ_CONTEXT, signature.token, signature.timestamp, signature.signature],
                       separators=(",", ":"), ensure_ascii=False)
    return json.dumps([[[BATCHEXECUTE_RPC, inner, None, "generic"]]], separators=(",", ":"), ensure_ascii=False)


def batchexecute_body(signature: ArticleSignature) -> str:
    """The form-encoded POST body: ``f.req=<URL-encoded JSON>``."""
    return urlencode({"f.req": batchexecute_request(signature)})


def _batchexecute_rows(text: str) -> list[list[Any]]:
    """Every row (``["wrb.fr", …]``, ``["er", …]``, ``["di", …]``) of an answer, whether plain
    (one JSON array) or chunked (``rt=c``: a length line before each array)."""
    decoder = json.JSONDecoder()
    rows: list[list[Any]] = []
    position = 0
    while True:
        while position < len(text) and text[position] in " \t\r\n,":
            position += 1
        if position >= len(text):
            return rows
        value, position = decoder.raw_decode(text, position)
        if isinstance(value, list):
            rows.extend(row for row in value if isinstance(row, list) and row and isinstance(row[0], str))


def parse_batchexecute(payload: bytes, url: str | None = None, status: int | None = 200) -> GoogleLink | Failure:
    """Google's batchexecute answer to "garturlreq" -> the article URL, or why there is none."""
    text = payload.decode("utf-8", "replace").lstrip() if payload else ""
    failure = status_failure(status, NEWS_STATUSES, "Google batchexecute")
    if failure and not text.startswith(XSSI_PREFIX):  # an error status with Google's rows says more
        return failure
    if not text.startswith(XSSI_PREFIX):
        snippet = re.sub(r"\s+", " ", text[:120])
        return Failure(FailureKind.UNRECOGNIZED, f"not a batchexecute answer (no )]}}' line): {snippet!r}", status)
    try:
        rows = _batchexecute_rows(text[len(XSSI_PREFIX):])
    except ValueError as exc:
        return Failure(FailureKind.UNRECOGNIZED, f"malformed batchexecute answer: {exc}"[:200], status)
    for row in rows:
        if row[0] == "er":  # the whole request was refused; [5] is the HTTP-like status
            code = row[5] if len(row) > 5 else None
            kind = FailureKind.RATE_LIMITED if 429 in (code, status) else FailureKind.BLOCKED
            return Failure(kind, f"Google refused the batchexecute request (error row, code {code}); "
                                 "the signature may have expired or the request shape changed", status)
    if failure:
        return failure
    answers = [row for row in rows if row[0] == "wrb.fr" and len(row) > 2 and row[1] == BATCHEXECUTE_RPC]
    if not answers:
        return Failure(FailureKind.UNRECOGNIZED, f"batchexecute answer without a {BATCHEXECUTE_RPC} row", status)
    row = answers[0]
    if row[2] is None:  # a per-call error: [5] holds its code ([3]: invalid argument)
        code = row[5] if len(row) > 5 else None
        return Failure(FailureKind.BLOCKED, f"Google did not resolve the link ({BATCHEXECUTE_RPC} error {code}): "
                                            "the token, signature or timestamp was not accepted", status)
    try:
        inner = json.loads(row[2]) if isinstance(row[2], str) else row[2]
    except ValueError:
        inner = None
    if (isinstance(inner, list) and len(inner) > 1 and inner[0] == "garturlres" and isinstance(inner[1], str)
            and inner[1].startswith(("http://", "https://"))):
        return GoogleLink(inner[1])
    return Failure(FailureKind.UNRECOGNIZED, f"{BATCHEXECUTE_RPC} answer without an article URL: {str(row[2])[:120]}",
                   status)


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


def parse(payload: bytes, url: str | None = None,
          status: int | None = 200) -> NewsFeed | ArticleSignature | GoogleLink | Failure:
    """A saved Google News answer, by its URL (else its shape): a batchexecute answer, an
    article page (``/rss/articles/…``) or, by default, an RSS feed."""
    path = urlsplit(url).path if url else ""
    head = (payload or b"").lstrip()[:8]
    if path.endswith("/data/batchexecute") or (not url and head.startswith(XSSI_PREFIX.encode())):
        return parse_batchexecute(payload, url, status)
    if article_token(url) or (not url and b"data-n-a-sg" in (payload or b"")[:200000]):
        return parse_article_page(payload, url, status)
    return parse_feed(payload, url, status)


def parse_feed(payload: bytes, url: str | None = None, status: int | None = 200) -> NewsFeed | Failure:
    """A Google News RSS feed -> :class:`NewsFeed`; anything else -> a typed failure."""
    import feedparser

    from enrichment.outlets import clean_url, outlet_for

    failure = status_failure(status, NEWS_STATUSES, "Google News")
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


# --------------------------------------------------------------------------- time windows


@dataclass(frozen=True)
class Window:
    """Days ``after`` up to, not including, ``before``: the query's ``after:``/``before:``.

    A feed holds at most ~100 items, so a long period is searched as windows; one that comes
    back full is split in two (:meth:`halves`) until it is a single day.
    """

    after: date
    before: date

    @property
    def days(self) -> int:
        return (self.before - self.after).days

    def query(self, base: str) -> str:
        """``"NAME"`` -> ``"NAME" after:YYYY-MM-DD before:YYYY-MM-DD``."""
        return f"{base} after:{self.after.isoformat()} before:{self.before.isoformat()}"

    def halves(self) -> tuple[Window, Window]:
        """The two halves (the earlier one the shorter by a day when the length is odd)."""
        if self.days < 2:
            raise ValueError(f"a {self.days}-day window cannot be split")
        middle = self.after + timedelta(days=self.days // 2)
        return Window(self.after, middle), Window(middle, self.before)

    def __str__(self) -> str:
        return f"{self.after.isoformat()}..{self.before.isoformat()}"


def search_window(since: date | None, today: date, lookback_days: int) -> Window:
    """The whole period searched: ``since`` (else ``lookback_days`` before today) through today."""
    start = since or today - timedelta(days=max(lookback_days, 1))
    start = min(start, today)  # a future --since still searches today
    return Window(start, today + timedelta(days=1))
