"""YouTube: channel numbers, about panel facts, links and recent videos.

What is read, and from where (best available wins, in this order):

1. the Data API v3 ``youtube.googleapis.com/youtube/v3/channels?part=snippet,statistics,
   brandingSettings&id=UC...|forHandle=@name`` when ``YOUTUBE_API_KEY`` is configured:
   ``statistics.subscriberCount`` (YouTube rounds it to 3 significant digits, so it is marked
   approximate), ``hiddenSubscriberCount`` (followers stay ``None``), ``videoCount`` (posts),
   ``viewCount`` (views), ``snippet.country``, ``snippet.customUrl`` (handle), ``description``;
2. the channel page's ``var ytInitialData = {...}`` or the same JSON answered by InnerTube
   ``youtubei/v1/browse``, with every channel header NewPipeExtractor (``YoutubeChannelHelper``),
   yt-dlp (``_tab.py``) and YouTube.js (``Channel``) read:

   - ``header.c4TabbedHeaderRenderer`` (until 2024): ``channelId``, ``title``,
     ``channelHandleText``, ``subscriberCountText``, ``videosCountText``, ``badges[]
     .metadataBadgeRenderer.style`` ``BADGE_STYLE_TYPE_VERIFIED(_ARTIST)``;
   - ``header.pageHeaderRenderer.content.pageHeaderViewModel`` (since 2024): ``title
     .dynamicTextViewModel.text`` (verified = a ``CHECK_CIRCLE_FILLED``, ``AUDIO_BADGE`` or
     ``MUSIC_FILLED`` image: the check mark or an Official Artist Channel's note),
     ``metadata.contentMetadataViewModel.metadataRows[].metadataParts[].text`` ("@handle",
     "551K subscribers", "3.4K videos"; a hidden count has no part, a system channel no rows);
   - ``header.carouselHeaderRenderer.contents[].topicChannelDetailsRenderer`` (YouTube's topic
     and system channels: Sports, Music): ``title``, ``subtitle`` / ``subscribeButton
     .subscribeButtonRenderer.subscriberCountText`` and ``.channelId``, ``navigationEndpoint
     .browseEndpoint.{browseId, canonicalBaseUrl}``;
   - ``header.interactiveTabbedHeaderRenderer`` (gaming topic channels): ``title``,
     ``description``; no subscriber count (followers None);

   the channel id from ``metadata.channelMetadataRenderer.externalId`` (else the header's,
   ``channelUrl`` or ``microformat.microformatDataRenderer.urlCanonical``), the handle from the
   header or ``vanityChannelUrl``/``ownerUrls``, the bio from ``description``; ``alerts``
   saying the channel does not exist or was terminated -> not_found; ``contents...
   channelAgeGateRenderer`` (an age-restricted channel, "Sign in to view this channel") ->
   login_required; a playlist's browse answer (``playlistMetadataRenderer``,
   ``playlistSidebarRenderer`` or a ``/playlist`` canonical URL) -> unrecognized;
3. the about panel ``aboutChannelViewModel`` (``country`` name -> ISO code, ``viewCountText``,
   ``subscriberCountText``, ``videoCountText``, ``links``), found anywhere in a browse answer,
   and scrapfly-scrapers' derived records of it; the About tab of before November 2023,
   ``channelAboutFullMetadataRenderer`` (``viewCountText``, ``joinedDateText``, ``country``,
   ``description``, ``primaryLinks[].navigationEndpoint.urlEndpoint.url``), is read the same way. The spider asks for it the way YouTube's web
   client does: the channel page's header names the about panel's continuation token
   (:func:`about_continuation`), which is POSTed to ``youtubei/v1/browse``
   (:func:`about_request_body`); :func:`parse_about_panel` reads the answer;
4. recent videos from the channel RSS feed ``feeds/videos.xml?channel_id=UC...`` (feedparser):
   video id, URL, published time, title, ``media:statistics`` views, ``media:starRating`` count.

Display counts go through :func:`enrichment.numbers.parse_count` (locales, invisible marks) and
are marked approximate when rounded; an exact count of a later source beats a rounded one of an
earlier source when the two agree (:func:`prefer_exact_counts`).

Failures: a redirect to Google's consent page -> blocked, its "unusual traffic" page -> captcha;
the channel page and browse JSON: HTTP 404 or an ``alerts`` error -> not_found, 429 ->
rate_limited, another error status without channel data -> http_error; the Data API: ``error``
reasons quotaExceeded/rateLimitExceeded (or 429) -> rate_limited, an invalid key or 401/403 ->
login_required, 404 -> not_found, other errors -> http_error, no ``items`` -> not_found; the
about panel: 429 -> rate_limited, any other refusal -> http_error (never not_found: the page
already showed the channel); the feed: 404 -> not_found, 429 -> rate_limited, other -> http_error.

Everything here is pure: bytes in, a record out (and the about panel's request body);
:mod:`spiders.youtube` decides what to request.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

from records import (
    COUNT_FIELDS,
    PLATFORM_TABLE,
    AccountRef,
    Failure,
    FailureKind,
    ParseResult,
    Post,
    PostPage,
    Profile,
    merge_profiles,
)
from enrichment.numbers import Count, parse_count
from enrichment.places import country_code
from spiders.pages.payload import (
    FieldCounts,
    as_dict,
    clean_text,
    count,
    dots_only,
    find_key,
    link_parts,
    load_json,
    parse_iso_time,
)
from spiders.pages.payload import runs_text as _text
from spiders.pages.status import StatusTable, status_failure

PARSER_VERSION = "2"
PLATFORM = "youtube"

API_URL = "https://youtube.googleapis.com/youtube/v3/channels?part=snippet,statistics,brandingSettings&{key}={value}"
CHANNEL_URL = "https://www.youtube.com/channel/{channel_id}"
HANDLE_URL = "https://www.youtube.com/@{handle}"
LEGACY_URL = "https://www.youtube.com/{kind}/{name}"
RSS_URL = "https://www.youtube.com/feeds/videos.xml?channel_id={channel_id}"
RSS_USER_URL = "https://www.youtube.com/feeds/videos.xml?user={name}"
VIDEO_URL = "https://www.youtube.com/watch?v={video_id}"
#: InnerTube browse, where the web client POSTs the about panel's continuation token.
ABOUT_URL = "https://www.youtube.com/youtubei/v1/browse?prettyPrint=false"
#: WEB client version sent when the page names none (the newest one seen in our samples, 2026-01).
DEFAULT_CLIENT_VERSION = "2.20260123.01.00"
#: Google's consent cookie ("reject all" answered): without it EU visitors get consent.youtube.com.
CONSENT_COOKIES = {"SOCS": "CAI"}

#: Channel ids (UC + 22 characters) and handles (3-30 letters, digits, '.', '_', '-' by YouTube's
#: rules; legacy names are similar): the platform table's patterns.
CHANNEL_ID = cast(re.Pattern[str], PLATFORM_TABLE[PLATFORM].user_id)
HANDLE = cast(re.Pattern[str], PLATFORM_TABLE[PLATFORM].handle)
_HOSTS = {"youtube.com", "m.youtube.com", "music.youtube.com"}
_INITIAL_DATA = re.compile(r"(?:var\s+ytInitialData|window\[\"ytInitialData\"\])\s*=\s*")
_CLIENT_VERSION = re.compile(r'"INNERTUBE_(?:CONTEXT_)?CLIENT_VERSION"\s*:\s*"([0-9]+(?:\.[0-9]+){1,4})"')
_VERSION = re.compile(r"^[0-9]+(?:\.[0-9]+){1,4}$")

#: HTTP status -> failure, by what answered. The channel page and browse JSON:
CHANNEL_RATE_LIMIT: StatusTable = {429: (FailureKind.RATE_LIMITED, "HTTP 429 from YouTube")}
CHANNEL_STATUSES: StatusTable = {404: (FailureKind.NOT_FOUND, "HTTP 404: no such channel"), **CHANNEL_RATE_LIMIT}
#: ... another error status there, once the answer held no channel data either.
NO_CHANNEL_DATA = (FailureKind.HTTP_ERROR, "HTTP {status} without channel data")
#: The Data API, when its answer is not JSON (an error page of Google's front end); with a JSON
#: answer, its ``error`` object says more than the status.
DATA_API_PAGE_STATUSES: StatusTable = {429: (FailureKind.RATE_LIMITED, "HTTP 429 from the Data API")}
DATA_API_PAGE_ERROR = (FailureKind.HTTP_ERROR, "HTTP {status} from the Data API (not JSON)")
DATA_API_ERROR = (FailureKind.HTTP_ERROR, "HTTP {status} from the Data API")
#: The about panel: the channel page already proved the channel exists, so a refusal here is a
#: stale token or endpoint (``http_error``), never ``not_found``.
ABOUT_STATUSES: StatusTable = {429: (FailureKind.RATE_LIMITED, "HTTP 429 for the about panel")}
ABOUT_REFUSED = (
    FailureKind.HTTP_ERROR,
    "HTTP {status} for the about panel continuation (stale token? the page's profile is kept)",
)
#: The channel's RSS feed.
FEED_STATUSES: StatusTable = {
    404: (FailureKind.NOT_FOUND, "HTTP 404 for the channel feed: channel missing or terminated"),
    429: (FailureKind.RATE_LIMITED, "HTTP 429 for the channel feed"),
}
FEED_ERROR = (FailureKind.HTTP_ERROR, "HTTP {status} for the channel feed")


# --------------------------------------------------------------------------- accounts


def _is_handle(text: str) -> bool:
    """A handle (or legacy name): the platform table's pattern, and not dots alone ("." and ".."
    are path segments: ``/c/..`` would ask for YouTube's home page)."""
    return bool(HANDLE.match(text)) and not dots_only(text)


