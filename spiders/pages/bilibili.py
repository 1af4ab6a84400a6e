"""Bilibili: follower counts and profile facts from the public web API (api.bilibili.com).

What is read, and from where (field paths from SocialSisterYi/bilibili-API-collect):

* ``x/web-interface/card?mid=`` (user card): ``data.card.{mid, name, sign, attention,
  fans, Official.{type, title, desc}}``, ``data.{follower, archive_count, like_num}``.
  ``data.follower`` is preferred over ``data.card.fans`` (the same number when both exist).
* ``x/relation/stat?vmid=``: ``data.{mid, follower, following}``.
* ``x/space/wbi/acc/info?mid=&w_rid=&wts=`` (space details, **WBI-signed**): ``data.{mid,
  name, sign, official}``; followers only when a ``follower`` field is present (today it
  is not, so acc/info alone never gives a follower count).
* ``x/space/navnum?mid=``: ``data.video`` (number of videos) -> ``posts``.
* ``x/space/upstat?mid=`` (needs a login cookie live): ``data.archive.view`` -> ``views``,
  ``data.likes`` -> ``likes``.
* ``x/polymer/pc-electron/v1/user/cards?uids=``: names and verification of one user
  (several users in one answer are refused: one parse reads one account).
* ``x/web-interface/nav``: only the WBI keys (``data.wbi_img.{img_url, sub_url}``), which
  it returns even to anonymous visitors (``code -101``); see :func:`wbi_keys_from_nav`.

Bilibili shows no IP location on these endpoints, so ``ip_location`` and ``country``
stay ``None``. Verification: ``Official.type`` -1 is "none", 0 personal and 1
institutional verification, whose ``title`` (or ``desc``) is the reason shown.

Error codes (``code`` in the JSON envelope, see ``docs/bilibili.md``):
-412 / -352 -> ``blocked`` (risk control), -509 / -799 -> ``rate_limited``, -404 / -626
-> ``not_found``, -101 -> ``login_required``. A ``code 0`` answer whose data is only a
``v_voucher`` is risk control too (``blocked``). HTTP 412 -> ``blocked``, 429 ->
``rate_limited``. Any other nonzero code -> ``unrecognized`` naming the code and message.

Everything here is pure: bytes in, a record out; :mod:`spiders.bilibili` decides what to request.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from records import PLATFORM_TABLE, AccountRef, Failure, FailureKind, ParseResult, Profile
from spiders.pages.payload import clean_text, count, load_json
from spiders.pages.status import StatusTable, status_failure

PARSER_VERSION = "1"
PLATFORM = "bilibili"

API = "https://api.bilibili.com"
CARD_URL = API + "/x/web-interface/card?mid={mid}"
RELATION_STAT_URL = API + "/x/relation/stat?vmid={mid}"
ACC_INFO_URL = API + "/x/space/wbi/acc/info"
NAV_URL = API + "/x/web-interface/nav"

#: ``code`` -> failure kind. Meanings from bilibili-API-collect docs/misc/errcode.md.
ERROR_CODES: dict[int, FailureKind] = {
    -412: FailureKind.BLOCKED,  # 请求被拦截 (客户端 ip 被服务端风控)
    -352: FailureKind.BLOCKED,  # 风控校验失败 (UA 或 wbi 参数不合法)
    -403: FailureKind.BLOCKED,  # 访问权限不足 (also what unsigned WBI calls got in 2023)
    -509: FailureKind.RATE_LIMITED,  # 超出限制
    -799: FailureKind.RATE_LIMITED,  # 请求过于频繁，请稍后再试
    -503: FailureKind.RATE_LIMITED,  # 过载保护,服务暂不可用
    -404: FailureKind.NOT_FOUND,  # 啥都木有
    -626: FailureKind.NOT_FOUND,  # 用户不存在
    -101: FailureKind.LOGIN_REQUIRED,  # 账号未登录
    -500: FailureKind.HTTP_ERROR,  # 服务器错误
    -504: FailureKind.HTTP_ERROR,  # 服务调用超时
    -8888: FailureKind.HTTP_ERROR,  # 对不起，服务器开小差了~
}

#: HTTP status -> failure. Bilibili names a missing user by its code (-404/-626) inside the JSON;
#: an HTTP 404 is not read as one and stays ``http_error``.
STATUSES: StatusTable = {
    412: (FailureKind.BLOCKED, "HTTP 412: request blocked by risk control"),
    429: (FailureKind.RATE_LIMITED, "HTTP 429 Too Many Requests"),
}

#: The permutation WBI applies to ``img_key + sub_key`` (docs/misc/sign/wbi.md, MIXIN_KEY_ENC_TAB).
MIXIN_KEY_ENC_TAB: tuple[int, ...] = (
    46, 47, 18, 2, 53, 8, 23, 32, 15, 50, 10, 31, 58, 3, 45, 35, 27, 43, 5, 49,
    33, 9, 42, 19, 29, 28, 14, 39, 12, 38, 41, 13, 37, 48, 7, 16, 24, 55, 40,
    61, 26, 17, 0, 1, 60, 51, 30, 4, 22, 25, 54, 21, 56, 59, 6, 63, 57, 62, 11,
    36, 20, 34, 44, 52,
)
#: Characters the web app strips from parameter values before signing.
WBI_FILTERED_CHARS = "!'()*"

#: A mid (the platform table's pattern).
_MID = PLATFORM_TABLE[PLATFORM].user_id
_UID_PREFIX = re.compile(r"^(?:uid|mid)\s*[:：=]?\s*", re.IGNORECASE)
_KEY_FROM_URL = re.compile(r"/([0-9A-Za-z]+)\.\w+$")


# --------------------------------------------------------------------------- WBI signing


def mixin_key(img_key: str, sub_key: str) -> str:
    """The signing salt: ``img_key + sub_key`` permuted by :data:`MIXIN_KEY_ENC_TAB`, first 32 chars."""
    raw = img_key + sub_key
    if len(raw) < 64:
        raise ValueError(f"WBI keys must be 32 characters each; got {len(img_key)} and {len(sub_key)}")
    return "".join(raw[i] for i in MIXIN_KEY_ENC_TAB)[:32]


def sign_params(
    params: Mapping[str, Any], img_key: str, sub_key: str, wts: int | None = None
) -> dict[str, str]:
    """``params`` plus ``wts`` and ``w_rid``, as the web app signs a WBI request.

    Values are stringified and stripped of ``!'()*``, keys sorted, the query encoded with
    upper-case percent escapes and ``%20`` for spaces, the mixin key appended and the
    whole hashed with MD5. ``wts`` defaults to now (Unix seconds).
    """
    stamp = int(time.time()) if wts is None else int(wts)
    values = {str(k): "".join(c for c in str(v) if c not in WBI_FILTERED_CHARS) for k, v in params.items()}
    values["wts"] = str(stamp)
    ordered = dict(sorted(values.items()))
    query = urlencode(ordered, quote_via=quote)
    ordered["w_rid"] = hashlib.md5((query + mixin_key(img_key, sub_key)).encode("utf-8")).hexdigest()
    return ordered


def signed_url(base: str, params: Mapping[str, Any], img_key: str, sub_key: str, wts: int | None = None) -> str:
    return f"{base}?{urlencode(sign_params(params, img_key, sub_key, wts), quote_via=quote)}"


def wbi_keys_from_nav(payload: bytes) -> tuple[str, str] | None:
    """``(img_key, sub_key)`` from a ``x/web-interface/nav`` answer, or ``None``.

    The keys are the file names of ``data.wbi_img.img_url``/``sub_url`` (they only look like
    image URLs). Anonymous visitors get them too, inside a ``code -101`` answer, so the
    code is deliberately not checked here.
    """
    document = load_json(payload)
    data = document.get("data") if isinstance(document, dict) else None
    wbi = data.get("wbi_img") if isinstance(data, dict) else None
    if not isinstance(wbi, dict):
        return None
    keys = []
    for field in ("img_url", "sub_url"):
        match = _KEY_FROM_URL.search(str(wbi.get(field) or ""))
        if not match or len(match.group(1)) != 32:
            return None
        keys.append(match.group(1))
    return keys[0], keys[1]


# --------------------------------------------------------------------------- accounts


def normalize_account(text: str) -> AccountRef:
    """A mid (``2``, ``UID:2``) or space URL (``space.bilibili.com/2``,
    ``https://space.bilibili.com/2?spm_id_from=...``, ``bilibili.com/space/2``,
    ``m.bilibili.com/space/2``) -> account reference with the mid as user id."""
    value = text.strip()
    bare = _UID_PREFIX.sub("", value)
    if _MID.match(bare) and int(bare) > 0:
        return AccountRef(platform=PLATFORM, platform_user_id=str(int(bare)))
    if "bilibili.com" in value.lower():
        url = value if "://" in value else f"https://{value}"
        parts = urlsplit(url)
        host = parts.netloc.lower().split(":")[0]
        segments = [s for s in parts.path.split("/") if s]
        mid = None
        if host == "space.bilibili.com" and segments:
            mid = segments[0]
        elif host.endswith("bilibili.com") and len(segments) >= 2 and segments[0] == "space":
            mid = segments[1]
        if mid and _MID.match(mid) and int(mid) > 0:
            return AccountRef(platform=PLATFORM, platform_user_id=str(int(mid)))
    raise ValueError(
        f"{value!r} is not a Bilibili account: give the numeric UID (mid), e.g. 2, "
        "or the space URL https://space.bilibili.com/<mid>"
    )


# --------------------------------------------------------------------------- dispatch


def parse(payload: bytes, url: str | None = None, status: int | None = 200) -> ParseResult:
    """Any api.bilibili.com answer -> Profile or typed Failure. Never raises for bad input."""
    parts = urlsplit(url) if url else None
    path = parts.path.rstrip("/") if parts else ""
    host = parts.netloc.lower() if parts else ""
    if host.startswith("passport.") or "/login" in path:
        return Failure(FailureKind.LOGIN_REQUIRED, f"redirected to a login page ({host}{path})", status)
    document = load_json(payload)
    if isinstance(document, dict) and isinstance(document.get("code"), int) and document["code"] != 0:
        return code_failure(document, status)
    failure = status_failure(status, STATUSES)
    if failure is not None:
        return failure
    if not isinstance(document, dict):
        if not payload.strip():
            return Failure(FailureKind.UNRECOGNIZED, "empty body instead of Bilibili API JSON", status)
        if payload.lstrip()[:1] == b"<":
            return Failure(FailureKind.UNRECOGNIZED, "HTML instead of Bilibili API JSON", status)
        return Failure(FailureKind.UNRECOGNIZED, "not Bilibili API JSON (garbage or truncated)", status)
    if document.get("code") != 0 or "data" not in document:
        return Failure(FailureKind.UNRECOGNIZED, "JSON without Bilibili's {code, data} envelope", status)
    data = document["data"]
    if isinstance(data, dict) and "v_voucher" in data:
        return Failure(
            FailureKind.BLOCKED,
            "risk control answered a v_voucher (captcha voucher) instead of data: the WBI signature "
            "was missing or wrong, or this IP is flagged; refresh the WBI keys and slow down",
            status,
        )
    if not isinstance(data, dict):
        return Failure(FailureKind.UNRECOGNIZED, f"Bilibili answer with data of type {type(data).__name__}", status)
    query_mid = _query_mid(parts.query) if parts else None
    endpoint = _ENDPOINTS.get(path) or _endpoint_from_shape(data)
    if endpoint is None:
        where = path or "an unknown endpoint"
        return Failure(FailureKind.UNRECOGNIZED, f"no Bilibili parser for {where}", status)
    return endpoint(data, query_mid, status)


def code_failure(document: Mapping[str, Any], status: int | None) -> Failure:
    """A nonzero ``code`` -> its failure kind; unknown codes are ``unrecognized`` with code and message."""
    code = document["code"]
    message = str(document.get("message") or document.get("msg") or "")
    kind = ERROR_CODES.get(code)
    if kind is None:
        return Failure(FailureKind.UNRECOGNIZED, f"unknown Bilibili code {code}: {message}"[:300], status)
    return Failure(kind, f"code {code}: {message}"[:300], status)


# --------------------------------------------------------------------------- endpoints


def parse_card(data: dict[str, Any], query_mid: str | None = None, status: int | None = 200) -> ParseResult:
    """``x/web-interface/card``: name, sign, fans, attention, archive count, likes, verification."""
    card = data.get("card")
    if not isinstance(card, dict):
        return Failure(FailureKind.UNRECOGNIZED, "card answer without data.card", status)
    followers = count(data.get("follower"))
    if followers is None:
        followers = count(card.get("fans"))
    verified, reason = _official(card.get("Official"))
    return Profile(
        platform=PLATFORM,
        platform_user_id=_mid(card.get("mid")) or query_mid,
        display_name=clean_text(card.get("name")),
        followers=followers,
        following=count(card.get("attention")),
        posts=count(data.get("archive_count")),
        likes=count(data.get("like_num")),
        verified=verified,
        verified_reason=reason,
        bio=clean_text(card.get("sign")),
    )


def parse_relation_stat(data: dict[str, Any], query_mid: str | None = None, status: int | None = 200) -> ParseResult:
    """``x/relation/stat``: follower and following counts."""
    if not {"follower", "following", "mid"} & data.keys():
        return Failure(FailureKind.UNRECOGNIZED, "relation/stat answer without mid/follower/following", status)
    return Profile(
        platform=PLATFORM,
        platform_user_id=_mid(data.get("mid")) or query_mid,
        followers=count(data.get("follower")),
        following=count(data.get("following")),
    )


def parse_acc_info(data: dict[str, Any], query_mid: str | None = None, status: int | None = 200) -> ParseResult:
    """``x/space/wbi/acc/info``: name, sign, verification; followers only if a ``follower`` field exists."""
    if "mid" not in data and "name" not in data:
        return Failure(FailureKind.UNRECOGNIZED, "acc/info answer without mid or name", status)
    verified, reason = _official(data.get("official"))
    return Profile(
        platform=PLATFORM,
        platform_user_id=_mid(data.get("mid")) or query_mid,
        display_name=clean_text(data.get("name")),
        followers=count(data.get("follower")),
        following=count(data.get("following")),
        verified=verified,
        verified_reason=reason,
        bio=clean_text(data.get("sign")),
    )


def parse_navnum(data: dict[str, Any], query_mid: str | None = None, status: int | None = 200) -> ParseResult:
    """``x/space/navnum``: ``data.video``, the number of videos, as ``posts``."""
    if "video" not in data:
        return Failure(FailureKind.UNRECOGNIZED, "navnum answer without data.video", status)
    return Profile(platform=PLATFORM, platform_user_id=query_mid, posts=count(data.get("video")))


def parse_upstat(data: dict[str, Any], query_mid: str | None = None, status: int | None = 200) -> ParseResult:
    """``x/space/upstat``: total video views (``archive.view``) and likes received."""
    archive = data.get("archive")
    if not isinstance(archive, dict) and "likes" not in data:
        return Failure(FailureKind.UNRECOGNIZED, "upstat answer without archive/likes", status)
    return Profile(
        platform=PLATFORM,
        platform_user_id=query_mid,
        views=count(archive.get("view")) if isinstance(archive, dict) else None,
        likes=count(data.get("likes")),
    )


def parse_user_cards(data: dict[str, Any], query_mid: str | None = None, status: int | None = 200) -> ParseResult:
    """``x/polymer/pc-electron/v1/user/cards``: name and verification of one user (no counts)."""
    users = [u for u in data.values() if isinstance(u, dict)]
    if len(users) != 1:
        mids = ", ".join(sorted(str(k) for k in data)[:10])
        return Failure(
            FailureKind.UNRECOGNIZED,
            f"user/cards answer holds {len(users)} users ({mids}); one parse reads one account: ask uids=<one mid>",
            status,
        )
    user = users[0]
    verified, reason = _official(user.get("official"))
    return Profile(
        platform=PLATFORM,
        platform_user_id=_mid(user.get("mid")) or query_mid,
        display_name=clean_text(user.get("name")),
        verified=verified,
        verified_reason=reason,
    )


def parse_nav(data: dict[str, Any], query_mid: str | None = None, status: int | None = 200) -> ParseResult:
    """``x/web-interface/nav`` describes the logged-in visitor, never a tracked account.

    (An anonymous nav answer is ``code -101``, a ``login_required`` failure before this.)
    The spider reads only its WBI keys, with :func:`wbi_keys_from_nav`.
    """
    return Failure(
        FailureKind.UNRECOGNIZED,
        "x/web-interface/nav describes the logged-in visitor, not a tracked account (only its WBI keys are read)",
        status,
    )


_ENDPOINTS = {
    "/x/web-interface/card": parse_card,
    "/x/relation/stat": parse_relation_stat,
    "/x/space/wbi/acc/info": parse_acc_info,
    "/x/space/acc/info": parse_acc_info,  # the unsigned predecessor, same shape
    "/x/space/navnum": parse_navnum,
    "/x/space/upstat": parse_upstat,
    "/x/polymer/pc-electron/v1/user/cards": parse_user_cards,
    "/x/web-interface/nav": parse_nav,
}


def _endpoint_from_shape(data: dict[str, Any]):  # type: ignore[no-untyped-def]
    """Which endpoint answered, from the data alone (``wangzi parse`` without ``--url``)."""
    if isinstance(data.get("card"), dict):
        return parse_card
    if "wbi_img" in data or "isLogin" in data:
        return parse_nav
    if ("follower" in data or "following" in data) and ("whisper" in data or "black" in data):
        return parse_relation_stat
    if "mid" in data and "name" in data and ("sign" in data or "level" in data or "official" in data):
        return parse_acc_info
    if "video" in data and ("channel" in data or "favourite" in data or "bangumi" in data):
        return parse_navnum
    if isinstance(data.get("archive"), dict) and "likes" in data:
        return parse_upstat
    if data and all(str(k).isdigit() and isinstance(v, dict) and "mid" in v for k, v in data.items()):
        return parse_user_cards
    return None


# --------------------------------------------------------------------------- values


def _mid(value: Any) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    text = str(value).strip()
    return text if _MID.match(text) and int(text) > 0 else None


def _official(official: Any) -> tuple[bool | None, str | None]:
    """``Official``/``official`` -> (verified, reason). type -1 none, 0 personal, 1 institutional."""
    if not isinstance(official, dict) or not isinstance(official.get("type"), int) or isinstance(official.get("type"), bool):
        return None, None
    verified = official["type"] >= 0
    reason = (clean_text(official.get("title")) or clean_text(official.get("desc"))) if verified else None
    return verified, reason


def _query_mid(query: str) -> str | None:
    values = parse_qs(query)
    for name in ("mid", "vmid", "uids"):
        for value in values.get(name, []):
            mid = _mid(value)
            if mid:
                return mid
    return None
