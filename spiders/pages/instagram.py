"""Instagram: profile numbers, bio links and recent posts.

What is read, and from where:

* the web app's JSON ``i.instagram.com/api/v1/users/web_profile_info/?username=NAME``, asked
  with the public web app id header ``x-ig-app-id: 936619743392459``: ``data.user`` with
  ``edge_followed_by.count`` (followers), ``edge_follow.count`` (following),
  ``edge_owner_to_timeline_media.{count, edges[].node}`` (posts and the latest ones, with
  captions, likes, comments and timestamps), ``is_verified``, ``is_private``, ``biography``,
  ``external_url`` and ``bio_links[].url`` (links), ``full_name``, ``id``;
* the profile page ``www.instagram.com/NAME/`` as fallback: the inline
  ``<script type="application/json" data-sjs>`` object ``xig_user_by_username``
  (``follower_count``, ``following_count``, ``media_count``, ``pk``, ...) and the
  ``og:description`` meta tag ("307M Followers, 190 Following, 1,407 Posts - See Instagram
  photos and videos from Nike (@nike)"), whose rounded counts are marked approximate;
* the same user object in its newer schema, as the GraphQL profile query
  (``www.instagram.com/graphql/query``, doc_id ``PolarisProfilePageContentQuery``, which
  instaloader reads since 4.15.1: ``data.user``) and the app API
  (``i.instagram.com/api/v1/users/<pk>/info/``: ``{"user": ..., "status": "ok"}``) send it:
  ``pk``, ``follower_count``, ``following_count``, ``media_count`` in place of the edges
  (:func:`user_profile` reads either; the edges win when both are sent);
* a business account's address: ``business_address_json`` (a JSON string; its ``city_name``,
  e.g. "Austin, Texas") or the app API's ``city_name`` -> ``location``, and its country ->
  ``country`` through :func:`enrichment.places.country_code`;
* saved answers of the official Graph API ``business_discovery`` field
  (``followers_count``, ``media_count``; needs an app token, so the spider never calls it);
* records in scrapfly-scrapers' reduced output shape (``followers``/``follows``/``bio``),
  a projection of ``xig_user_by_username`` kept for ``wangzi parse`` of such exports.

Failures: a redirect to ``/accounts/login`` -> login_required, to ``/challenge`` or
``/checkpoint`` -> captcha; the web API's ``{"message": ..., "status": "fail"}`` answers by their
message ("checkpoint_required" -> captcha, "Please wait a few minutes" or HTTP 429 ->
rate_limited, "login_required" -> login_required); then HTTP 404 -> not_found, 401 ->
login_required, another error status -> http_error (each naming the API's message); Graph API
``error.code`` 4/17/32/613 -> rate_limited, 190 -> login_required, 100/2207013 -> not_found.

Everything here is pure: bytes in, a record out; :mod:`spiders.instagram` decides what to request.
"""

from __future__ import annotations

import html as html_lib
import re
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

from records import PLATFORM_TABLE, AccountRef, Failure, FailureKind, ParseResult, Post, Profile
from enrichment.numbers import parse_count
from enrichment.places import country_code
from spiders.pages.payload import as_bool, as_dict, clean_text, count, epoch_utc, find_key, first, link_parts, load_json
from spiders.pages.status import StatusTable, status_failure

PARSER_VERSION = "2"
PLATFORM = "instagram"

API_URL = "https://i.instagram.com/api/v1/users/web_profile_info/?username={handle}"
PAGE_URL = "https://www.instagram.com/{handle}/"
POST_URL = "https://www.instagram.com/p/{shortcode}/"
#: The id of Instagram's own web app, sent by its pages with every API call. Without it the
#: API answers 400/403 (scrapfly-scrapers instagram.py ``INSTAGRAM_APP_ID``).
WEB_APP_ID = "936619743392459"

#: Instagram usernames: up to 30 letters, digits, periods and underscores (the platform table's pattern).
HANDLE = cast(re.Pattern[str], PLATFORM_TABLE[PLATFORM].handle)
_HOSTS = {"instagram.com", "m.instagram.com", "instagr.am"}
#: First path segments that are Instagram pages, not accounts.
_RESERVED = {
    "p", "reel", "reels", "tv", "explore", "accounts", "stories", "direct", "about", "legal",
    "developer", "web", "challenge", "api", "graphql", "emails", "privacy", "terms",
}