def normalize_account(text: str) -> AccountRef:
    """``@handle``, ``UC...`` id, ``youtube.com/@h``, ``/channel/UC...``, ``/c/name``, ``/user/name``.

    Legacy ``/c/`` and ``/user/`` names are kept as ``c/name`` / ``user/name`` handles so the
    spider asks for the right page; plain handles are stored without ``@``.
    """
    value = text.strip()
    if "/" in value or "youtube.com" in value.lower():
        host, segments = link_parts(value)
        if host in _HOSTS and segments:
            first = segments[0]
            if first.startswith("@") and _is_handle(first[1:]):
                return AccountRef(platform=PLATFORM, handle=first[1:])
            if first == "channel" and len(segments) > 1 and CHANNEL_ID.match(segments[1]):
                return AccountRef(platform=PLATFORM, platform_user_id=segments[1])
            if first in ("c", "user") and len(segments) > 1 and _is_handle(segments[1]):
                return AccountRef(platform=PLATFORM, handle=f"{first}/{segments[1]}")
        raise ValueError(
            f"{value!r} is not a YouTube channel URL; expected https://www.youtube.com/@handle, "
            "/channel/UC..., /c/name or /user/name"
        )
    if CHANNEL_ID.match(value):
        return AccountRef(platform=PLATFORM, platform_user_id=value)
    handle = value.removeprefix("@")
    if _is_handle(handle) and 3 <= len(handle) <= 30:
        return AccountRef(platform=PLATFORM, handle=handle)
    raise ValueError(
        f"{value!r} is not a YouTube handle (@name, 3-30 letters, digits, '.', '_', '-'), "
        "channel id (UC + 22 characters) or channel URL"
    )


# --------------------------------------------------------------------------- helpers


