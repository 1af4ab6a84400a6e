"""Douyin (抖音): profile numbers, IP location and recent videos.

What is read, and from where:

* the profile page ``www.douyin.com/user/SEC_UID``, rendered by Chromium through
  scrapy-playwright. The page embeds its server-rendered store as
  ``<script id="RENDER_DATA" type="application/json">%7B...%7D</script>``: URL-encoded JSON.
  **Assumption (no real page is shared):** somewhere in that store a ``user`` object holds
  the profile in camelCase (``secUid``, ``uid``, ``nickname``, ``desc``, ``followerCount``,
  ``followingCount``, ``awemeCount``, ``totalFavorited``, ``ipLocation``, ``uniqueId``,
  ``customVerify``, ``enterpriseVerifyReason``) and a sibling ``post.data[]`` the first
  videos (``awemeId``, ``desc``, ``createTime``, ``stats.diggCount/commentCount/shareCount/
  playCount``). The parser *searches* the store for such an object instead of trusting a
  fixed numeric key, and answers ``unrecognized`` when there is none.
* the web API ``www.douyin.com/aweme/v1/web/user/profile/other/?sec_user_id=`` (``user.
  follower_count``, ``following_count``, ``aweme_count``, ``total_favorited``, ``ip_location``
  "IP属地：广东", ``signature``, ``nickname``, ``unique_id``, ``custom_verify``,
  ``enterprise_verify_reason``, ``sec_uid``, ``uid``), which needs ``a_bogus``/``msToken``
  computed by the page's JavaScript, so the spider never calls it; the parser serves saved
  responses (``wangzi parse``) and ``aweme/v1/web/aweme/post/`` (``aweme_list[]``) likewise.

Both ids are kept: ``sec_uid`` (``secUid``) is ``platform_user_id``, what profile URLs and API
calls name; the numeric ``uid`` is ``other_user_id``. Verification is read explicitly
(:func:`_verification`): a ``custom_verify`` or ``enterprise_verify_reason`` text -> verified
with that reason; both sent empty -> not verified (False); neither sent -> None.

Failures: HTTP 403/444 -> blocked, 429 -> rate_limited, 404 -> not_found; an empty body (what
the API answers to unsigned requests) -> unrecognized; ``status_code`` (``statusCode`` in the
page) other than 0 -> a typed failure from words of ``status_msg``; the verification page
("验证码中间页") -> captcha. Everything here is pure: bytes in, a record out;
:mod:`spiders.douyin` decides what to request.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from enrichment.places import country_code, strip_ip_prefix
from records import PLATFORM_TABLE, AccountRef, Failure, FailureKind, ParseResult, Post, PostPage, Profile
from spiders.pages.payload import FieldCounts, clean_text, epoch_utc, json_object
from spiders.pages.status import COMMON_STATUSES, StatusTable, status_failure

PARSER_VERSION = "2"
PLATFORM = "douyin"

PROFILE_URL = "https://www.douyin.com/user/{sec_uid}"
VIDEO_URL = "https://www.douyin.com/video/{aweme_id}"

#: sec_uid: "MS4wLjABAAAA" (base64 of a fixed header) followed by URL-safe base64 (the platform
#: table's pattern).
SEC_UID = PLATFORM_TABLE[PLATFORM].user_id
_USER_PATH = re.compile(r"/user/(MS4wLjABAAAA[A-Za-z0-9_-]{20,})")
_RENDER_DATA = re.compile(r'<script[^>]*\bid="RENDER_DATA"[^>]*>(.*?)</script>', re.S)

#: Words of Douyin's own error messages (``status_msg``) and what they mean for us.
_MESSAGE_KINDS: tuple[tuple[tuple[str, ...], FailureKind], ...] = (
    (("用户不存在", "账号已注销", "该账号已注销", "不存在"), FailureKind.NOT_FOUND),
    (("私密", "隐私"), FailureKind.PRIVATE),
    (("登录",), FailureKind.LOGIN_REQUIRED),
    (("验证", "captcha"), FailureKind.CAPTCHA),
    (("频繁", "稍后再试"), FailureKind.RATE_LIMITED),
    (("封禁", "违规"), FailureKind.NOT_FOUND),
)
#: Text of the verification page Douyin shows instead of a profile ("验证码中间页").
_CAPTCHA_WORDS = ("验证码中间页", "captcha_container", "verifycenter", "请完成下列验证")

#: HTTP status -> failure: 403 and 444 refuse this client.
STATUSES: StatusTable = {
    **COMMON_STATUSES,
    403: (FailureKind.BLOCKED, "HTTP 403"),
    444: (FailureKind.BLOCKED, "HTTP 444"),
}
#: What the API answers when a_bogus/msToken are missing or refused: 200 and no body.
_EMPTY_BODY = "empty body (Douyin answers so to unsigned requests)"


# --------------------------------------------------------------------------- accounts


def normalize_account(text: str) -> AccountRef:
    """A sec_uid (``MS4wLjABAAAA...``) or a ``douyin.com/user/SEC_UID`` URL -> account reference.

    ``v.douyin.com`` share links redirect through Douyin's servers and 抖音号 (unique_id) can
    only be resolved through the signed search API, so both get a message asking for the URL.
    """
    value = text.strip()
    if SEC_UID.match(value):
        return AccountRef(platform=PLATFORM, platform_user_id=value)
    lowered = value.lower()
    if "v.douyin.com" in lowered or "iesdouyin.com/share" in lowered and "/user/" not in lowered:
        raise ValueError(
            f"{value!r} is a v.douyin.com share link; open it in a browser and paste the full profile URL "
            "instead (https://www.douyin.com/user/MS4wLjABAAAA...)"
        )
    if "douyin.com" in lowered:
        url = value if "://" in value else f"https://{value}"
        match = _USER_PATH.search(urlsplit(url).path)
        if match:
            return AccountRef(platform=PLATFORM, platform_user_id=match.group(1))
        sec = (parse_qs(urlsplit(url).query).get("sec_uid") or parse_qs(urlsplit(url).query).get("sec_user_id") or [""])[0]
        if SEC_UID.match(sec):
            return AccountRef(platform=PLATFORM, platform_user_id=sec)
    raise ValueError(
        f"{value!r} is not a Douyin sec_uid or profile URL; a 抖音号 or nickname cannot be looked up without "
        "signed requests, so paste the profile URL (https://www.douyin.com/user/MS4wLjABAAAA...)"
    )


# --------------------------------------------------------------------------- dispatch


def parse(payload: bytes, url: str | None = None, status: int | None = 200) -> ParseResult:
    """Any Douyin answer -> Profile, PostPage or typed Failure. Never raises for bad input."""
    failure = status_failure(status, STATUSES)
    if failure is not None:
        return failure
    path = urlsplit(url).path if url else ""
    if "/aweme/v1/web/aweme/post" in path:
        return parse_aweme_post(payload, url, status)
    if "/aweme/v1/web/user/profile/other" in path:
        return parse_profile_other(payload, url, status)
    if "/user/" in path:
        return parse_profile_page(payload, url, status)
    # No URL (or an unknown one): decide from the payload's shape.
    head = payload.lstrip()[:1]
    if head == b"{":
        document = _json(payload, status)
        if isinstance(document, Failure):
            return document
        if "aweme_list" in document and "user" not in document:
            return parse_aweme_post(payload, url, status)
        return parse_profile_other(payload, url, status)
    if head == b"<":
        return parse_profile_page(payload, url, status)
    if not payload.strip():
        return Failure(FailureKind.UNRECOGNIZED, _EMPTY_BODY, status)
    return Failure(FailureKind.UNRECOGNIZED, "neither a Douyin page nor API JSON", status)


def _json(payload: bytes, status: int | None) -> dict[str, Any] | Failure:
    """The API's JSON object; an empty body is named as the signature refusal it is."""
    if not payload.strip():
        return Failure(FailureKind.UNRECOGNIZED, _EMPTY_BODY, status)
    return json_object(payload, status)


