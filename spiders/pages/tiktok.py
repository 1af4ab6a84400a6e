"""TikTok: profile numbers, bio link, region and recent videos.

What is read, and from where:

* the profile page ``www.tiktok.com/@HANDLE``: the JSON in
  ``<script id="__UNIVERSAL_DATA_FOR_REHYDRATION__">`` at
  ``__DEFAULT_SCOPE__["webapp.user-detail"].userInfo`` (``statusCode`` beside it);
* the web API ``www.tiktok.com/api/user/detail/?uniqueId=HANDLE`` (``{"userInfo": ..., "statusCode"}``,
  also when relayed wrapped in ``{"data": ...}``), and a bare ``userInfo`` object or a list of them
  (scrapfly-scrapers' saved output).

``userInfo.stats`` holds **rounded** numbers (427700 for 427,682) while ``userInfo.statsV2`` holds
the **exact** ones as strings. Exact values win; a value taken from ``stats`` is marked
approximate when it is 1,000 or more (TikTok rounds what it shows as "427.7K"; smaller counts
are shown, and sent, exactly). ``user``: ``uniqueId``, ``nickname``, ``verified``, ``signature``,
``bioLink.link``, ``region`` (absent from newer pages), ``privateAccount``, ``id`` and
``secUid`` (kept as ``other_user_id``: the item_list and yt-dlp's user extractor need it).

Failures: ``statusCode`` 10221 (10223) or HTTP 404 -> not_found; 10222 without ``userInfo`` ->
private; an empty page, a ``SlardarWAF`` challenge or rehydration data without
``webapp.user-detail`` -> blocked; a captcha / "verify to continue" page -> captcha; an HTML page
without rehydration data (a wall not recognised, or a changed page) -> unrecognized; HTTP 429 ->
rate_limited; HTTP 5xx -> http_error; a redirect to ``/login`` -> login_required. The first three
kinds send the chain on to Chromium. A private account with ``userInfo`` (``privateAccount:
true``) is still a profile: TikTok shows its counts; only its videos are hidden.

Recent videos (``Post``, kind ``video``, URL ``https://www.tiktok.com/@HANDLE/video/ID``):

* embedded in the page when it carries them: an ``itemList`` inside the rehydration data, or
  the ``ItemModule`` (videos by id, ordered by ``ItemList["user-post"].list``) of older pages'
  ``<script id="SIGI_STATE">`` or ``<script id="sigi-persisted-data">`` (yt-dlp reads both ids;
  ``UserModule.users``/``.stats`` also give the profile);
* the web API ``www.tiktok.com/api/post/item_list/?aid=1988&secUid=SEC_UID&count=N&cursor=0``
  -> ``{"itemList": [{"id", "desc", "createTime", "author", "stats", "statsV2"}], "hasMore",
  "cursor", "statusCode"}``. ``secUid`` is read from the profile answer
  (``userInfo.user.secUid``). The request is unsigned (no ``X-Bogus``/``X-Gnarly``), and
  TikTok often answers such requests with an **empty 200 body**, or JSON with a cursor and no
  ``itemList``: both are ``blocked`` failures ("TikTok withheld the videos"), never "0 videos".

Per video: ``playCount`` -> views, ``diggCount`` -> likes, ``commentCount``, ``shareCount``;
exact ``statsV2`` strings win over ``stats`` numbers, and a ``stats`` value of 1,000 or more
is marked approximate, exactly as for the profile. item_list failures: an empty body, JSON
without ``itemList`` (or an empty one with ``hasMore: true``), a WAF page -> blocked; a
captcha page -> captcha; ``statusCode`` 10221/10223 -> not_found, 10222 -> private; another
``statusCode``, non-JSON or items without an id -> unrecognized. An explicit empty last page
(``itemList: []``, ``hasMore: false``) is an empty page of posts, which stores nothing.

Everything here is pure: bytes in, a record out (and the item_list request a profile names);
:mod:`spiders.tiktok` decides what to request.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any, cast
from urllib.parse import urlencode, urlsplit

from records import PLATFORM_TABLE, AccountRef, Failure, FailureKind, ParseResult, Post, PostPage, Profile
from enrichment.places import country_code
from spiders.pages.parsing import Parser
from spiders.pages.payload import (
    as_bool,
    as_dict,
    clean_text,
    count,
    dots_only,
    epoch_utc,
    first,
    link_parts,
    load_json,
)
from spiders.pages.status import StatusTable, status_failure

PARSER_VERSION = "2"
PLATFORM = "tiktok"

PAGE_URL = "https://www.tiktok.com/@{handle}"
ITEM_LIST_URL = "https://www.tiktok.com/api/post/item_list/"
VIDEO_URL = "https://www.tiktok.com/@{handle}/video/{video_id}"
#: The web app asks item_list for at most 35 videos a page.
ITEM_LIST_MAX_COUNT = 35
#: TikTok usernames: letters, digits, '_' and '.', at most 24 characters (the platform table's pattern).
HANDLE = cast(re.Pattern[str], PLATFORM_TABLE[PLATFORM].handle)
_HOSTS = {"tiktok.com", "m.tiktok.com", "vm.tiktok.com"}
_REHYDRATION = re.compile(
    r"<script[^>]*\bid=[\"']__UNIVERSAL_DATA_FOR_REHYDRATION__[\"'][^>]*>(.*?)</script>", re.DOTALL | re.IGNORECASE
)
_TAG = re.compile(r"<[^>]*>")
#: Older pages' store; yt-dlp (``TikTokBaseIE._get_sigi_state``) also finds it under the id
#: ``sigi-persisted-data``.
_SIGI = re.compile(r"<script[^>]*\bid=[\"'](?:SIGI_STATE|sigi-persisted-data)[\"'][^>]*>(.*?)</script>", re.DOTALL | re.IGNORECASE)
#: ``webapp.user-detail.statusCode`` for a missing or banned user (10221; 10223 seen by other
#: scrapers for removed accounts) and for a private profile shown without ``userInfo`` (10222).
NOT_FOUND_CODES = {10221, 10223}
PRIVATE_CODES = {10222}
#: Counts TikTok rounds for display start at 1,000 ("1.2K").
ROUNDING_FROM = 1000
#: Field -> the stats keys that may hold it, first found wins (older pages say "heart").
_COUNT_KEYS = {"followers": ("followerCount",), "following": ("followingCount",), "likes": ("heartCount", "heart"),
               "posts": ("videoCount",)}
_POST_COUNT_KEYS = {"views": ("playCount",), "likes": ("diggCount",), "comments": ("commentCount",),
                    "shares": ("shareCount",)}
_VIDEO_ID = re.compile(r"^[0-9]{6,25}$")

#: HTTP status -> failure. An unlisted 4xx is read like a 200: the page says what it is (a WAF
#: or captcha page, an empty body: :func:`parse_profile_page` tells them apart); a 5xx is
#: TikTok's own error (``SERVER_ERROR``).
STATUSES: StatusTable = {
    404: (FailureKind.NOT_FOUND, "HTTP 404: no such TikTok account"),
    429: (FailureKind.RATE_LIMITED, "HTTP 429 from TikTok"),
}
SERVER_ERROR = (FailureKind.HTTP_ERROR, "HTTP {status} from TikTok")
#: item_list's own wording of a rate limit; any other status is read like a 200 (the spider
#: hands item_list answers to :func:`parse_item_list` directly).
ITEM_LIST_STATUSES: StatusTable = {429: (FailureKind.RATE_LIMITED, "HTTP 429 from TikTok (item_list)")}


# --------------------------------------------------------------------------- accounts


def _is_handle(text: str) -> bool:
    """A TikTok username: the platform table's pattern, and not dots alone ("." and ".." are path segments)."""
    return bool(HANDLE.match(text)) and not dots_only(text)