def _statistic(value: Any, *, rounded: bool) -> Count | None:
    """A Data API statistic: digits, exact as sent (videos, views) or already rounded by YouTube,
    which cuts ``subscriberCount`` to 3 significant digits whatever the digits look like."""
    read = parse_count(value)
    return dataclasses.replace(read, approximate=rounded) if read else None


# --------------------------------------------------------------------------- dispatch


def parse(payload: bytes, url: str | None = None, status: int | None = 200) -> ParseResult:
    """Any YouTube answer -> Profile, PostPage or typed Failure. Never raises for bad input."""
    parts = urlsplit(url) if url else None
    host = parts.netloc.lower() if parts else ""
    path = parts.path if parts else ""
    if host.startswith("consent.") or path.startswith("/consent"):
        return Failure(FailureKind.BLOCKED, "redirected to Google's consent page (send the SOCS cookie)", status)
    if path.startswith("/youtube/v3/") or "googleapis.com" in host:
        return parse_data_api(payload, url, status)
    if path.startswith("/feeds/videos.xml"):
        return parse_rss(payload, url, status)
    head = payload.lstrip()[:1]
    if head in (b"{", b"["):
        document = load_json(payload)
        if path.startswith("/youtubei/") and _is_continuation_answer(document):
            return parse_about_panel(payload, url, status)
        if isinstance(document, dict) and (
            str(document.get("kind", "")).startswith("youtube#") or "error" in document and "code" in as_dict(document.get("error"))
        ):
            return parse_data_api(payload, url, status)
        if isinstance(document, list) or (isinstance(document, dict) and "subscriberCount" in document):
            return parse_about_record(payload, url, status)
        return parse_browse(payload, url, status)
    if head == b"<" and (b"<feed" in payload[:2000] or b"<rss" in payload[:2000]):
        return parse_rss(payload, url, status)
    return parse_channel_page(payload, url, status)


# --------------------------------------------------------------------------- Data API


def parse_data_api(payload: bytes, url: str | None = None, status: int | None = 200) -> ParseResult:
    """``channels.list``: the first item's snippet, statistics and brandingSettings."""
    document = load_json(payload)
    if not isinstance(document, dict):
        failure = status_failure(status, DATA_API_PAGE_STATUSES, otherwise=DATA_API_PAGE_ERROR)
        return failure or Failure(FailureKind.UNRECOGNIZED, "Data API answer is not JSON", status)
    failure = data_api_failure(document, status) or status_failure(status, {}, otherwise=DATA_API_ERROR)
    if failure is not None:
        return failure
    if document.get("kind") != "youtube#channelListResponse":
        return Failure(FailureKind.UNRECOGNIZED, "not a Data API channels.list answer", status)
    items = document.get("items")
    if not items:  # the API answers 200 with no items for an unknown id or handle
        return Failure(FailureKind.NOT_FOUND, "the Data API knows no channel with this id or handle", status)
    item = _requested_item(items, url)
    snippet = as_dict(item.get("snippet"))
    stats = as_dict(item.get("statistics"))
    branding = as_dict(as_dict(item.get("brandingSettings")).get("channel"))
    counts = FieldCounts()
    if stats.get("hiddenSubscriberCount") is not True:
        counts.add("followers", _statistic(stats.get("subscriberCount"), rounded=True))
    counts.add("posts", _statistic(stats.get("videoCount"), rounded=False))
    counts.add("views", _statistic(stats.get("viewCount"), rounded=False))
    custom = _text(snippet.get("customUrl"))
    return Profile(
        platform=PLATFORM,
        platform_user_id=_text(item.get("id")),
        handle=custom.removeprefix("@") if custom else None,
        display_name=_text(snippet.get("title")) or _text(branding.get("title")),
        followers=counts.get("followers"),
        posts=counts.get("posts"),
        views=counts.get("views"),
        bio=_text(snippet.get("description")) or _text(branding.get("description")),
        country=country_code(_text(snippet.get("country")) or _text(branding.get("country"))),
        joined_at=parse_iso_time(snippet.get("publishedAt")),
        approximate=counts.approximate,
    )


def data_api_failure(document: dict[str, Any], status: int | None) -> Failure | None:
    """A Data API ``error`` object (any endpoint: channels.list, search.list) -> its typed
    failure; None when the answer holds none."""
    error = document.get("error")
    if not isinstance(error, dict):
        return None
    reasons = {str(as_dict(e).get("reason")) for e in error.get("errors") or [] if isinstance(e, dict)}
    detail = f"Data API error {error.get('code')}: {error.get('message') or ''}"[:300]
    if reasons & {"quotaExceeded", "rateLimitExceeded", "userRateLimitExceeded", "dailyLimitExceeded"} or 429 in (
        error.get("code"), status
    ):
        return Failure(FailureKind.RATE_LIMITED, detail, status)
    key_invalid = "API_KEY_INVALID" in json.dumps(error.get("details")) or "API key not valid" in str(error.get("message"))
    if key_invalid or reasons & {"keyInvalid", "forbidden", "accessNotConfigured"} or error.get("code") in (401, 403):
        return Failure(FailureKind.LOGIN_REQUIRED, detail + " (check YOUTUBE_API_KEY)", status)
    if error.get("code") == 404:
        return Failure(FailureKind.NOT_FOUND, detail, status)
    return Failure(FailureKind.HTTP_ERROR, detail, status)


def _requested_item(items: Any, url: str | None) -> dict[str, Any]:
    """The item the URL asked for: ``id=`` names one channel (or several, comma-separated: the
    first is meant), ``forHandle=@name`` one handle; the first item when none matches."""
    listed = [as_dict(i) for i in items] if isinstance(items, list) else []
    query = parse_qs(urlsplit(url).query) if url else {}
    wanted_id = (query.get("id") or [""])[0].split(",")[0].strip()
    wanted_handle = (query.get("forHandle") or [""])[0].strip().removeprefix("@").lower()
    for item in listed:
        custom = str(as_dict(item.get("snippet")).get("customUrl") or "").removeprefix("@").lower()
        if (wanted_id and item.get("id") == wanted_id) or (wanted_handle and custom == wanted_handle):
            return item
    return listed[0] if listed else {}