_OG_COUNTS = re.compile(
    r"(?P<followers>[\d.,]+\s*[KMB]?)\s+Followers?,\s*(?P<following>[\d.,]+\s*[KMB]?)\s+Following,\s*"
    r"(?P<posts>[\d.,]+\s*[KMB]?)\s+Posts?",
    re.IGNORECASE,
)
_OG_NAME = re.compile(r"from\s+(?P<name>.*?)\s*\(@(?P<handle>[A-Za-z0-9._]+)\)")
_META = re.compile(r"<meta\s+[^>]*>", re.IGNORECASE)
_ATTR = re.compile(r'([\w:-]+)\s*=\s*"([^"]*)"|([\w:-]+)\s*=\s*\'([^\']*)\'')
_SJS_SCRIPT = re.compile(r"<script\b[^>]*\bdata-sjs\b[^>]*>(.*?)</script>", re.IGNORECASE | re.DOTALL)

#: HTTP status -> failure, when the answer's message named no checkpoint, rate limit or login
#: wall of its own. The detail adds that message, except after a 404, which says it all.
STATUSES: StatusTable = {
    401: (FailureKind.LOGIN_REQUIRED, "HTTP 401"),
    404: (FailureKind.NOT_FOUND, "HTTP 404: no such account"),
}


# --------------------------------------------------------------------------- accounts


def normalize_account(text: str) -> AccountRef:
    """``@name``, ``name`` or ``https://www.instagram.com/name/`` -> account reference.

    Usernames are case-insensitive on Instagram and stored in lower case.
    """
    value = text.strip()
    if "/" in value or "instagram.com" in value.lower() or "instagr.am" in value.lower():
        host, segments = link_parts(value)
        if host not in _HOSTS or not segments or segments[0].lower() in _RESERVED or not HANDLE.match(segments[0]):
            raise ValueError(f"{value!r} is not an Instagram profile URL; expected https://www.instagram.com/<username>/")
        return AccountRef(platform=PLATFORM, handle=segments[0].lower())
    handle = value.removeprefix("@")
    if HANDLE.match(handle) and not handle.startswith(".") and not handle.endswith("."):
        return AccountRef(platform=PLATFORM, handle=handle.lower())
    raise ValueError(
        f"{value!r} is not an Instagram username (letters, digits, '.' and '_', at most 30) "
        "or profile URL (https://www.instagram.com/<username>/)"
    )


# --------------------------------------------------------------------------- dispatch


def parse(payload: bytes, url: str | None = None, status: int | None = 200) -> ParseResult:
    """Any Instagram answer -> Profile or typed Failure. Never raises for bad input."""
    parts = urlsplit(url) if url else None
    path = parts.path if parts else ""
    text = payload.decode("utf-8", errors="replace")
    failure = _location_failure(path, status) or _answer_failure(text, status)
    if failure is not None:
        return failure
    host = parts.netloc.lower() if parts else ""
    if "/web_profile_info" in path:
        return parse_web_profile_info(payload, url, status)
    if "graph.facebook.com" in host or "graph.instagram.com" in host:
        return parse_business_discovery(payload, url, status)
    head = payload.lstrip()[:1]
    document = load_json(payload) if head == b"{" else None
    if isinstance(document, dict):
        if "business_discovery" in document:
            return parse_business_discovery(payload, url, status)
        if "data" in document or isinstance(as_dict(document.get("graphql")).get("user"), dict):
            return parse_web_profile_info(payload, url, status)
        if isinstance(document.get("user"), dict):
            return parse_user_info(payload, url, status)
        if "username" in document and ("followers" in document or "follows" in document):
            return parse_derived_record(payload, url, status)
    if head == b"<" or (path and "instagram.com" in host and not path.startswith("/api/")):
        return parse_profile_page(payload, url, status)
    return Failure(FailureKind.UNRECOGNIZED, "neither an Instagram page nor Instagram API JSON", status)


def _location_failure(path: str, status: int | None) -> Failure | None:
    """The final URL after redirects: the login page or a checkpoint/challenge."""
    if path.startswith("/accounts/login"):
        return Failure(FailureKind.LOGIN_REQUIRED, f"redirected to the login page ({path})", status)
    if path.startswith("/challenge") or path.startswith("/checkpoint"):
        return Failure(FailureKind.CAPTCHA, f"redirected to a challenge ({path})", status)
    return None