def _code_failure(code: Any, message: Any, status: int | None) -> Failure | None:
    """``status_code`` (API) / ``statusCode`` (render data) other than 0 -> typed failure."""
    if code in (0, None, "0"):
        return None
    text = str(message or "")
    detail = f"status_code {code}: {text}".strip()[:200]
    for words, kind in _MESSAGE_KINDS:
        if any(word in text for word in words):
            return Failure(kind, detail, status)
    return Failure(FailureKind.UNRECOGNIZED, f"Douyin refused: {detail}", status)


# --------------------------------------------------------------------------- shared pieces


def _sec_uid_from_url(url: str | None) -> str | None:
    if not url:
        return None
    match = _USER_PATH.search(urlsplit(url).path)
    if match:
        return match.group(1)
    value = (parse_qs(urlsplit(url).query).get("sec_user_id") or [""])[0]
    return value if SEC_UID.match(value) else None


def _profile(user: dict[str, Any], keys: dict[str, str], url: str | None, posts: tuple[Post, ...] = ()) -> Profile:
    """One user object -> Profile; ``keys`` maps our field names to the object's key names."""
    counts = FieldCounts.read({field: user.get(keys[field]) for field in ("followers", "following", "posts", "likes")})
    verified, reason = _verification(user.get(keys["custom_verify"]), user.get(keys["enterprise_verify_reason"]))
    place = strip_ip_prefix(clean_text(user.get(keys["ip_location"])))
    sec_uid = clean_text(user.get(keys["sec_uid"])) or _sec_uid_from_url(url)
    return Profile(
        platform=PLATFORM,
        platform_user_id=sec_uid,
        other_user_id=_numeric_uid(user.get(keys["uid"])),
        handle=clean_text(user.get(keys["unique_id"])) or _short_id(user.get(keys["short_id"])),
        display_name=clean_text(user.get(keys["nickname"])),
        followers=counts.get("followers"),
        following=counts.get("following"),
        posts=counts.get("posts"),
        likes=counts.get("likes"),
        verified=verified,
        verified_reason=reason,
        bio=clean_text(user.get(keys["signature"])),
        ip_location=place,
        country=country_code(place),
        approximate=counts.approximate,
        lower_bound=counts.lower_bound,
        recent_posts=posts,
    )