# --------------------------------------------------------------------------- page / browse


def initial_data(html: str) -> dict[str, Any] | None:
    """The ``ytInitialData`` object of a channel page (decoded with raw_decode, not a regex)."""
    for match in _INITIAL_DATA.finditer(html):
        start = match.end()
        if html.startswith("'", start):  # some pages embed it as a JS string: not handled
            continue
        try:
            value, _ = json.JSONDecoder().raw_decode(html, start)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


def parse_channel_page(payload: bytes, url: str | None = None, status: int | None = 200) -> ParseResult:
    """``www.youtube.com/@handle`` (or ``/channel/UC...``): ``ytInitialData``."""
    html = payload.decode("utf-8", errors="replace")
    failure = status_failure(status, CHANNEL_STATUSES, otherwise=None)
    if failure is not None:
        return failure
    if not html.strip():
        return Failure(FailureKind.UNRECOGNIZED, "empty page", status)
    data = initial_data(html)
    if data is None:
        if "consent.youtube.com" in html or "consent.google.com" in html:
            return Failure(FailureKind.BLOCKED, "Google's consent page instead of the channel (SOCS cookie refused?)", status)
        if "/sorry/" in html or "unusual traffic" in html:
            return Failure(FailureKind.CAPTCHA, "Google's 'unusual traffic' page", status)
        failure = status_failure(status, CHANNEL_STATUSES, otherwise=NO_CHANNEL_DATA)
        return failure or Failure(FailureKind.UNRECOGNIZED, "page without ytInitialData", status)
    return browse_profile(data, url, status)


def parse_browse(payload: bytes, url: str | None = None, status: int | None = 200) -> ParseResult:
    """InnerTube ``youtubei/v1/browse`` JSON (the same object as ``ytInitialData``).

    A 429 is a failure whatever came with it; a 404 only once the answer is JSON (an HTML
    answer is read as the channel page, which knows its 404)."""
    failure = status_failure(status, CHANNEL_RATE_LIMIT, otherwise=None)
    if failure is not None:
        return failure
    document = load_json(payload)
    if not isinstance(document, dict):
        if payload.lstrip()[:1] == b"<":
            return parse_channel_page(payload, url, status)
        return Failure(FailureKind.UNRECOGNIZED, "browse answer is not JSON", status)
    failure = status_failure(status, CHANNEL_STATUSES, otherwise=None)
    if failure is not None:
        return failure
    if "channel" in document and "image" in document and "header" not in document:
        return Failure(
            FailureKind.UNRECOGNIZED,
            "a Data API brandingSettings fragment alone: no channel id and no counts",
            status,
        )
    return browse_profile(document, url, status)


def _alert_failure(data: dict[str, Any], status: int | None) -> Failure | None:
    for alert in data.get("alerts") or []:
        renderer = as_dict(as_dict(alert).get("alertRenderer")) or as_dict(as_dict(alert).get("alertWithButtonRenderer"))
        if renderer.get("type") == "ERROR":
            text = _text(renderer.get("text")) or "YouTube shows an error alert"
            return Failure(FailureKind.NOT_FOUND, f"channel unavailable: {text}"[:300], status)
    return None


def _age_gate_failure(data: dict[str, Any], status: int | None) -> Failure | None:
    """``contents...channelAgeGateRenderer``: an age-restricted channel shown only to signed-in,
    age-verified viewers (NewPipeExtractor ``getChannelAgeGateRenderer``); the page then holds
    no header, metadata or counts, only the title and "Sign in to view this channel"."""
    gate = next((v for v in find_key(data.get("contents"), "channelAgeGateRenderer") if isinstance(v, dict)), None)
    if gate is None:
        return None
    title = _text(gate.get("channelTitle"))
    said = _text(gate.get("header")) or "sign in to confirm your age"
    named = f"age-restricted channel {title!r}" if title else "age-restricted channel"
    return Failure(FailureKind.LOGIN_REQUIRED, f"{named}: {said} (YouTube shows it to signed-in adults only)"[:300], status)


#: Title badges of the current page header that mean a verified channel: the check mark, and
#: the music note of an Official Artist Channel (NewPipeExtractor
#: ``hasArtistOrVerifiedIconBadgeAttachment``, yt-dlp ``_extract_metadata_from_tabs``).
_VERIFIED_IMAGES = ("CHECK_CIRCLE_FILLED", "AUDIO_BADGE", "MUSIC_FILLED")


def _page_header_fields(page: dict[str, Any], counts: FieldCounts) -> tuple[str | None, str | None, bool]:
    """``pageHeaderViewModel`` -> (display name, handle, verified); its metadata rows' counts
    ("551K subscribers", "3.4K videos") go into ``counts``. A channel that hides its subscriber
    count (or a system channel without metadata rows) simply has no such part."""
    handle: str | None = None
    display_name = _text(as_dict(as_dict(page.get("title")).get("dynamicTextViewModel")).get("text"))
    images = {str(name) for name in find_key(page.get("title"), "imageName")}
    verified = bool(images & set(_VERIFIED_IMAGES))
    rows = as_dict(as_dict(page.get("metadata")).get("contentMetadataViewModel")).get("metadataRows") or []
    for row in rows:
        for part in as_dict(row).get("metadataParts") or []:
            text = _text(as_dict(part).get("text"))
            if not text:
                continue
            if text.startswith("@") and handle is None:
                handle = text[1:]
                continue
            lowered = text.lower()
            if any(w in lowered for w in ("subscriber", "订阅", "abonnent", "suscriptor", "abonné", "登録者")):
                counts.add("followers", parse_count(text))
            elif any(w in lowered for w in ("video", "视频", "動画", "vídeo")):
                counts.add("posts", parse_count(text))
    return display_name, handle, verified