def _answer_failure(text: str, status: int | None) -> Failure | None:
    """Statuses and the ``{"message": ..., "status": "fail"}`` answers the web API gives."""
    document = load_json(text) if text.lstrip()[:1] == "{" else None
    message = ""
    if isinstance(document, dict):
        message = str(document.get("message") or "")
        error = document.get("error")
        if isinstance(error, dict):  # Graph API
            return _graph_error(error, status)
    lowered = message.lower()
    if "checkpoint_required" in lowered or "challenge_required" in lowered:
        return Failure(FailureKind.CAPTCHA, f"Instagram asks for a checkpoint ({message})"[:300], status)
    if "please wait a few minutes" in lowered or status == 429:
        return Failure(FailureKind.RATE_LIMITED, (message or f"HTTP {status}")[:300], status)
    if "logged in" in lowered or "login_required" in lowered or (
        isinstance(document, dict) and document.get("require_login") is True
    ):
        return Failure(FailureKind.LOGIN_REQUIRED, (message or "the API asks for a login")[:300], status)
    failure = status_failure(status, STATUSES)
    if failure is not None and status != 404:
        return Failure(failure.kind, f"{failure.detail} {message}".strip()[:300], status)
    return failure


def _graph_error(error: dict[str, Any], status: int | None) -> Failure:
    """Graph API ``{"error": {"code": ..., "error_subcode": ..., "message": ...}}``: 4/17/32/613
    are rate limits, 190 an expired token, 100 with subcode 2207013 an unknown username."""
    code, subcode = error.get("code"), error.get("error_subcode")
    detail = f"Graph API error {code}: {error.get('message') or ''}"[:300]
    if code in (4, 17, 32, 613):
        return Failure(FailureKind.RATE_LIMITED, detail, status)
    if code == 190:
        return Failure(FailureKind.LOGIN_REQUIRED, detail, status)
    if code == 100 and subcode == 2207013:
        return Failure(FailureKind.NOT_FOUND, detail, status)
    return Failure(FailureKind.HTTP_ERROR if status and status >= 400 else FailureKind.UNRECOGNIZED, detail, status)


# --------------------------------------------------------------------------- shared pieces


def _edge_count(user: dict[str, Any], key: str) -> int | None:
    """``user.<key>.count``; a negative count (Instagram's hidden like counts) is not shown: None."""
    return count(as_dict(user.get(key)).get("count"))


def _links(*values: Any) -> tuple[str, ...]:
    links: list[str] = []
    for value in values:
        items = value if isinstance(value, list) else [value]
        for item in items:
            link = clean_text(item.get("url")) if isinstance(item, dict) else clean_text(item)
            if link and link not in links:
                links.append(link)
    return tuple(links)