def normalize_account(text: str) -> AccountRef:
    """``@handle``, ``handle`` or ``https://www.tiktok.com/@handle`` -> account reference (lower case)."""
    value = text.strip()
    if "/" in value or "tiktok.com" in value.lower():
        host, segments = link_parts(value)
        if host in _HOSTS and segments and segments[0].startswith("@") and _is_handle(segments[0][1:]):
            return AccountRef(platform=PLATFORM, handle=segments[0][1:].lower())
        raise ValueError(f"{value!r} is not a TikTok profile URL; expected https://www.tiktok.com/@<username>")
    handle = value.removeprefix("@")
    if _is_handle(handle):
        return AccountRef(platform=PLATFORM, handle=handle.lower())
    raise ValueError(
        f"{value!r} is not a TikTok username (letters, digits, '_' and '.', at most 24) "
        "or profile URL (https://www.tiktok.com/@<username>)"
    )


# --------------------------------------------------------------------------- dispatch


def parse(payload: bytes, url: str | None = None, status: int | None = 200) -> ParseResult:
    """Any TikTok answer -> Profile or typed Failure. Never raises for bad input."""
    text = payload.decode("utf-8-sig", errors="replace")
    stripped = text.lstrip()
    failure = status_failure(status, STATUSES, otherwise=SERVER_ERROR if (status or 0) >= 500 else None)
    if failure is not None:
        return failure
    if url and "/login" in urlsplit(url).path:
        return Failure(FailureKind.LOGIN_REQUIRED, "redirected to TikTok's login page", status)
    if _is_item_list(url):
        return parse_item_list(payload, url, status)
    if stripped[:1] in ("{", "["):
        return parse_api(payload, url, status)
    return parse_profile_page(payload, url, status)