def _topic_details(header: dict[str, Any]) -> dict[str, Any]:
    """``carouselHeaderRenderer.contents[].topicChannelDetailsRenderer``: the header of YouTube's
    own topic channels (Sports, Music, Gaming ...) and of big live events."""
    contents = as_dict(header.get("carouselHeaderRenderer")).get("contents")
    return next((as_dict(item).get("topicChannelDetailsRenderer") for item in contents or []
                 if isinstance(as_dict(item).get("topicChannelDetailsRenderer"), dict)), {})


def _channel_id(*values: Any) -> str | None:
    """The first value that is a channel id (``UC`` + 22 characters), or holds one in a
    ``/channel/UC...`` URL (``microformatDataRenderer.urlCanonical``)."""
    for value in values:
        text = _text(value)
        if not text:
            continue
        if CHANNEL_ID.match(text):
            return text
        match = re.search(r"/channel/(UC[A-Za-z0-9_-]{22})(?:[/?#]|$)", text)
        if match:
            return match.group(1)
    return None


def _old_about_tab(data: dict[str, Any]) -> dict[str, Any] | None:
    """The About tab before November 2023, ``...itemSectionRenderer.contents[]
    .channelAboutFullMetadataRenderer`` (yt-dlp reads its ``viewCountText``; YouTube.js
    ``ChannelAboutFullMetadata``), in the field names of ``aboutChannelViewModel`` so that
    :func:`about_profile` reads both: ``viewCountText``, ``joinedDateText`` (runs "Joined ",
    "Jul 9, 2013"), ``country``, ``description``, ``channelId``, ``canonicalChannelUrl``,
    ``primaryLinks[].navigationEndpoint.urlEndpoint.url`` (YouTube's redirect link; its ``q``
    is the target)."""
    old = next((v for v in find_key(data.get("contents"), "channelAboutFullMetadataRenderer") if isinstance(v, dict)), None)
    if old is None:
        return None
    links = []
    for link in old.get("primaryLinks") or []:
        target = _text(as_dict(as_dict(as_dict(link).get("navigationEndpoint")).get("urlEndpoint")).get("url"))
        if target and "/redirect" in urlsplit(target).path:
            target = (parse_qs(urlsplit(target).query).get("q") or [None])[0]
        if target:
            links.append({"url": target})
    return {
        "channelId": old.get("channelId"),
        "canonicalChannelUrl": old.get("canonicalChannelUrl"),
        "subscriberCountText": _text(old.get("subscriberCountText")),
        "viewCountText": _text(old.get("viewCountText")),
        "description": _text(old.get("description")),
        "country": _text(old.get("country")),
        "joinedDateText": _text(old.get("joinedDateText")),
        "links": links,
    }


def _is_playlist(data: dict[str, Any], microformat: dict[str, Any]) -> bool:
    """A playlist's browse answer (``VL...``): ``playlistMetadataRenderer``, a
    ``playlistSidebarRenderer`` or a ``/playlist?list=`` canonical URL, and no channel metadata."""
    return (isinstance(as_dict(data.get("metadata")).get("playlistMetadataRenderer"), dict)
            or isinstance(as_dict(data.get("sidebar")).get("playlistSidebarRenderer"), dict)
            or urlsplit(str(microformat.get("urlCanonical") or "")).path.rstrip("/") == "/playlist")