def _handle_from_url(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    values = parse_qs(parts.query).get("username")
    if values and HANDLE.match(values[0]):
        return values[0].lower()
    segments = [s for s in parts.path.split("/") if s]
    if segments and "instagram.com" in parts.netloc and segments[0].lower() not in _RESERVED and HANDLE.match(segments[0]):
        return segments[0].lower()
    match = re.search(r"business_discovery\.username\(([A-Za-z0-9._]+)\)", parts.query)
    return match.group(1).lower() if match else None


def timeline_posts(media: dict[str, Any]) -> tuple[Post, ...]:
    """``edge_owner_to_timeline_media.edges[].node`` -> posts (caption, likes, comments, time)."""
    posts: list[Post] = []
    edges = media.get("edges")
    for edge in edges if isinstance(edges, list) else []:
        node = as_dict(as_dict(edge).get("node"))
        post_id = clean_text(node.get("id"))
        shortcode = clean_text(node.get("shortcode"))
        if post_id is None:
            continue
        captions = as_dict(node.get("edge_media_to_caption")).get("edges")
        caption = None
        if isinstance(captions, list) and captions:
            caption = clean_text(as_dict(as_dict(captions[0]).get("node")).get("text"))
        likes = count(as_dict(node.get("edge_liked_by")).get("count"))
        if likes is None:
            likes = count(as_dict(node.get("edge_media_preview_like")).get("count"))
        is_video = node.get("is_video") is True
        posts.append(
            Post(
                platform=PLATFORM,
                post_id=post_id,
                url=POST_URL.format(shortcode=shortcode) if shortcode else None,
                published_at=epoch_utc(node.get("taken_at_timestamp")),
                text=caption,
                kind="video" if is_video else "post",
                likes=likes,
                comments=count(as_dict(node.get("edge_media_to_comment")).get("count")),
                views=count(node.get("video_view_count")) if is_video else None,
            )
        )
    return tuple(posts)


# --------------------------------------------------------------------------- web_profile_info


def parse_web_profile_info(payload: bytes, url: str | None = None, status: int | None = 200) -> ParseResult:
    """``/api/v1/users/web_profile_info/?username=``: ``data.user``."""
    document = load_json(payload)
    if not isinstance(document, dict):
        if payload.lstrip()[:1] == b"<":
            return Failure(FailureKind.UNRECOGNIZED, "HTML instead of web_profile_info JSON", status)
        return Failure(FailureKind.UNRECOGNIZED, "not JSON", status)
    # The 2019-2023 ``?__a=1`` answer carried the same user object under ``graphql.user``.
    data = document.get("data") if "data" in document else document.get("graphql")
    if not isinstance(data, dict):
        return Failure(FailureKind.UNRECOGNIZED, "web_profile_info without data", status)
    if "user" in data and data["user"] is None:
        return Failure(FailureKind.NOT_FOUND, "Instagram has no user with this name (data.user is null)", status)
    user = data.get("user")
    if not isinstance(user, dict):
        return Failure(FailureKind.UNRECOGNIZED, "web_profile_info without data.user", status)
    return user_profile(user, url)


def user_profile(user: dict[str, Any], url: str | None = None) -> Profile:
    """One user object, in either schema, as a Profile.

    The web app's (``web_profile_info``, ``?__a=1``'s ``graphql.user``) counts are edges:
    ``edge_followed_by.count``, ``edge_follow.count``, ``edge_owner_to_timeline_media.count``;
    the newer GraphQL profile query (``PolarisProfilePageContentQuery``, instaloader since
    4.15.1) and the app API (``api/v1/users/<id>/info/``, instagrapi's ``User``) send
    ``follower_count``, ``following_count``, ``media_count`` and ``pk`` instead. The edges are
    read first, the plain counts fill what they leave unread. A business account's address
    (``business_address_json.city_name``, or the app API's ``city_name``) is its ``location``,
    and that place's country its ``country`` (:func:`enrichment.places.country_code`).
    """
    media = as_dict(user.get("edge_owner_to_timeline_media"))
    city = business_city(user)
    identifier = user.get("id") if user.get("id") is not None else user.get("pk")
    return Profile(
        platform=PLATFORM,
        platform_user_id=clean_text(str(identifier)) if isinstance(identifier, (int, str)) and not isinstance(identifier, bool) else None,
        handle=(clean_text(user.get("username")) or _handle_from_url(url) or "").lower() or None,
        display_name=clean_text(user.get("full_name")),
        followers=first(_edge_count(user, "edge_followed_by"), count(user.get("follower_count"))),
        following=first(_edge_count(user, "edge_follow"), count(user.get("following_count"))),
        posts=first(count(media.get("count")), count(user.get("media_count"))),
        verified=as_bool(user.get("is_verified")),
        bio=clean_text(user.get("biography")),
        location=city,
        country=country_code(city),
        links=_links(user.get("external_url"), user.get("bio_links")),
        recent_posts=timeline_posts(media),
    )


def business_city(user: dict[str, Any]) -> str | None:
    """A business account's address city: ``business_address_json`` (a JSON *string* on the web:
    ``{"city_name": "Austin, Texas", "city_id": ..., "street_address": ..., "zip_code": ...}``)
    or the app API's ``city_name``; None when the account shows no address."""
    raw = user.get("business_address_json")
    address = as_dict(load_json(raw) if isinstance(raw, str) else raw)
    return clean_text(address.get("city_name")) or clean_text(user.get("city_name"))


def parse_user_info(payload: bytes, url: str | None = None, status: int | None = 200) -> ParseResult:
    """The app API ``i.instagram.com/api/v1/users/<id>/info/`` (``{"user": {...}, "status": "ok"}``,
    instagrapi ``user_info_v1``): ``user.{pk, username, full_name, follower_count,
    following_count, media_count, is_verified, biography, external_url, bio_links, city_name}``."""
    document = load_json(payload)
    user = as_dict(document).get("user")
    if not isinstance(user, dict) or not (user.get("username") or user.get("pk") or user.get("id")):
        return Failure(FailureKind.UNRECOGNIZED, "users/info answer without a user", status)
    return user_profile(user, url)


# --------------------------------------------------------------------------- profile page


def _meta_tags(html: str) -> dict[str, str]:
    tags: dict[str, str] = {}
    for tag in _META.finditer(html):
        attrs = {}
        for match in _ATTR.finditer(tag.group(0)):
            name = (match.group(1) or match.group(3)).lower()
            attrs[name] = html_lib.unescape(match.group(2) if match.group(1) else match.group(4))
        key = attrs.get("property") or attrs.get("name")
        if key and "content" in attrs:
            tags.setdefault(key.lower(), attrs["content"])
    return tags


def xig_user(html: str) -> dict[str, Any] | None:
    """The ``xig_user_by_username`` object of the page's ``data-sjs`` scripts, when present."""
    for match in _SJS_SCRIPT.finditer(html):
        body = match.group(1)
        if "xig_user_by_username" not in body:
            continue
        for found in find_key(load_json(body), "xig_user_by_username"):
            if isinstance(found, dict) and ("follower_count" in found or "username" in found):
                return found
    return None


def parse_profile_page(payload: bytes, url: str | None = None, status: int | None = 200) -> ParseResult:
    """``www.instagram.com/NAME/``: inline ``xig_user_by_username`` first, ``og:description`` after."""
    html = payload.decode("utf-8", errors="replace")
    if not html.strip():
        return Failure(FailureKind.UNRECOGNIZED, "empty page", status)
    user = xig_user(html)
    meta = _meta_tags(html)
    description = meta.get("og:description") or meta.get("description") or ""
    og = _OG_COUNTS.search(description)
    if user is None and og is None:
        if "/accounts/login" in html and "Login" in html and "og:description" not in html:
            return Failure(FailureKind.LOGIN_REQUIRED, "the page is the login wall", status)
        if "Page Not Found" in html or "Sorry, this page isn't available" in html:
            return Failure(FailureKind.NOT_FOUND, "the page says it isn't available", status)
        return Failure(FailureKind.UNRECOGNIZED, "page without xig_user_by_username or og:description counts", status)
    approximate: list[str] = []
    counts: dict[str, int | None] = {"followers": None, "following": None, "posts": None}
    if user is not None:
        counts = {
            "followers": count(user.get("follower_count")),
            "following": count(user.get("following_count")),
            "posts": count(user.get("media_count")),
        }
    if og is not None:
        for field in counts:
            if counts[field] is not None:
                continue
            read = parse_count(og.group(field))
            if read is not None:
                counts[field] = read.value
                if read.approximate:
                    approximate.append(field)
    named = _OG_NAME.search(description)
    user = user or {}
    handle = clean_text(user.get("username")) or (named.group("handle") if named else None) or _handle_from_url(url)
    return Profile(
        platform=PLATFORM,
        platform_user_id=clean_text(str(user["pk"])) if user.get("pk") is not None else None,
        handle=handle.lower() if handle else None,
        display_name=clean_text(user.get("full_name")) or (clean_text(named.group("name")) if named else None),
        followers=counts["followers"],
        following=counts["following"],
        posts=counts["posts"],
        verified=as_bool(user.get("is_verified")),
        bio=clean_text(user.get("biography")),
        location=business_city(user),
        country=country_code(business_city(user)),
        approximate=tuple(approximate),
        links=_links(user.get("external_url"), user.get("bio_links")),
    )


# --------------------------------------------------------------------------- Graph API


def parse_business_discovery(payload: bytes, url: str | None = None, status: int | None = 200) -> ParseResult:
    """Graph API ``GET /{ig-user-id}?fields=business_discovery.username(NAME){followers_count,media_count}``.

    ``business_discovery.id`` is the account's Instagram *Graph* id (17841...), not the web
    id, so it is not stored as ``platform_user_id``; the handle comes from the URL.
    """
    document = load_json(payload)
    if not isinstance(document, dict) or not isinstance(document.get("business_discovery"), dict):
        return Failure(FailureKind.UNRECOGNIZED, "Graph API answer without business_discovery", status)
    found = document["business_discovery"]
    handle = clean_text(found.get("username")) or _handle_from_url(url)
    return Profile(
        platform=PLATFORM,
        handle=handle.lower() if handle else None,
        display_name=clean_text(found.get("name")),
        followers=count(found.get("followers_count")),
        following=count(found.get("follows_count")),
        posts=count(found.get("media_count")),
        bio=clean_text(found.get("biography")),
        links=_links(found.get("website")),
    )


# --------------------------------------------------------------------------- derived records


def parse_derived_record(payload: bytes, url: str | None = None, status: int | None = 200) -> ParseResult:
    """A scrapfly-scrapers ``parse_user()`` record: ``xig_user_by_username`` with keys renamed
    (followers<-follower_count, follows<-following_count, bio<-biography, id<-pk). Not a raw
    platform answer; read so exports of that tool can be checked with ``wangzi parse``."""
    document = load_json(payload)
    if not isinstance(document, dict) or not clean_text(document.get("username")):
        return Failure(FailureKind.UNRECOGNIZED, "not a reduced Instagram user record", status)
    return Profile(
        platform=PLATFORM,
        platform_user_id=clean_text(str(document["id"])) if document.get("id") is not None else None,
        handle=str(document["username"]).strip().lower(),
        display_name=clean_text(document.get("name")),
        followers=count(document.get("followers")),
        following=count(document.get("follows")),
        verified=as_bool(document.get("is_verified")),
        bio=clean_text(document.get("bio")),
        links=_links(document.get("homepage"), document.get("bio_links")),
    )
