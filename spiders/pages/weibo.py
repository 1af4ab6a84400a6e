"""Weibo (微博): profile numbers, IP location and recent posts.

What is read, and from where:

* ``m.weibo.cn/api/container/getIndex?type=uid&value=UID`` - ``data.userInfo``
  (``followers_count`` is an integer for most accounts and display text such as "87万"
  or "1533.6万" for large ones; both go through :func:`enrichment.numbers.parse_count`),
  ``follow_count``, ``statuses_count``, ``verified``, ``verified_reason``, ``description``;
* ``getIndex?containerid=230283{UID}_-_INFO`` - the "基本资料" cards, where ``item_name``
  "IP属地" carries the IP location (and "简介"/"所在地" the bio and self-declared place);
* ``getIndex?containerid=107603{UID}`` - the post list (``cards[].mblog``);
* with a login cookie only: ``weibo.com/ajax/profile/info?uid=`` (``data.user``: exact
  ``followers_count``, ``friends_count``, ...; ``location`` is self-declared, not IP) and
  ``weibo.com/ajax/profile/detail?uid=`` (``data.ip_location`` "IP属地：北京").

Failures: ``{"ok": -100, "url": ".../api/geetest..."}`` -> captcha (a ``-100`` pointing
at a login page -> login_required); ``{"ok": 0, "msg": "这里还没有内容"}`` -> not_found;
HTTP 403/418/432 -> blocked (418 is m.weibo.cn's answer to a burst from one IP), 429 ->
rate_limited, 404 -> not_found.

Everything here is pure: bytes in, a record out; :mod:`spiders.weibo` decides what to request.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bs4 import BeautifulSoup

from enrichment.places import country_code, strip_ip_prefix
from records import PLATFORM_TABLE, AccountRef, Failure, FailureKind, ParseResult, Post, PostPage, Profile
from spiders.pages.payload import FieldCounts, as_bool, clean_text, json_object, parse_created_at
from spiders.pages.status import COMMON_STATUSES, StatusTable, status_failure

PARSER_VERSION = "1"
PLATFORM = "weibo"

USER_INDEX_URL = "https://m.weibo.cn/api/container/getIndex?type=uid&value={uid}"
INFO_URL = "https://m.weibo.cn/api/container/getIndex?containerid=230283{uid}_-_INFO"
POSTS_URL = "https://m.weibo.cn/api/container/getIndex?containerid=107603{uid}&page={page}"
AJAX_INFO_URL = "https://weibo.com/ajax/profile/info?uid={uid}"
AJAX_DETAIL_URL = "https://weibo.com/ajax/profile/detail?uid={uid}"
POST_URL = "https://m.weibo.cn/detail/{post_id}"

#: m.weibo.cn answers about ten posts per page of the 107603 container.
POSTS_PER_PAGE = 10

#: A numeric uid (the platform table's pattern).
UID = PLATFORM_TABLE[PLATFORM].user_id
_UID_PATHS = (
    re.compile(r"^/u/(\d{5,12})/?$"),
    re.compile(r"^/profile/(\d{5,12})/?$"),
    re.compile(r"^/(\d{5,12})/?$"),
)

#: HTTP status -> failure. Weibo answers 403, 418 (m.weibo.cn) and 432 (weibo.com) to traffic
#: it distrusts.
STATUSES: StatusTable = {
    **COMMON_STATUSES,
    **{
        blocked: (FailureKind.BLOCKED, "HTTP {status}: Weibo refuses this client (too many requests or risk control)")
        for blocked in (403, 418, 432)
    },
}
_NOT_FOUND_WORDS = ("这里还没有内容", "用户不存在", "该用户不存在", "已注销")


# --------------------------------------------------------------------------- accounts


def normalize_account(text: str) -> AccountRef:
    """A numeric uid or a profile URL (``weibo.com/u/UID``, ``weibo.com/UID``,
    ``m.weibo.cn/u/UID``, ``m.weibo.cn/profile/UID``) -> account reference.

    Custom profile names (``weibo.com/n/NAME``, ``weibo.com/someslug``) need a login to
    resolve, so they get a message asking for the numeric uid.
    """
    value = text.strip()
    if UID.match(value):
        return AccountRef(platform=PLATFORM, platform_user_id=value)
    lowered = value.lower()
    if "weibo.com" in lowered or "weibo.cn" in lowered:
        url = value if "://" in value else f"https://{value}"
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if host.endswith("weibo.com") or host.endswith("weibo.cn"):
            for pattern in _UID_PATHS:
                match = pattern.match(parts.path)
                if match:
                    return AccountRef(platform=PLATFORM, platform_user_id=match.group(1))
            uid = (parse_qs(parts.query).get("uid") or [""])[0]
            if UID.match(uid):
                return AccountRef(platform=PLATFORM, platform_user_id=uid)
    raise ValueError(
        f"{value!r} is not a Weibo uid or profile URL; expected the numeric uid or a URL such as "
        "https://weibo.com/u/1669879400 or https://m.weibo.cn/u/1669879400 (custom names like "
        "weibo.com/n/NAME need a login to resolve: open the profile and copy the numeric uid)"
    )


# --------------------------------------------------------------------------- dispatch


def parse(payload: bytes, url: str | None = None, status: int | None = 200) -> ParseResult:
    """Any Weibo answer -> Profile, PostPage or typed Failure. Never raises for bad input."""
    failure = status_failure(status, STATUSES)
    if failure is not None:
        return failure
    document = _json(payload, status)
    if isinstance(document, Failure):
        return document
    failure = api_failure(document, status)
    if failure is not None:
        return failure
    parts = urlsplit(url) if url else None
    path = parts.path if parts else ""
    query = parse_qs(parts.query) if parts else {}
    containerid = (query.get("containerid") or [""])[0]
    if path.endswith("/ajax/profile/info"):
        return parse_ajax_info(document, url, status)
    if path.endswith("/ajax/profile/detail"):
        return parse_ajax_detail(document, url, status)
    if containerid.startswith("107603"):
        return parse_posts(document, url, status)
    if containerid.startswith("230283") and containerid.endswith("_-_INFO"):
        return parse_info_container(document, url, status)
    if path.endswith("/container/getIndex") and (query.get("type") == ["uid"] or containerid.startswith("100505")):
        return parse_user_index(document, url, status)
    # No URL (or an unknown one): decide from the payload's shape.
    data = document.get("data")
    if isinstance(data, dict):
        if isinstance(data.get("userInfo"), dict):
            return parse_user_index(document, url, status)
        if isinstance(data.get("user"), dict):
            return parse_ajax_info(document, url, status)
        if "ip_location" in data:
            return parse_ajax_detail(document, url, status)
        cards = data.get("cards")
        if isinstance(cards, list):
            if any(isinstance(c, dict) and isinstance(c.get("mblog"), dict) for c in cards):
                return parse_posts(document, url, status)
            if any(isinstance(c, dict) and isinstance(c.get("card_group"), list) for c in cards):
                return parse_info_container(document, url, status)
    return Failure(FailureKind.UNRECOGNIZED, "JSON of no Weibo endpoint this parser knows", status)


def _json(payload: bytes, status: int | None) -> dict[str, Any] | Failure:
    """The answer's JSON object. A payload opening with ``{'`` (never JSON) is named as what it
    is: a sample saved with ``print(dict)``; Weibo never answers so. Convert it, don't guess."""
    if re.match(rb"\s*\{'", payload):
        return Failure(
            FailureKind.UNRECOGNIZED,
            "not JSON: a Python repr dump, not a Weibo answer (convert it with ast.literal_eval + json.dumps)",
            status,
        )
    return json_object(payload, status)