def browse_profile(data: dict[str, Any], url: str | None, status: int | None) -> ParseResult:
    """Any channel header + channelMetadataRenderer + about panel, when present.

    Headers, as NewPipeExtractor's ``YoutubeChannelHelper.getChannelHeader``, yt-dlp's tab
    extractor and YouTube.js's ``Channel`` enumerate them: ``c4TabbedHeaderRenderer`` (most
    channels until 2024), ``pageHeaderRenderer`` (since 2024; also system channels, without
    metadata rows), ``carouselHeaderRenderer`` (topic channels such as Sports or Music: a
    ``topicChannelDetailsRenderer`` with ``subtitle``/``subscriberCountText`` and the channel id
    in its subscribe button) and ``interactiveTabbedHeaderRenderer`` (gaming topic channels: a
    title and description, no subscriber count). A channel without a subscriber count is a
    profile whose ``followers`` is None. An age gate is ``login_required``; a playlist page
    (:func:`_is_playlist`; its header counts the playlist's videos) is no channel.

    The header and metadata win field by field; the about panel (:func:`about_profile`) fills
    what they leave unread (views, country, links), as :func:`merge_profiles` does for sources.
    """
    failure = _alert_failure(data, status) or _age_gate_failure(data, status)
    if failure is not None:
        return failure
    header = as_dict(data.get("header"))
    metadata = as_dict(as_dict(data.get("metadata")).get("channelMetadataRenderer"))
    microformat = as_dict(as_dict(data.get("microformat")).get("microformatDataRenderer"))
    if not metadata and _is_playlist(data, microformat):
        return Failure(FailureKind.UNRECOGNIZED, "a playlist page, not a channel (its header counts the playlist's videos)", status)
    about = next((v for v in find_key(data, "aboutChannelViewModel") if isinstance(v, dict)), None) or _old_about_tab(data)
    if not header and not metadata and about is None:
        failure = status_failure(status, {}, otherwise=NO_CHANNEL_DATA)
        return failure or Failure(FailureKind.UNRECOGNIZED, "browse JSON without a channel header, metadata or about panel", status)
    counts = FieldCounts()
    handle: str | None = None
    display_name: str | None = None
    verified: bool | None = None
    bio: str | None = None
    header_id: str | None = None
    c4 = as_dict(header.get("c4TabbedHeaderRenderer"))
    page = as_dict(as_dict(as_dict(header.get("pageHeaderRenderer")).get("content")).get("pageHeaderViewModel"))
    topic = _topic_details(header)
    gaming = as_dict(header.get("interactiveTabbedHeaderRenderer"))
    if c4:
        header_id = _channel_id(c4.get("channelId"), as_dict(as_dict(c4.get("navigationEndpoint")).get("browseEndpoint")).get("browseId"))
        display_name = _text(c4.get("title"))
        handle_text = _text(c4.get("channelHandleText"))
        handle = handle_text.removeprefix("@") if handle_text and handle_text.startswith("@") else None
        counts.add("followers", parse_count(_text(c4.get("subscriberCountText"))))
        counts.add("posts", parse_count(_text(c4.get("videosCountText"))))
        styles = [as_dict(as_dict(b).get("metadataBadgeRenderer")).get("style") for b in c4.get("badges") or []]
        verified = any(s in ("BADGE_STYLE_TYPE_VERIFIED", "BADGE_STYLE_TYPE_VERIFIED_ARTIST") for s in styles)
    elif page:
        display_name, handle, verified = _page_header_fields(page, counts)
    elif topic:
        button = as_dict(as_dict(topic.get("subscribeButton")).get("subscribeButtonRenderer"))
        browse = as_dict(as_dict(topic.get("navigationEndpoint")).get("browseEndpoint"))
        header_id = _channel_id(button.get("channelId"), browse.get("browseId"))
        handle = _handle_in("youtube.com" + str(browse.get("canonicalBaseUrl") or ""))
        display_name = _text(topic.get("title"))
        counts.add("followers", parse_count(_text(button.get("subscriberCountText")) or _text(topic.get("subtitle"))))
    elif gaming:
        display_name = _text(gaming.get("title"))
        # NewPipeExtractor: this header's description is the channel's own; the microformat's
        # (and the metadata's, when any) may be another text entirely.
        bio = _text(gaming.get("description"))
    channel_id = _channel_id(metadata.get("externalId"), header_id, metadata.get("channelUrl"), microformat.get("urlCanonical"))
    display_name = display_name or _text(metadata.get("title"))
    if handle is None:
        for owner in [metadata.get("vanityChannelUrl"), *(metadata.get("ownerUrls") or [])]:
            handle = _handle_in(owner)
            if handle:
                break
    profile = Profile(
        platform=PLATFORM,
        platform_user_id=channel_id,
        handle=handle,
        display_name=display_name,
        followers=counts.get("followers"),
        posts=counts.get("posts"),
        verified=verified,
        bio=bio or _text(metadata.get("description")),
        approximate=counts.approximate,
        lower_bound=counts.lower_bound,
    )
    if about is not None:
        profile = merge_profiles(prefer_exact_counts([profile, about_profile(about)]))
    if profile.platform_user_id is None and profile.handle is None and all(
        getattr(profile, f) is None for f in ("followers", "posts", "views")
    ):
        return Failure(FailureKind.UNRECOGNIZED, "browse JSON without channel id, handle or counts", status)
    return profile


def _handle_in(url: Any) -> str | None:
    match = re.search(r"youtube\.com/@([A-Za-z0-9._-]+)", str(url or ""))
    return match.group(1) if match else None


def about_profile(about: dict[str, Any]) -> Profile:
    """One ``aboutChannelViewModel`` -> Profile: the about panel's counts, country, links and
    joined date (``joinedDateText``, see :func:`joined_date`)."""
    counts = FieldCounts.read({
        "followers": _text(about.get("subscriberCountText")),
        "posts": _text(about.get("videoCountText")),
        "views": _text(about.get("viewCountText")),
    })
    return Profile(
        platform=PLATFORM,
        platform_user_id=_text(about.get("channelId")),
        handle=_handle_in(about.get("canonicalChannelUrl")) or _handle_in(about.get("displayCanonicalChannelUrl")),
        followers=counts.get("followers"),
        posts=counts.get("posts"),
        views=counts.get("views"),
        bio=_text(about.get("description")),
        country=country_code(_text(about.get("country"))),
        joined_at=joined_date(_text(about.get("joinedDateText"))),
        approximate=counts.approximate,
        lower_bound=counts.lower_bound,
        links=tuple(_about_links(about.get("links"))),
    )


_JOINED_FORMATS = ("%b %d, %Y", "%B %d, %Y", "%d %b %Y", "%d %B %Y")
_NUMERIC_DATES = (
    (re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"), ("y", "m", "d")),  # zh / ja
    (re.compile(r"(\d{4})\.\s*(\d{1,2})\.\s*(\d{1,2})\."), ("y", "m", "d")),  # ko "2013. 7. 9."
    (re.compile(r"(\d{4})-(\d{2})-(\d{2})"), ("y", "m", "d")),
    (re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})"), ("d", "m", "y")),  # de / ru "09.07.2013"
)


def joined_date(text: str | None) -> datetime | None:
    """The about panel's "Joined Jul 9, 2013" (English, in either day order) or a numeric
    date in any locale ("2013年7月9日", "09.07.2013", "2013. 7. 9.") -> midnight UTC that day.

    Month *names* are read in English only: "Beigetreten am 9. Juli 2013" stays None rather
    than guessed (the Data API's exact ``publishedAt`` wins anyway when a key is set).
    """
    if not text:
        return None
    for pattern, order in _NUMERIC_DATES:
        match = pattern.search(text)
        if match:
            parts = dict(zip(order, (int(g) for g in match.groups())))
            try:
                return datetime(parts["y"], parts["m"], parts["d"], tzinfo=timezone.utc)
            except ValueError:
                return None
    words = re.sub(r"^\s*joined\s*", "", text, flags=re.IGNORECASE).strip()
    for fmt in _JOINED_FORMATS:
        try:
            return datetime.strptime(words, fmt).replace(tzinfo=timezone.utc)
        except ValueError:
            continue
    return None