def _verification(custom: Any, enterprise: Any) -> tuple[bool | None, str | None]:
    """(verified, reason) from ``custom_verify`` (a person's yellow V: "时尚博主") and
    ``enterprise_verify_reason`` (an organisation's blue V). Either text -> verified, with that
    text as the reason. Both fields sent and empty -> False: the answer says the account has no
    verification (Douyin shows no badge then). Neither field in the answer -> None: it says
    nothing. ``verification_type`` is not read: 0 is sent for verified media accounts too."""
    reason = clean_text(custom) or clean_text(enterprise)
    if reason:
        return True, reason
    if isinstance(custom, str) or isinstance(enterprise, str):
        return False, None
    return None, None


def _numeric_uid(value: Any) -> str | None:
    """The numeric ``uid`` ("66598046050"), kept beside the sec_uid; anything else is not read."""
    text = str(value).strip() if isinstance(value, (int, str)) and not isinstance(value, bool) else ""
    return text if text.isdigit() and text != "0" else None


def _short_id(value: Any) -> str | None:
    """The numeric 抖音号 of older accounts; "0" means none."""
    text = clean_text(str(value)) if isinstance(value, (int, str)) and not isinstance(value, bool) else None
    return None if text in (None, "0") else text


_API_KEYS = {
    "followers": "follower_count", "following": "following_count", "posts": "aweme_count",
    "likes": "total_favorited", "custom_verify": "custom_verify",
    "enterprise_verify_reason": "enterprise_verify_reason", "ip_location": "ip_location",
    "sec_uid": "sec_uid", "uid": "uid", "unique_id": "unique_id", "short_id": "short_id", "nickname": "nickname",
    "signature": "signature",
}
_PAGE_KEYS = {
    "followers": "followerCount", "following": "followingCount", "posts": "awemeCount",
    "likes": "totalFavorited", "custom_verify": "customVerify",
    "enterprise_verify_reason": "enterpriseVerifyReason", "ip_location": "ipLocation",
    "sec_uid": "secUid", "uid": "uid", "unique_id": "uniqueId", "short_id": "shortId", "nickname": "nickname",
    "signature": "desc",
}


def _post(aweme_id: Any, desc: Any, created: Any, stats: Any, keys: tuple[str, str, str, str]) -> Post | None:
    post_id = str(aweme_id) if isinstance(aweme_id, (int, str)) and not isinstance(aweme_id, bool) else None
    if not post_id or not post_id.isdigit():
        return None
    stats = stats if isinstance(stats, dict) else {}
    counts = FieldCounts.read({name: stats.get(key) for name, key in zip(("likes", "comments", "shares", "views"), keys)})
    return Post(
        platform=PLATFORM,
        post_id=post_id,
        url=VIDEO_URL.format(aweme_id=post_id),
        published_at=epoch_utc(created),
        text=clean_text(desc),
        kind="video",
        likes=counts.get("likes"),
        comments=counts.get("comments"),
        shares=counts.get("shares"),
        # play_count is 0 for every video on the web API (it is not served); 0 is not read.
        views=counts.get("views") or None,
        approximate=counts.approximate,
    )