def parse_api(payload: bytes, url: str | None = None, status: int | None = 200) -> ParseResult:
    """``api/user/detail`` JSON (bare or wrapped in ``data``), or a saved ``userInfo`` object/list."""
    document = load_json(payload.decode("utf-8-sig", errors="replace"))
    if isinstance(document, list):
        document = document[0] if document and isinstance(document[0], dict) else None
    if not isinstance(document, dict):
        return Failure(FailureKind.UNRECOGNIZED, "not JSON", status)
    if isinstance(document.get("data"), dict) and "user" not in document:
        document = document["data"]
    if "userInfo" in document or "statusCode" in document or "status_code" in document:
        return user_info_profile(document.get("userInfo"), document.get("statusCode", document.get("status_code")), url, status,
                                 document.get("statusMsg") or document.get("status_msg"))
    if "user" in document and "stats" in document:
        return user_info_profile(document, 0, url, status)
    return Failure(FailureKind.UNRECOGNIZED, "JSON without userInfo", status)


def _script_object(script: re.Pattern[str], html: str) -> dict[str, Any] | None:
    """The JSON object in the page's first ``script`` element, or None."""
    match = script.search(html)
    document = load_json(match.group(1)) if match else None
    return document if isinstance(document, dict) else None


def rehydration_data(html: str) -> dict[str, Any] | None:
    """The page's ``<script id="__UNIVERSAL_DATA_FOR_REHYDRATION__">`` data, or None."""
    return _script_object(_REHYDRATION, html)


def parse_profile_page(payload: bytes, url: str | None = None, status: int | None = 200) -> ParseResult:
    """``www.tiktok.com/@HANDLE``: ``__DEFAULT_SCOPE__["webapp.user-detail"]``."""
    html = payload.decode("utf-8", errors="replace")
    if not html.strip() or not _TAG.sub("", html).strip():
        # An empty body, or the same body as Chromium renders it (<html><head></head><body></body></html>).
        return Failure(FailureKind.BLOCKED, "empty page (TikTok's answer to a suspected bot)", status)
    data = rehydration_data(html)
    sigi = sigi_state(html)
    if data is None and sigi is not None:
        return _sigi_profile(sigi, url, status)
    if data is None:
        lowered = html.lower()
        if any(mark in lowered for mark in ("_wafchallengeid", "slardarwaf")):
            return Failure(FailureKind.BLOCKED, "TikTok's WAF challenge page instead of the profile", status)
        if any(mark in lowered for mark in ("captcha", "verify to continue")):
            return Failure(FailureKind.CAPTCHA, "a captcha / verification page instead of the profile", status)
        if "<html" in lowered or "<!doctype" in lowered:
            return Failure(FailureKind.UNRECOGNIZED, "page without __UNIVERSAL_DATA_FOR_REHYDRATION__ (a bot wall or a changed page)", status)
        return Failure(FailureKind.UNRECOGNIZED, "neither a TikTok page nor TikTok JSON", status)
    scope = as_dict(data.get("__DEFAULT_SCOPE__"))
    detail = scope.get("webapp.user-detail")
    if not isinstance(detail, dict):
        return Failure(FailureKind.BLOCKED, "rehydration data without webapp.user-detail (challenge or other page)", status)
    result = user_info_profile(detail.get("userInfo"), detail.get("statusCode"), url, status, detail.get("statusMsg"))
    if isinstance(result, Profile):
        posts = _own_posts(_embedded_item_list(scope), result)
        if posts:
            result = dataclasses.replace(result, recent_posts=posts)
    return result