def _about_links(value: Any) -> list[str]:
    """``links[].channelExternalLinkViewModel.link.content`` (InnerTube) or ``links[].url`` (derived)."""
    links: list[str] = []
    for item in value if isinstance(value, list) else []:
        item = as_dict(item)
        model = as_dict(item.get("channelExternalLinkViewModel"))
        link = _text(model.get("link")) if model else _text(item.get("url"))
        if link and link not in links:
            links.append(link)
    return links


def parse_about_record(payload: bytes, url: str | None = None, status: int | None = 200) -> ParseResult:
    """scrapfly-scrapers' reduced about-panel records (``subscriberCount`` <- ``subscriberCountText``...).

    The record's keys are mapped back to the ``aboutChannelViewModel`` names they were projected
    from, so one function (:func:`about_profile`) reads both.
    """
    document = load_json(payload)
    record = document[0] if isinstance(document, list) and document else document
    if not isinstance(record, dict) or "subscriberCount" not in record:
        return Failure(FailureKind.UNRECOGNIZED, "not an about-panel record", status)
    about = {
        "channelId": record.get("channelId"),
        "displayCanonicalChannelUrl": record.get("url"),
        "subscriberCountText": record.get("subscriberCount"),
        "videoCountText": record.get("videoCount"),
        "viewCountText": record.get("viewCount"),
        "description": record.get("description"),
        "country": record.get("country"),
        "joinedDateText": record.get("joinedDate"),
        "links": record.get("links"),
    }
    profile = about_profile(about)
    return dataclasses.replace(profile, display_name=_text(record.get("title")))


# --------------------------------------------------------------------------- about panel continuation


def _is_continuation_answer(document: Any) -> bool:
    """A browse answer to a continuation (or an InnerTube error), not a whole channel tab."""
    if not isinstance(document, dict) or "header" in document or "metadata" in document:
        return False
    return "onResponseReceivedEndpoints" in document or isinstance(document.get("error"), dict)


def _about_panel_endpoints(header: dict[str, Any]) -> Iterator[Any]:
    """``showEngagementPanelEndpoint``s of the channel header, the about panel's own first.

    The about panel opens from the description's "...more" (``pageHeaderViewModel``) or the
    tagline's "more" (old ``c4TabbedHeaderRenderer``); the links line ("and 5 more links") opens
    the same panel. Only the header is searched: the videos grid's continuation lives in
    ``contents`` and is never taken.
    """
    page = as_dict(as_dict(as_dict(header.get("pageHeaderRenderer")).get("content")).get("pageHeaderViewModel"))
    preview = as_dict(as_dict(page.get("description")).get("descriptionPreviewViewModel"))
    yield as_dict(as_dict(as_dict(as_dict(preview.get("rendererContext")).get("commandContext")).get("onTap")).get(
        "innertubeCommand")).get("showEngagementPanelEndpoint")
    tagline = as_dict(as_dict(as_dict(header.get("c4TabbedHeaderRenderer")).get("tagline")).get("channelTaglineRenderer"))
    yield as_dict(tagline.get("moreEndpoint")).get("showEngagementPanelEndpoint")
    yield from find_key(header, "showEngagementPanelEndpoint")


def _panel_token(endpoint: Any) -> str | None:
    """``engagementPanel...continuationItemRenderer.continuationEndpoint.continuationCommand.token``."""
    endpoint = as_dict(endpoint)
    if as_dict(endpoint.get("identifier")).get("surface", "ENGAGEMENT_PANEL_SURFACE_BROWSE") != "ENGAGEMENT_PANEL_SURFACE_BROWSE":
        return None
    panel = as_dict(as_dict(endpoint.get("engagementPanel")).get("engagementPanelSectionListRenderer"))
    sections = as_dict(as_dict(panel.get("content")).get("sectionListRenderer")).get("contents")
    section = as_dict(sections[0]) if isinstance(sections, list) and sections else {}
    items = as_dict(section.get("itemSectionRenderer")).get("contents")
    item = as_dict(items[0]) if isinstance(items, list) and items else {}
    continuation = as_dict(as_dict(item.get("continuationItemRenderer")).get("continuationEndpoint"))
    api_url = as_dict(as_dict(continuation.get("commandMetadata")).get("webCommandMetadata")).get("apiUrl")
    if api_url not in (None, "/youtubei/v1/browse"):
        return None
    token = as_dict(continuation.get("continuationCommand")).get("token")
    return token.strip() if isinstance(token, str) and token.strip() else None


def about_continuation(payload: bytes) -> tuple[str, str | None] | None:
    """(the about panel's continuation token, the page's WEB client version or None).

    ``payload`` is a channel page (``ytInitialData`` + ytcfg's ``INNERTUBE_CLIENT_VERSION``) or
    the same browse JSON (version from ``responseContext``'s CSI ``cver``). None when the
    header names no about panel: nothing to ask.
    """
    head = payload.lstrip()[:1]
    version: str | None = None
    if head == b"{":
        data = load_json(payload)
        for service in as_dict(as_dict(data).get("responseContext")).get("serviceTrackingParams") or []:
            for param in as_dict(service).get("params") or []:
                if as_dict(param).get("key") == "cver" and isinstance(as_dict(param).get("value"), str):
                    version = version or as_dict(param)["value"]
    else:
        html = payload.decode("utf-8", errors="replace")
        data = initial_data(html)
        match = _CLIENT_VERSION.search(html)
        version = match.group(1) if match else None
    if not isinstance(data, dict):
        return None
    header = as_dict(data.get("header"))
    token = next((t for t in map(_panel_token, _about_panel_endpoints(header)) if t), None)
    if token is None:
        return None
    return token, version if version and _VERSION.match(version) else None


def about_request_body(token: str, client_version: str | None) -> bytes:
    """The JSON the web client POSTs to ``youtubei/v1/browse`` for the about panel."""
    client = {"clientName": "WEB", "clientVersion": client_version or DEFAULT_CLIENT_VERSION, "hl": "en", "gl": "US"}
    return json.dumps({"context": {"client": client}, "continuation": token}, separators=(",", ":")).encode()


