"""YouTube search answers: channel search and video search, through InnerTube or the Data API.

What is read, and from where:

1. InnerTube ``POST youtubei/v1/search`` (the web client's own call; ``params`` ``EgIQAg==``
   filters to channels, ``EgIQAQ==`` to videos; later pages POST the ``continuation`` token
   the previous page named). Field paths as NewPipeExtractor's ``YoutubeSearchExtractor`` and
   ``YoutubeChannelInfoItemExtractor``/``YoutubeStreamInfoItemExtractor`` read them, checked
   against its recorded answers (``mocks/v1/.../youtubesearchextractor/{channel,
   multipleuploader}``, January 2026):

   - ``channelRenderer``: ``channelId``, ``title``, ``descriptionSnippet`` (the bio),
     ``navigationEndpoint.browseEndpoint.canonicalBaseUrl`` ("/@handle"), the subscriber count
     in ``subscriberCountText`` or - since 2024, when ``subscriberCountText`` shows the
     "@handle" - in ``videoCountText`` ("234k subscribers": rounded, so approximate);
     ``ownerBadges[].metadataBadgeRenderer.style`` ``BADGE_STYLE_TYPE_VERIFIED(_ARTIST)``;
   - ``videoRenderer``: ``videoId``, ``title``, ``descriptionSnippet`` or
     ``detailedMetadataSnippets[].snippetText``, the uploader in ``ownerText`` /
     ``longBylineText`` ``runs[0].navigationEndpoint.browseEndpoint.{browseId,
     canonicalBaseUrl}``; a video several channels made together names them in that run's
     ``showDialogCommand`` ("Collaborators": ``listViewModel.listItems[].listItemViewModel``
     with ``title.content``, ``subtitle.content`` "@handle • 317k subscribers" and
     ``rendererContext.commandContext.onTap.innertubeCommand.browseEndpoint.browseId``):
     each is a hit, the first as the author, the others as collaborators;
   - the next page: the last ``continuationItemRenderer.continuationEndpoint
     .continuationCommand.token`` (first page and continuation answers alike);

   the same object as ``ytInitialData`` in a ``/results?search_query=`` page is read too.
2. The Data API v3 ``search.list`` (``youtube.googleapis.com/youtube/v3/search?part=snippet
   &type=channel|video&q=``, with ``YOUTUBE_API_KEY``): ``items[].id.{channelId, videoId}``,
   ``snippet.{channelId, title, description, channelTitle}``, ``nextPageToken``. It shows no
   subscriber counts (followers stay None).

Failures: a redirect to Google's consent page -> blocked, its "unusual traffic" page
(``/sorry/``) -> captcha, HTTP 429 -> rate_limited, another error status -> http_error; an
``error`` object (InnerTube's 400s, the Data API's quota and key errors) through
:func:`spiders.pages.youtube.data_api_failure` (quota -> rate_limited, a bad key ->
login_required).

Pure: bytes in (and the InnerTube request bodies), a :class:`records.leads.SearchPage` or
``Failure`` out.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote, urlsplit

from records import Failure, FailureKind
from records.leads import Hit, SearchPage
from spiders.pages.payload import FieldCounts, as_dict, clean_text, find_key, load_json, runs_text
from spiders.pages.status import StatusTable, status_failure
from spiders.pages.youtube import CHANNEL_ID, DEFAULT_CLIENT_VERSION, HANDLE, VIDEO_URL, data_api_failure, initial_data

PARSER_VERSION = "1"
PLATFORM = "youtube"
INNERTUBE_URL = "https://www.youtube.com/youtubei/v1/search?prettyPrint=false"
DATA_API_URL = "https://youtube.googleapis.com/youtube/v3/search?part=snippet&type={type}&maxResults=50&q={q}"
#: InnerTube's search filters (the web client's ``sp=`` values): channels only, videos only.
FILTERS = {"users": "EgIQAg%3D%3D", "posts": "EgIQAQ%3D%3D", "resolve": "EgIQAg%3D%3D"}
DATA_API_TYPES = {"users": "channel", "posts": "video", "resolve": "channel"}
STATUSES: StatusTable = {429: (FailureKind.RATE_LIMITED, "HTTP 429 from YouTube search")}
_VERIFIED = {"BADGE_STYLE_TYPE_VERIFIED", "BADGE_STYLE_TYPE_VERIFIED_ARTIST"}
#: Bidi isolates and marks YouTube wraps around parts of a subtitle ("‎⁨@handle⁩ • ⁨317k subscribers⁩").
_BIDI = re.compile("[\u200e\u200f\u2066-\u2069]")


def innertube_body(query: str, kind: str, client_version: str | None = None) -> bytes:
    """The web client's search request for ``query`` (the first page)."""
    return _body({"query": query, "params": FILTERS[kind].replace("%3D", "=")}, client_version)


def continuation_body(token: str, client_version: str | None = None) -> bytes:
    """The web client's request for the page after the one that named ``token``."""
    return _body({"continuation": token}, client_version)