def _own_posts(items: list[Any], profile: Profile) -> tuple[Post, ...]:
    """The account's own videos among embedded items: an item naming another author (a
    recommendation, a repost) is left out."""
    posts = []
    for item in items:
        author = as_dict(item).get("author")
        named = {clean_text(author)} if isinstance(author, str) else {clean_text(as_dict(author).get("uniqueId")), clean_text(as_dict(author).get("id"))}
        named = {(n or "").lower() for n in named} - {""}
        if named and not named & {profile.handle, profile.platform_user_id}:
            continue
        post = video_post(item, profile.handle)
        if post is not None:
            posts.append(post)
    return _unique(tuple(posts))


def sigi_state(html: str) -> dict[str, Any] | None:
    """Older pages' ``<script id="SIGI_STATE">`` store, or None."""
    return _script_object(_SIGI, html)


def _sigi_profile(state: dict[str, Any], url: str | None, status: int | None) -> ParseResult:
    """``SIGI_STATE``: ``UserModule.users``/``.stats`` by handle, ``UserPage.statusCode``,
    videos in ``ItemModule`` (by id) in the order of ``ItemList["user-post"].list``."""
    module = as_dict(state.get("UserModule"))
    users = as_dict(module.get("users"))
    page = as_dict(state.get("UserPage"))
    handle = page.get("uniqueId") if page.get("uniqueId") in users else next(iter(users), None)
    code = page.get("statusCode")
    info = {"user": users.get(handle), "stats": as_dict(module.get("stats")).get(handle)} if handle else None
    result = user_info_profile(info, code, url, status)
    if not isinstance(result, Profile):
        return result
    items = as_dict(state.get("ItemModule"))
    order = as_dict(as_dict(state.get("ItemList")).get("user-post")).get("list")
    ids = [str(i) for i in order if str(i) in items] if isinstance(order, list) else []
    ids += [i for i in items if i not in ids]
    posts = _own_posts([{"id": i, **as_dict(items[i])} for i in ids], result)
    return dataclasses.replace(result, recent_posts=posts) if posts else result


def _embedded_item_list(node: Any, depth: int = 0) -> list[Any]:
    """The first ``itemList`` (a list of objects with an ``id``) inside the page's data."""
    if depth > 4 or not isinstance(node, dict):
        return []
    items = node.get("itemList")
    if isinstance(items, list) and any(isinstance(i, dict) and "id" in i for i in items):
        return items
    for value in node.values():
        found = _embedded_item_list(value, depth + 1)
        if found:
            return found
    return []


def _unique(posts: tuple[Post, ...]) -> tuple[Post, ...]:
    seen: dict[str, Post] = {}
    for post in posts:
        seen.setdefault(post.post_id, post)
    return tuple(seen.values())


# --------------------------------------------------------------------------- recent videos


def _counts(
    exact: dict[str, Any], rounded: dict[str, Any], keys: dict[str, tuple[str, ...]]
) -> tuple[dict[str, int | None], list[str]]:
    """Exact ``statsV2`` strings over ``stats`` numbers (profiles and videos alike); a ``stats``
    value >= 1,000 is approximate (TikTok shows it rounded)."""
    values: dict[str, int | None] = {}
    approximate: list[str] = []
    for field, names in keys.items():
        value = first(*(count(exact.get(k)) for k in names))
        if value is None:
            value = first(*(count(rounded.get(k)) for k in names))
            if value is not None and value >= ROUNDING_FROM:
                approximate.append(field)
        values[field] = value
    return values, approximate