def parse_about_panel(payload: bytes, url: str | None = None, status: int | None = 200) -> ParseResult:
    """The continuation answer ``onResponseReceivedEndpoints[].appendContinuationItemsAction
    .continuationItems[].aboutChannelRenderer.metadata.aboutChannelViewModel`` -> Profile.

    The channel page already proved the channel exists, so a 404 here is a stale token or
    endpoint (``http_error``), never ``not_found``: that would end the account's chain.
    """
    failure = status_failure(status, ABOUT_STATUSES, otherwise=None)
    if failure is not None:
        return failure
    document = load_json(payload)
    error = as_dict(document).get("error")
    if isinstance(error, dict):
        detail = f"InnerTube error {error.get('code')} {error.get('status') or ''}: {error.get('message') or ''}"
        return Failure(FailureKind.HTTP_ERROR, f"about panel refused: {detail} (the page's profile is kept)"[:300], status)
    failure = status_failure(status, ABOUT_STATUSES, otherwise=ABOUT_REFUSED)
    if failure is not None:
        return failure
    if not isinstance(document, dict):
        return Failure(FailureKind.UNRECOGNIZED, "about panel answer is not JSON", status)
    about = next((v for v in find_key(document.get("onResponseReceivedEndpoints"), "aboutChannelViewModel")
                  if isinstance(v, dict)), None)
    if about is None:
        return Failure(FailureKind.UNRECOGNIZED, "continuation answer without an aboutChannelViewModel", status)
    profile = about_profile(about)
    if profile.platform_user_id is None and profile.handle is None and all(
        getattr(profile, f) is None for f in ("followers", "posts", "views")
    ) and profile.country is None and not profile.links:
        return Failure(FailureKind.UNRECOGNIZED, "about panel without channel id, handle, counts, country or links", status)
    return profile


# --------------------------------------------------------------------------- RSS


def parse_rss(payload: bytes, url: str | None = None, status: int | None = 200) -> ParseResult:
    """``feeds/videos.xml``: the latest videos (YouTube sends up to 15)."""
    import feedparser

    failure = status_failure(status, FEED_STATUSES, otherwise=FEED_ERROR)
    if failure is not None:
        return failure
    head = payload.lstrip()[:200].lower()
    if not head.startswith(b"<?xml") and b"<feed" not in head:
        return Failure(FailureKind.UNRECOGNIZED, "not an Atom feed", status)
    feed = feedparser.parse(payload)
    if feed.bozo and not feed.entries:  # truncated or broken XML (a real empty channel is well-formed)
        return Failure(FailureKind.UNRECOGNIZED, f"broken feed: {feed.get('bozo_exception')}"[:300], status)
    channel_id: str | None = None
    posts: list[Post] = []
    for entry in feed.entries:
        video_id = entry.get("yt_videoid")
        if not video_id:
            continue
        channel_id = channel_id or entry.get("yt_channelid")
        stats = as_dict(entry.get("media_statistics"))
        rating = as_dict(entry.get("media_starrating"))
        published = entry.get("published_parsed")
        link = entry.get("link") or VIDEO_URL.format(video_id=video_id)
        posts.append(
            Post(
                platform=PLATFORM,
                post_id=video_id,
                url=link,
                published_at=datetime(*published[:6], tzinfo=timezone.utc) if published else None,
                title=entry.get("title") or None,
                text=as_dict(entry.get("media_group")).get("media_description") or entry.get("summary") or None,
                kind="video",
                likes=count(rating.get("count")),
                views=count(stats.get("views")),
            )
        )
    if channel_id is None:
        feed_id = str(feed.feed.get("yt_channelid") or "")
        channel_id = f"UC{feed_id}" if feed_id and not feed_id.startswith("UC") else (feed_id or None)
    if channel_id is None and url:
        channel_id = (parse_qs(urlsplit(url).query).get("channel_id") or [None])[0]
    if not posts and not feed.feed:
        return Failure(FailureKind.UNRECOGNIZED, "feed without channel or entries", status)
    return PostPage(platform=PLATFORM, platform_user_id=channel_id, posts=tuple(posts))


# --------------------------------------------------------------------------- merging sources


#: How far an exact count may be from a rounded one and still be read as the same number: the
#: rounding itself (YouTube truncates "3,499" to "3.4K") plus what changed between two requests.
_AGREEMENT = 0.1


def _agrees(exact: int, rounded: int) -> bool:
    return abs(exact - rounded) <= _AGREEMENT * max(rounded, 1)


def prefer_exact_counts(profiles: list[Profile]) -> list[Profile]:
    """The same profiles with each rounded count dropped where another source read it exactly.

    :func:`merge_profiles` keeps the earliest value of a field; the channel page comes before
    its about panel, but its header rounds the video count ("3.4K videos") while the about
    panel says "3,412 videos". Dropping the rounded value first lets the exact one win. It is
    dropped only when the exact value agrees with it (within ``_AGREEMENT``): two sources that
    disagree more are not reading the same number, and the earlier source stands. When every
    source rounded a field, nothing changes.
    """
    exact: dict[str, int] = {}
    for profile in profiles:
        for f in COUNT_FIELDS:
            value = getattr(profile, f)
            if value is not None and f not in profile.approximate and f not in profile.lower_bound:
                exact.setdefault(f, value)
    kept: list[Profile] = []
    for profile in profiles:
        rounded = [f for f in COUNT_FIELDS if f in exact and getattr(profile, f) is not None
                   and (f in profile.approximate or f in profile.lower_bound) and _agrees(exact[f], getattr(profile, f))]
        if rounded:
            profile = dataclasses.replace(
                profile,
                **{f: None for f in rounded},
                approximate=tuple(f for f in profile.approximate if f not in rounded),
                lower_bound=tuple(f for f in profile.lower_bound if f not in rounded),
            )
        kept.append(profile)
    return kept