def api_failure(document: dict[str, Any], status: int | None) -> Failure | None:
    """``ok`` other than 1: a captcha demand, an empty container, a login wall."""
    ok = document.get("ok")
    if ok == 1 or ok is True:
        return None
    if ok is None:
        return Failure(FailureKind.UNRECOGNIZED, "JSON without an ok field", status)
    message = str(document.get("msg") or document.get("message") or "")
    target = str(document.get("url") or "")
    detail = f"ok {ok}: {message or target}".strip()[:200]
    if "geetest" in target or "captcha" in target.lower() or "验证" in message:
        return Failure(FailureKind.CAPTCHA, detail, status)
    if "login" in target.lower() or "passport" in target.lower() or "登录" in message:
        return Failure(FailureKind.LOGIN_REQUIRED, detail, status)
    if str(ok) == "-100":
        return Failure(FailureKind.CAPTCHA, detail, status)
    if any(word in message for word in _NOT_FOUND_WORDS):
        return Failure(FailureKind.NOT_FOUND, detail, status)
    if "频繁" in message:
        return Failure(FailureKind.RATE_LIMITED, detail, status)
    return Failure(FailureKind.UNRECOGNIZED, f"Weibo refused: {detail}", status)


# --------------------------------------------------------------------------- shared pieces