def video_post(item: Any, handle: str | None = None) -> Post | None:
    """One ``itemList``/``ItemModule`` entry -> Post (None without a numeric id)."""
    item = as_dict(item)
    video_id = str(item.get("id") or "").strip()
    if not _VIDEO_ID.match(video_id):
        return None
    author = item.get("author")
    owner = clean_text(author) if isinstance(author, str) else clean_text(as_dict(author).get("uniqueId"))
    owner = (owner or handle or "").lower() or None
    values, approximate = _counts(as_dict(item.get("statsV2")), as_dict(item.get("stats")), _POST_COUNT_KEYS)
    return Post(
        platform=PLATFORM,
        post_id=video_id,
        url=VIDEO_URL.format(handle=owner, video_id=video_id) if owner and HANDLE.match(owner) else None,
        published_at=epoch_utc(item.get("createTime")),
        text=clean_text(item.get("desc")),
        kind="video",
        views=values["views"],
        likes=values["likes"],
        comments=values["comments"],
        shares=values["shares"],
        approximate=tuple(approximate),
    )


def _is_item_list(url: str | None) -> bool:
    return bool(url) and urlsplit(url).path.rstrip("/").endswith("/api/post/item_list")  # type: ignore[arg-type]


def item_list_url(sec_uid: str, videos: int) -> str:
    """``api/post/item_list`` for one account's newest ``videos`` videos (first page)."""
    query = {"aid": "1988", "secUid": sec_uid, "count": str(max(1, min(videos, ITEM_LIST_MAX_COUNT))), "cursor": "0"}
    return f"{ITEM_LIST_URL}?{urlencode(query)}"


def account_parser(handle: str | None) -> Parser:
    """:func:`parse` for one account's answers: item_list videos that do not name their author
    get their URLs from ``handle`` (``wangzi parse`` knows no handle and guesses no URL)."""

    def parse_for_account(payload: bytes, url: str | None = None, status: int | None = 200) -> ParseResult:
        if _is_item_list(url):
            return parse_item_list(payload, url, status, handle=handle)
        return parse(payload, url, status)

    parse_for_account.__name__ = "parse"
    return parse_for_account


def parse_item_list(
    payload: bytes, url: str | None = None, status: int | None = 200, handle: str | None = None
) -> ParseResult:
    """``api/post/item_list`` -> PostPage; an empty body or a list TikTok withheld -> blocked.

    ``handle`` builds the video URLs when the items do not name their author.
    """
    text = payload.decode("utf-8-sig", errors="replace").strip()
    failure = status_failure(status, ITEM_LIST_STATUSES, otherwise=None)
    if failure is not None:
        return failure
    if not text:
        return Failure(FailureKind.BLOCKED, "empty answer to api/post/item_list: TikTok withholds videos from "
                       "unsigned requests (no X-Bogus/X-Gnarly); the videos are unknown, not zero", status)
    document = load_json(text)
    if not isinstance(document, dict):
        lowered = text[:5000].lower()
        if any(mark in lowered for mark in ("_wafchallengeid", "slardarwaf")):
            return Failure(FailureKind.BLOCKED, "TikTok's WAF challenge page instead of item_list JSON", status)
        if any(mark in lowered for mark in ("captcha", "verify to continue")):
            return Failure(FailureKind.CAPTCHA, "a captcha / verification page instead of item_list JSON", status)
        return Failure(FailureKind.UNRECOGNIZED, "item_list answer is not JSON", status)
    code = document.get("statusCode", document.get("status_code"))
    message = clean_text(document.get("statusMsg")) or clean_text(document.get("status_msg")) or ""
    if isinstance(code, int) and code in NOT_FOUND_CODES:
        return Failure(FailureKind.NOT_FOUND, f"TikTok statusCode {code}: user not found {message}".strip(), status)
    if isinstance(code, int) and code in PRIVATE_CODES:
        return Failure(FailureKind.PRIVATE, f"TikTok statusCode {code}: private account {message}".strip(), status)
    if isinstance(code, int) and code != 0:
        return Failure(FailureKind.UNRECOGNIZED, f"item_list statusCode {code} {message}".strip()[:300], status)
    items = document.get("itemList")
    has_more = document.get("hasMore")
    if items is None or (isinstance(items, list) and not items and has_more is True):
        return Failure(FailureKind.BLOCKED, f"item_list answered without videos (hasMore={json.dumps(has_more)}, "
                       "no itemList): TikTok withheld them from an unsigned request", status)
    if not isinstance(items, list):
        return Failure(FailureKind.UNRECOGNIZED, "item_list with an itemList that is not a list", status)
    posts = tuple(p for p in (video_post(item, handle) for item in items) if p)
    if items and not posts:
        return Failure(FailureKind.UNRECOGNIZED, "item_list items without a video id", status)
    owner = next((clean_text(as_dict(i.get("author")).get("id")) for i in items if isinstance(i, dict) and as_dict(i.get("author")).get("id")), None)
    return PostPage(platform=PLATFORM, platform_user_id=owner, posts=_unique(posts))