def _body(fields: dict[str, str], client_version: str | None) -> bytes:
    context = {"client": {"clientName": "WEB", "clientVersion": client_version or DEFAULT_CLIENT_VERSION,
                          "hl": "en", "gl": "US"}}
    return json.dumps({"context": context, **fields}, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def data_api_url(kind: str, query: str, page_token: str | None = None) -> str:
    url = DATA_API_URL.format(type=DATA_API_TYPES[kind], q=quote(query, safe=""))
    return url + (f"&pageToken={quote(page_token, safe='')}" if page_token else "")


# --------------------------------------------------------------------------- pieces


def _handle(url: Any) -> str | None:
    """``/@handle`` (a canonicalBaseUrl) or ``@handle`` -> the handle; None for anything else."""
    text = clean_text(url)
    if not text:
        return None
    name = text.rsplit("/", 1)[-1].removeprefix("@") if "@" in text else None
    return name if name and HANDLE.match(name) and name.strip(".") else None


def _channel(value: Any) -> str | None:
    text = clean_text(value)
    return text if text and CHANNEL_ID.match(text) else None


def _verified(badges: Any) -> bool | None:
    if not isinstance(badges, list):
        return None
    styles = {as_dict(as_dict(b).get("metadataBadgeRenderer")).get("style") for b in badges}
    return bool(styles & _VERIFIED)


def _joined(*parts: str | None) -> str | None:
    kept = [p for p in parts if p]
    return "\n".join(kept) if kept else None


def channel_hit(renderer: dict[str, Any]) -> Hit | None:
    channel_id = _channel(renderer.get("channelId"))
    if channel_id is None:
        return None
    browse = as_dict(as_dict(renderer.get("navigationEndpoint")).get("browseEndpoint"))
    shown = [runs_text(renderer.get(key)) for key in ("subscriberCountText", "videoCountText")]
    counts = FieldCounts()
    handle = _handle(browse.get("canonicalBaseUrl"))
    for text in shown:
        if not text:
            continue
        if text.startswith("@"):
            handle = handle or _handle(text)
        elif "subscriber" in text.lower():
            counts.add("followers", FieldCounts.read({"followers": text}).counts.get("followers"))
    return Hit(
        platform=PLATFORM,
        platform_user_id=channel_id,
        handle=handle,
        display_name=runs_text(renderer.get("title")),
        followers=counts.get("followers"),
        followers_approximate="followers" in counts.approximate,
        verified=_verified(renderer.get("ownerBadges")),
        bio=runs_text(renderer.get("descriptionSnippet")),
        via="user",
    )


def _collaborators(run: dict[str, Any]) -> list[dict[str, Any]]:
    dialog = as_dict(as_dict(as_dict(as_dict(as_dict(run.get("navigationEndpoint")).get("showDialogCommand"))
                                     .get("panelLoadingStrategy")).get("inlineContent")).get("dialogViewModel"))
    items = as_dict(as_dict(dialog.get("customContent")).get("listViewModel")).get("listItems")
    return [as_dict(as_dict(i).get("listItemViewModel")) for i in items] if isinstance(items, list) else []


def video_hits(renderer: dict[str, Any]) -> list[Hit]:
    """A video's uploader, or every channel a collaboration video lists."""
    video_id = clean_text(renderer.get("videoId"))
    snippets = [runs_text(as_dict(s).get("snippetText")) for s in renderer.get("detailedMetadataSnippets") or []
                if isinstance(s, dict)]
    text = _joined(runs_text(renderer.get("title")), runs_text(renderer.get("descriptionSnippet")), *snippets)
    post_url = VIDEO_URL.format(video_id=video_id) if video_id else None
    owner = as_dict(renderer.get("ownerText")) or as_dict(renderer.get("longBylineText"))
    runs = owner.get("runs") if isinstance(owner.get("runs"), list) else []
    first = as_dict(runs[0]) if runs else {}
    collaborators = _collaborators(first)
    if collaborators:
        hits = []
        for item in collaborators:
            command = as_dict(as_dict(as_dict(as_dict(item.get("rendererContext")).get("commandContext")).get("onTap"))
                              .get("innertubeCommand"))
            channel_id = _channel(as_dict(command.get("browseEndpoint")).get("browseId"))
            if channel_id is None:
                continue
            subtitle = _BIDI.sub("", runs_text(item.get("subtitle")) or "")
            parts = [p.strip() for p in subtitle.split("•")]
            counts = FieldCounts.read({"followers": next((p for p in parts if "subscriber" in p.lower()), None)})
            hits.append(Hit(
                platform=PLATFORM, platform_user_id=channel_id,
                handle=next((h for h in map(_handle, parts) if h), None),
                display_name=runs_text(item.get("title")), followers=counts.get("followers"),
                followers_approximate="followers" in counts.approximate, post_url=post_url, text=text,
                via="author" if not hits else "collaborator",
            ))
        return hits
    browse = as_dict(as_dict(first.get("navigationEndpoint")).get("browseEndpoint"))
    channel_id = _channel(browse.get("browseId")) or _channel(renderer.get("channelId"))
    if channel_id is None:
        return []
    return [Hit(platform=PLATFORM, platform_user_id=channel_id, handle=_handle(browse.get("canonicalBaseUrl")),
                display_name=runs_text(first.get("text")), verified=_verified(renderer.get("ownerBadges")),
                post_url=post_url, text=text, via="author")]


# --------------------------------------------------------------------------- dispatch


def parse(payload: bytes, url: str | None = None, status: int | None = 200) -> SearchPage | Failure:
    """An InnerTube search answer, a results page or a Data API search.list answer -> SearchPage
    or typed Failure. Never raises for bad input."""
    parts = urlsplit(url) if url else None
    host, path = (parts.netloc.lower(), parts.path) if parts else ("", "")
    if host.startswith("consent.") or path.startswith("/consent"):
        return Failure(FailureKind.BLOCKED, "redirected to Google's consent page (send the SOCS cookie)", status)
    if path.startswith("/sorry/"):
        return Failure(FailureKind.CAPTCHA, "Google's 'unusual traffic' page", status)
    head = payload.lstrip()[:1]
    document = load_json(payload) if head == b"{" else None
    if isinstance(document, dict):
        failure = data_api_failure(document, status)
        if failure is not None:
            return failure
    failure = status_failure(status, STATUSES)
    if failure is not None:
        return failure
    if "googleapis.com" in host or (isinstance(document, dict) and document.get("kind") == "youtube#searchListResponse"):
        return parse_data_api(document, status)
    if document is None and head == b"<":
        text = payload.decode("utf-8", errors="replace")
        if "unusual traffic" in text and "ytInitialData" not in text:
            return Failure(FailureKind.CAPTCHA, "Google's 'unusual traffic' page", status)
        document = initial_data(text)
    if not isinstance(document, dict):
        return Failure(FailureKind.UNRECOGNIZED, "neither InnerTube search JSON nor a results page", status)
    return parse_innertube(document, status)


def parse_innertube(document: dict[str, Any], status: int | None = 200) -> SearchPage | Failure:
    """A first page (``contents.twoColumnSearchResultsRenderer``) or a continuation
    (``onResponseReceivedCommands[].appendContinuationItemsAction``)."""
    if "contents" not in document and "onResponseReceivedCommands" not in document:
        return Failure(FailureKind.UNRECOGNIZED, "InnerTube answer without search contents", status)
    hits: list[Hit] = []
    channels = videos = 0
    for node in _renderers(document):
        if "channelRenderer" in node:
            hit = channel_hit(as_dict(node["channelRenderer"]))
            channels += 1
            if hit is not None:
                hits.append(hit)
        else:
            videos += 1
            hits.extend(video_hits(as_dict(node["videoRenderer"])))
    tokens = [runs_text(as_dict(as_dict(as_dict(c).get("continuationEndpoint")).get("continuationCommand")).get("token"))
              for c in find_key(document, "continuationItemRenderer")]
    tokens = [t for t in tokens if t]
    return SearchPage(platform=PLATFORM, kind="users" if channels >= videos and channels else "posts",
                      hits=tuple(hits), next_page=tokens[-1] if tokens else None)


def _renderers(document: Any) -> list[dict[str, Any]]:
    """Every ``{channelRenderer}``/``{videoRenderer}`` item, in document order (not those inside a
    renderer: a channel's own videos are not results)."""
    found: list[dict[str, Any]] = []
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "channelRenderer" in node or "videoRenderer" in node:
                found.append(node)
                continue
            stack.extend(reversed(list(node.values())))
        elif isinstance(node, list):
            stack.extend(reversed(node))
    return found


def parse_data_api(document: Any, status: int | None = 200) -> SearchPage | Failure:
    """``search.list``: channels (``id.channelId``) or videos (their ``snippet.channelId``)."""
    if not isinstance(document, dict) or document.get("kind") != "youtube#searchListResponse":
        return Failure(FailureKind.UNRECOGNIZED, "not a Data API search.list answer", status)
    hits: list[Hit] = []
    channels = 0
    for item in document.get("items") or []:
        item = as_dict(item)
        ident, snippet = as_dict(item.get("id")), as_dict(item.get("snippet"))
        if ident.get("kind") == "youtube#channel":
            channels += 1
            channel_id = _channel(ident.get("channelId"))
            if channel_id:
                hits.append(Hit(platform=PLATFORM, platform_user_id=channel_id, display_name=runs_text(snippet.get("title")),
                                bio=runs_text(snippet.get("description")), via="user"))
        elif ident.get("kind") == "youtube#video":
            channel_id = _channel(snippet.get("channelId"))
            video_id = clean_text(ident.get("videoId"))
            if channel_id:
                hits.append(Hit(platform=PLATFORM, platform_user_id=channel_id, display_name=runs_text(snippet.get("channelTitle")),
                                post_url=VIDEO_URL.format(video_id=video_id) if video_id else None,
                                text=_joined(runs_text(snippet.get("title")), runs_text(snippet.get("description"))),
                                via="author"))
    items = document.get("items") or []
    return SearchPage(platform=PLATFORM, kind="users" if items and channels * 2 >= len(items) else "posts",
                      hits=tuple(hits), next_page=clean_text(document.get("nextPageToken")))