# --------------------------------------------------------------------------- web API


def parse_profile_other(payload: bytes, url: str | None = None, status: int | None = 200) -> ParseResult:
    """``aweme/v1/web/user/profile/other/?sec_user_id=`` -> Profile from ``user``."""
    document = _json(payload, status)
    if isinstance(document, Failure):
        return document
    failure = _code_failure(document.get("status_code"), document.get("status_msg"), status)
    if failure is not None:
        return failure
    user = document.get("user")
    if not isinstance(user, dict) or not user:
        return Failure(FailureKind.UNRECOGNIZED, "profile/other without user", status)
    return _profile(user, _API_KEYS, url)


def parse_aweme_post(payload: bytes, url: str | None = None, status: int | None = 200) -> ParseResult:
    """``aweme/v1/web/aweme/post/?sec_user_id=`` -> PostPage from ``aweme_list[]``."""
    document = _json(payload, status)
    if isinstance(document, Failure):
        return document
    failure = _code_failure(document.get("status_code"), document.get("status_msg"), status)
    if failure is not None:
        return failure
    items = document.get("aweme_list")
    if not isinstance(items, list):
        return Failure(FailureKind.UNRECOGNIZED, "aweme/post without aweme_list", status)
    posts = [
        _post(item.get("aweme_id"), item.get("desc"), item.get("create_time"), item.get("statistics"),
              ("digg_count", "comment_count", "share_count", "play_count"))
        for item in items if isinstance(item, dict)
    ]
    return PostPage(platform=PLATFORM, platform_user_id=_sec_uid_from_url(url), posts=tuple(p for p in posts if p))


# --------------------------------------------------------------------------- profile page


def render_data(html: str) -> dict[str, Any] | None:
    """The page's ``<script id="RENDER_DATA">`` store (URL-encoded JSON), or None."""
    match = _RENDER_DATA.search(html)
    if not match:
        return None
    try:
        data = json.loads(unquote(match.group(1).strip()))
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _find_user_holder(node: Any, depth: int = 0) -> dict[str, Any] | None:
    """The object whose ``user`` (or ``user.user``) has ``secUid`` and a count: the profile."""
    if depth > 6 or not isinstance(node, dict):
        return None
    user = node.get("user")
    if isinstance(user, dict):
        inner = user.get("user") if isinstance(user.get("user"), dict) else user
        if "secUid" in inner and any(k in inner for k in ("followerCount", "awemeCount", "nickname")):
            return node
    for value in node.values():
        found = _find_user_holder(value, depth + 1)
        if found is not None:
            return found
    return None


def parse_profile_page(payload: bytes, url: str | None = None, status: int | None = 200) -> ParseResult:
    """``www.douyin.com/user/SEC_UID`` HTML -> Profile with its first videos."""
    html = payload.decode("utf-8", errors="replace")
    if not html.strip():
        return Failure(FailureKind.UNRECOGNIZED, "empty page", status)
    data = render_data(html)
    if data is None:
        if any(word in html for word in _CAPTCHA_WORDS):
            return Failure(FailureKind.CAPTCHA, "Douyin showed its verification page", status)
        return Failure(FailureKind.UNRECOGNIZED, "page without readable RENDER_DATA", status)
    holder = _find_user_holder(data)
    if holder is None:
        return Failure(FailureKind.UNRECOGNIZED, "RENDER_DATA without a user object (secUid)", status)
    user_block = holder["user"]
    user = user_block.get("user") if isinstance(user_block.get("user"), dict) else user_block
    failure = _code_failure(user_block.get("statusCode"), user_block.get("statusMsg"), status)
    if failure is not None:
        return failure
    posts: list[Post] = []
    post_block = holder.get("post")
    items = post_block.get("data") if isinstance(post_block, dict) else None
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            post = _post(item.get("awemeId"), item.get("desc"), item.get("createTime"), item.get("stats"),
                         ("diggCount", "commentCount", "shareCount", "playCount"))
            if post is not None and all(p.post_id != post.post_id for p in posts):
                posts.append(post)
    return _profile(user, _PAGE_KEYS, url, tuple(posts))