def profile_user(payload: bytes | None) -> dict[str, Any]:
    """The raw ``userInfo.user`` object of a profile answer (page or api/user/detail), or {}.

    The spider reads ``secUid`` and ``privateAccount`` from it to plan the item_list request.
    """
    if not payload:
        return {}
    text = payload.decode("utf-8-sig", errors="replace")
    if text.lstrip()[:1] in ("{", "["):
        document = load_json(text)
        if isinstance(document, list):
            document = document[0] if document else None
        document = as_dict(document)
        if isinstance(document.get("data"), dict) and "user" not in document:
            document = document["data"]
        info = as_dict(document.get("userInfo")) or document
        return as_dict(info.get("user"))
    data = rehydration_data(text)
    if data is not None:
        detail = as_dict(as_dict(data.get("__DEFAULT_SCOPE__")).get("webapp.user-detail"))
        return as_dict(as_dict(detail.get("userInfo")).get("user"))
    sigi = sigi_state(text)
    users = as_dict(as_dict(as_dict(sigi).get("UserModule")).get("users"))
    return as_dict(next(iter(users.values()), None))


def user_info_profile(
    info: Any, code: Any, url: str | None, status: int | None, message: Any = None
) -> ParseResult:
    """``userInfo`` -> Profile: exact ``statsV2`` over rounded ``stats``."""
    if isinstance(code, int) and code in NOT_FOUND_CODES:
        return Failure(FailureKind.NOT_FOUND, f"TikTok statusCode {code}: user not found {message or ''}".strip(), status)
    if isinstance(code, int) and code in PRIVATE_CODES and not as_dict(info).get("user"):
        return Failure(FailureKind.PRIVATE, f"TikTok statusCode {code}: private account {message or ''}".strip(), status)
    info = as_dict(info)
    user = as_dict(info.get("user"))
    if isinstance(code, int) and code != 0 and not user:
        return Failure(FailureKind.UNRECOGNIZED, f"TikTok statusCode {code} {message or ''}".strip()[:300], status)
    if not user:
        return Failure(FailureKind.UNRECOGNIZED, "userInfo without user", status)
    values, approximate = _counts(as_dict(info.get("statsV2")), as_dict(info.get("stats")), _COUNT_KEYS)
    bio_link = clean_text(as_dict(user.get("bioLink")).get("link"))
    region = clean_text(user.get("region"))
    return Profile(
        platform=PLATFORM,
        platform_user_id=clean_text(user.get("id")),
        other_user_id=clean_text(user.get("secUid")),
        handle=(clean_text(user.get("uniqueId")) or "").lower() or None,
        display_name=clean_text(user.get("nickname")),
        followers=values["followers"],
        following=values["following"],
        posts=values["posts"],
        likes=values["likes"],
        verified=as_bool(user.get("verified")),
        bio=clean_text(user.get("signature")),
        country=country_code(region) if region else None,
        joined_at=epoch_utc(user.get("createTime")),  # 0 in most pages: not shown, stays None
        approximate=tuple(approximate),
        links=(bio_link,) if bio_link else (),
    )