def _uid_from_url(url: str | None) -> str | None:
    if not url:
        return None
    query = parse_qs(urlsplit(url).query)
    for key in ("uid", "value"):
        value = (query.get(key) or [""])[0]
        if UID.match(value):
            return value
    containerid = (query.get("containerid") or [""])[0]
    match = re.match(r"^(?:107603|230283|100505)(\d{5,12})", containerid)
    return match.group(1) if match else None


def _id(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    text = clean_text(value)
    return text if text and text.isdigit() else None


# --------------------------------------------------------------------------- m.weibo.cn


def parse_user_index(document: dict[str, Any], url: str | None = None, status: int | None = 200) -> ParseResult:
    """``getIndex?type=uid&value=UID`` -> Profile from ``data.userInfo``."""
    data = document.get("data")
    user = data.get("userInfo") if isinstance(data, dict) else None
    if not isinstance(user, dict):
        return Failure(FailureKind.UNRECOGNIZED, "getIndex without data.userInfo", status)
    counts = FieldCounts.read({
        "followers": user.get("followers_count"),
        "following": user.get("follow_count"),
        "posts": user.get("statuses_count"),
    })
    verified = as_bool(user.get("verified"))
    return Profile(
        platform=PLATFORM,
        platform_user_id=_id(user.get("id")) or _uid_from_url(url),
        display_name=clean_text(user.get("screen_name")),
        followers=counts.get("followers"),
        following=counts.get("following"),
        posts=counts.get("posts"),
        verified=verified,
        verified_reason=clean_text(user.get("verified_reason")) if verified else None,
        bio=clean_text(user.get("description")),
        approximate=counts.approximate,
        lower_bound=counts.lower_bound,
    )


def parse_info_container(document: dict[str, Any], url: str | None = None, status: int | None = 200) -> ParseResult:
    """``getIndex?containerid=230283{UID}_-_INFO`` -> Profile with IP location (when shown)."""
    data = document.get("data")
    cards = data.get("cards") if isinstance(data, dict) else None
    if not isinstance(cards, list):
        return Failure(FailureKind.UNRECOGNIZED, "INFO container without data.cards", status)
    items: dict[str, str] = {}
    for card in cards:
        group = card.get("card_group") if isinstance(card, dict) else None
        for entry in group if isinstance(group, list) else [card]:
            if not isinstance(entry, dict):
                continue
            name, content = clean_text(entry.get("item_name")), clean_text(entry.get("item_content"))
            if name and content and name not in items:
                items[name] = content
    uid = _uid_from_url(url)
    if uid is None and isinstance(data.get("cardlistInfo"), dict):
        uid = _uid_from_url("?containerid=" + str(data["cardlistInfo"].get("containerid") or ""))
    place = strip_ip_prefix(items.get("IP属地"))
    bio = items.get("简介")
    return Profile(
        platform=PLATFORM,
        platform_user_id=uid,
        bio=None if bio in {"暂无简介", None} else bio,
        ip_location=place,
        location=items.get("所在地"),
        country=country_code(place),
    )


def html_text(value: Any) -> str | None:
    """Post HTML -> plain text: emoticon images become their ``alt`` ("[偷笑]"), ``<br>`` a newline."""
    text = clean_text(value)
    if text is None:
        return None
    soup = BeautifulSoup(text, "html.parser")
    for img in soup.find_all("img"):
        img.replace_with(img.get("alt") or "")
    for br in soup.find_all("br"):
        br.replace_with("\n")
    return clean_text(soup.get_text())


def post_from_mblog(mblog: dict[str, Any]) -> Post | None:
    post_id = _id(mblog.get("idstr")) or _id(mblog.get("id")) or _id(mblog.get("mid"))
    if post_id is None:
        return None
    counts = FieldCounts.read({
        "likes": mblog.get("attitudes_count"),
        "comments": mblog.get("comments_count"),
        "shares": mblog.get("reposts_count"),
    })
    return Post(
        platform=PLATFORM,
        post_id=post_id,
        url=POST_URL.format(post_id=post_id),
        published_at=parse_created_at(mblog.get("created_at")),
        text=html_text(mblog.get("text")),
        likes=counts.get("likes"),
        comments=counts.get("comments"),
        shares=counts.get("shares"),
        approximate=counts.approximate,
    )


def parse_posts(document: dict[str, Any], url: str | None = None, status: int | None = 200) -> ParseResult:
    """``getIndex?containerid=107603{UID}`` -> PostPage of the ``card_type`` 9 (mblog) cards."""
    data = document.get("data")
    cards = data.get("cards") if isinstance(data, dict) else None
    if not isinstance(cards, list):
        return Failure(FailureKind.UNRECOGNIZED, "post list without data.cards", status)
    posts: list[Post] = []
    uid = _uid_from_url(url)
    for card in cards:
        mblog = card.get("mblog") if isinstance(card, dict) else None
        if not isinstance(mblog, dict):
            continue
        post = post_from_mblog(mblog)
        if post is not None and all(p.post_id != post.post_id for p in posts):
            posts.append(post)
        if uid is None and isinstance(mblog.get("user"), dict):
            uid = _id(mblog["user"].get("id"))
    return PostPage(platform=PLATFORM, platform_user_id=uid, posts=tuple(posts))


# --------------------------------------------------------------------------- weibo.com ajax


def parse_ajax_info(document: dict[str, Any], url: str | None = None, status: int | None = 200) -> ParseResult:
    """``weibo.com/ajax/profile/info?uid=`` -> Profile from ``data.user`` (exact counts)."""
    data = document.get("data")
    user = data.get("user") if isinstance(data, dict) else None
    if not isinstance(user, dict):
        return Failure(FailureKind.UNRECOGNIZED, "profile/info without data.user", status)
    counts = FieldCounts.read({
        "followers": user.get("followers_count"),
        "following": user.get("friends_count"),
        "posts": user.get("statuses_count"),
    })
    verified = as_bool(user.get("verified"))
    return Profile(
        platform=PLATFORM,
        platform_user_id=_id(user.get("idstr")) or _id(user.get("id")) or _uid_from_url(url),
        display_name=clean_text(user.get("screen_name")),
        followers=counts.get("followers"),
        following=counts.get("following"),
        posts=counts.get("posts"),
        verified=verified,
        verified_reason=clean_text(user.get("verified_reason")) if verified else None,
        bio=clean_text(user.get("description")),
        location=clean_text(user.get("location")),
        approximate=counts.approximate,
        lower_bound=counts.lower_bound,
    )


def parse_ajax_detail(document: dict[str, Any], url: str | None = None, status: int | None = 200) -> ParseResult:
    """``weibo.com/ajax/profile/detail?uid=`` -> Profile with ``ip_location`` ("IP属地：北京")."""
    data = document.get("data")
    if not isinstance(data, dict):
        return Failure(FailureKind.UNRECOGNIZED, "profile/detail without data", status)
    place = strip_ip_prefix(clean_text(data.get("ip_location")))
    return Profile(
        platform=PLATFORM,
        platform_user_id=_uid_from_url(url),
        bio=clean_text(data.get("description")),
        ip_location=place,
        country=country_code(place),
    )
