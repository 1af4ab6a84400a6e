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
  ``enterprise_verify_reason``, ``sec_uid``), which needs ``a_bogus``/``msToken`` computed by
  the page's JavaScript, so the spider never calls it; the parser serves saved responses
  (``wangzi parse``) and ``aweme/v1/web/aweme/post/`` (``aweme_list[]``) likewise.

``status_code`` other than 0 is a typed failure. Everything above :class:`DouyinSpider` is pure.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from records import AccountRef, Failure, FailureKind, ParseResult, Post, PostPage, Profile
from enrichment.numbers import parse_count
from enrichment.places import country_code, strip_ip_prefix
from spiders.pages.payload import clean_text, epoch_utc

PARSER_VERSION = "1"
PLATFORM = "douyin"

PROFILE_URL = "https://www.douyin.com/user/{sec_uid}"
VIDEO_URL = "https://www.douyin.com/video/{aweme_id}"

#: sec_uid: "MS4wLjABAAAA" (base64 of a fixed header) followed by URL-safe base64.
SEC_UID = re.compile(r"^MS4wLjABAAAA[A-Za-z0-9_-]{20,}$")
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
    failure = _failure_from_status(status)
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
        return Failure(FailureKind.UNRECOGNIZED, "empty body (Douyin answers so to unsigned requests)", status)
    return Failure(FailureKind.UNRECOGNIZED, "neither a Douyin page nor API JSON", status)


def _failure_from_status(status: int | None) -> Failure | None:
    if status is None or status < 400:
        return None
    if status in (403, 444):
        return Failure(FailureKind.BLOCKED, f"HTTP {status}", status)
    if status == 429:
        return Failure(FailureKind.RATE_LIMITED, "HTTP 429", status)
    if status == 404:
        return Failure(FailureKind.NOT_FOUND, "HTTP 404", status)
    return Failure(FailureKind.HTTP_ERROR, f"HTTP {status}", status)


def _json(payload: bytes, status: int | None) -> dict[str, Any] | Failure:
    if not payload.strip():
        # What the API answers when a_bogus/msToken are missing or refused: 200 and no body.
        return Failure(FailureKind.UNRECOGNIZED, "empty body (Douyin answers so to unsigned requests)", status)
    try:
        document = json.loads(payload.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        return Failure(FailureKind.UNRECOGNIZED, "not JSON", status)
    if not isinstance(document, dict):
        return Failure(FailureKind.UNRECOGNIZED, f"JSON {type(document).__name__}, expected an object", status)
    return document


def _status_failure(code: Any, message: Any, status: int | None) -> Failure | None:
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
    values: dict[str, int] = {}
    approximate: set[str] = set()
    lower: set[str] = set()
    for field in ("followers", "following", "posts", "likes"):
        count = parse_count(user.get(keys[field]))
        if count is None:
            continue
        values[field] = count.value
        if count.approximate:
            approximate.add(field)
        if count.lower_bound:
            lower.add(field)
    reason = clean_text(user.get(keys["custom_verify"])) or clean_text(user.get(keys["enterprise_verify_reason"]))
    place = strip_ip_prefix(clean_text(user.get(keys["ip_location"])))
    uid = clean_text(user.get(keys["sec_uid"])) or _sec_uid_from_url(url)
    return Profile(
        platform=PLATFORM,
        platform_user_id=uid,
        handle=clean_text(user.get(keys["unique_id"])) or _short_id(user.get(keys["short_id"])),
        display_name=clean_text(user.get(keys["nickname"])),
        followers=values.get("followers"),
        following=values.get("following"),
        posts=values.get("posts"),
        likes=values.get("likes"),
        # Douyin shows no "unverified" flag: a verification text is a yes, its absence unknown.
        verified=True if reason else None,
        verified_reason=reason,
        bio=clean_text(user.get(keys["signature"])),
        ip_location=place,
        country=country_code(place),
        approximate=tuple(sorted(approximate)),
        lower_bound=tuple(sorted(lower)),
        recent_posts=posts,
    )


def _short_id(value: Any) -> str | None:
    """The numeric 抖音号 of older accounts; "0" means none."""
    text = clean_text(str(value)) if isinstance(value, (int, str)) and not isinstance(value, bool) else None
    return None if text in (None, "0") else text


_API_KEYS = {
    "followers": "follower_count", "following": "following_count", "posts": "aweme_count",
    "likes": "total_favorited", "custom_verify": "custom_verify",
    "enterprise_verify_reason": "enterprise_verify_reason", "ip_location": "ip_location",
    "sec_uid": "sec_uid", "unique_id": "unique_id", "short_id": "short_id", "nickname": "nickname",
    "signature": "signature",
}
_PAGE_KEYS = {
    "followers": "followerCount", "following": "followingCount", "posts": "awemeCount",
    "likes": "totalFavorited", "custom_verify": "customVerify",
    "enterprise_verify_reason": "enterpriseVerifyReason", "ip_location": "ipLocation",
    "sec_uid": "secUid", "unique_id": "uniqueId", "short_id": "shortId", "nickname": "nickname",
    "signature": "desc",
}


def _post(aweme_id: Any, desc: Any, created: Any, stats: Any, keys: tuple[str, str, str, str]) -> Post | None:
    post_id = str(aweme_id) if isinstance(aweme_id, (int, str)) and not isinstance(aweme_id, bool) else None
    if not post_id or not post_id.isdigit():
        return None
    stats = stats if isinstance(stats, dict) else {}
    counts = {name: parse_count(stats.get(key)) for name, key in zip(("likes", "comments", "shares", "views"), keys)}
    return Post(
        platform=PLATFORM,
        post_id=post_id,
        url=VIDEO_URL.format(aweme_id=post_id),
        published_at=epoch_utc(created),
        text=clean_text(desc),
        kind="video",
        likes=None if counts["likes"] is None else counts["likes"].value,
        comments=None if counts["comments"] is None else counts["comments"].value,
        shares=None if counts["shares"] is None else counts["shares"].value,
        # play_count is 0 for every video on the web API (it is not served); 0 is not read.
        views=counts["views"].value if counts["views"] is not None and counts["views"].value > 0 else None,
        approximate=tuple(sorted(n for n, c in counts.items() if c is not None and c.approximate)),
    )


# --------------------------------------------------------------------------- web API


def parse_profile_other(payload: bytes, url: str | None = None, status: int | None = 200) -> ParseResult:
    """``aweme/v1/web/user/profile/other/?sec_user_id=`` -> Profile from ``user``."""
    document = _json(payload, status)
    if isinstance(document, Failure):
        return document
    failure = _status_failure(document.get("status_code"), document.get("status_msg"), status)
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
    failure = _status_failure(document.get("status_code"), document.get("status_msg"), status)
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
    failure = _status_failure(user_block.get("statusCode"), user_block.get("statusMsg"), status)
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
