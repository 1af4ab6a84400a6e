"""Xiaohongshu (小红书 / RED): profile numbers, IP location and recent notes.

What is read, and from where:

* the profile page ``www.xiaohongshu.com/user/profile/USER_ID``, rendered by Chromium
  through scrapy-playwright. The server embeds the page's store as
  ``<script>window.__INITIAL_STATE__={...}</script>``; ``user.userPageData`` holds
  ``basicInfo`` (nickname, desc, ipLocation, redId) and ``interactions`` (follows, fans,
  interaction = likes + collects), ``user.notes[0]`` the first page of the user's own notes.
  The state is JavaScript, not JSON (``undefined`` values), see :func:`initial_state`.
* the web API ``edith.xiaohongshu.com/api/sns/web/v1/user/otherinfo?target_user_id=``
  (``data.basic_info``, ``data.interactions``), which the page itself calls with signed
  headers (X-S/X-T) that only the site's JavaScript computes. We never call it ourselves;
  its parser exists for saved responses (``wangzi parse``) and the shared samples.
* ``/api/sns/web/v1/search/usersearch`` results (``data.users[]``), for saved searches.

Failures: a final URL on ``/website-login/captcha`` (or with ``verifyType``/``verifyUuid``)
-> captcha, on ``/website-login``, ``/login`` or ``/signin`` -> login_required; HTTP 461/471 ->
blocked, 429 -> rate_limited, 404 -> not_found; an API answer with ``success: false`` -> its
``code`` (300011, 300012, 300015 blocked; 300013 rate_limited; -100/-101 login_required;
-510001 not_found) or the words of its ``msg``; a page saying the user is gone -> not_found, a
risk-control page -> blocked.

Everything here is pure: bytes in, a record out; :mod:`spiders.xiaohongshu` decides what to request.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from enrichment.numbers import parse_count
from enrichment.places import country_code, strip_ip_prefix
from records import PLATFORM_TABLE, AccountRef, Failure, FailureKind, ParseResult, Post, Profile
from spiders.pages.payload import FieldCounts, as_bool, clean_text, json_object
from spiders.pages.status import COMMON_STATUSES, StatusTable, status_failure

PARSER_VERSION = "1"
PLATFORM = "xiaohongshu"

PROFILE_URL = "https://www.xiaohongshu.com/user/profile/{user_id}"
OTHERINFO_URL = "https://edith.xiaohongshu.com/api/sns/web/v1/user/otherinfo?target_user_id={user_id}"
NOTE_URL = "https://www.xiaohongshu.com/explore/{note_id}"

#: Xiaohongshu user and note ids are 24 lower-case hex digits (a MongoDB ObjectId); the user id
#: pattern is the platform table's.
USER_ID = PLATFORM_TABLE[PLATFORM].user_id
_PROFILE_PATH = re.compile(r"/user/profile/([0-9a-fA-F]{24})(?:[/?#]|$)")

#: ``interactions[].type`` -> Profile field. "interaction" is 获赞与收藏 (likes + collects).
_INTERACTION_FIELDS = {"fans": "followers", "follows": "following", "interaction": "likes"}

#: HTTP status -> failure. The site answers 461 and 471 to traffic it distrusts (ReaJason/xhs
#: raises NeedVerifyError on both; the ``Verifytype``/``Verifyuuid`` headers name a verification
#: the browser must pass).
STATUSES: StatusTable = {
    **COMMON_STATUSES,
    **{
        blocked: (FailureKind.BLOCKED, "HTTP {status}: the site demands a verification (risk control)")
        for blocked in (461, 471)
    },
}

#: API ``code`` values (``success: false``) and what they mean for us.
#: 300012 "网络连接异常" / "IP存在风险" and 300015 "浏览器异常" (signature refused) are
#: ReaJason/xhs's IP_BLOCK and SIGN_FAULT; 300011 "当前账号存在异常，请切换账号后重试" is
#: reported in 1sdv/TripStar#18; 300013 "访问频次异常" is the rate limit; -100/-101 are
#: "登录已过期"/"无登录信息" (ReaJason/xhs SESSION_EXPIRED, Cloxl/xhshow#39).
_API_FAILURES: dict[int, FailureKind] = {
    300011: FailureKind.BLOCKED,
    300012: FailureKind.BLOCKED,
    300015: FailureKind.BLOCKED,
    300013: FailureKind.RATE_LIMITED,
    -100: FailureKind.LOGIN_REQUIRED,
    -101: FailureKind.LOGIN_REQUIRED,
    # "当前内容无法展示"/"笔记状态异常": documented for notes (ReaJason/xhs NOTE_ABNORMAL);
    # the same code for a user means there is nothing to show.
    -510001: FailureKind.NOT_FOUND,
}
#: Message text that means the account is gone, whatever the code.
_GONE_WORDS = ("用户不存在", "账号不存在", "帐号不存在", "已注销", "账号已被封禁", "该用户已被封禁")
#: Text of the risk-control answer, in JSON messages and in pages.
RISK_WORDS = ("IP存在风险", "网络连接异常", "安全限制", "访问频次异常")


# --------------------------------------------------------------------------- accounts


def normalize_account(text: str) -> AccountRef:
    """A 24-hex user id or a ``xiaohongshu.com/user/profile/ID`` URL -> account reference.

    Short links (``xhslink.com``) and 小红书号 (red_id) cannot be resolved offline: the
    first redirects through the app's share service and the second is only searchable
    through the signed API, so both get a message asking for the profile URL.
    """
    value = text.strip()
    lowered = value.lower()
    if USER_ID.match(lowered):
        return AccountRef(platform=PLATFORM, platform_user_id=lowered)
    if "xhslink.com" in lowered:
        raise ValueError(
            f"{value!r} is an xhslink.com short link; open it in a browser and paste the full profile "
            "URL instead (https://www.xiaohongshu.com/user/profile/<24-character id>)"
        )
    if "xiaohongshu.com" in lowered or "rednote.com" in lowered:
        url = value if "://" in value else f"https://{value}"
        match = _PROFILE_PATH.search(urlsplit(url).path + "/")
        if match:
            return AccountRef(platform=PLATFORM, platform_user_id=match.group(1).lower())
        raise ValueError(
            f"{value!r} is not a Xiaohongshu profile URL; expected "
            "https://www.xiaohongshu.com/user/profile/<24-character id>"
        )
    raise ValueError(
        f"{value!r} is not a Xiaohongshu user id; a 小红书号 (red_id) or nickname cannot be looked up "
        "without a login, so paste the profile URL (https://www.xiaohongshu.com/user/profile/<24-character id>, "
        "from the app's Share -> Copy link, opened in a browser)"
    )


# --------------------------------------------------------------------------- dispatch


def parse(payload: bytes, url: str | None = None, status: int | None = 200) -> ParseResult:
    """Any Xiaohongshu answer -> Profile or typed Failure. Never raises for bad input."""
    failure = failure_from_location(url, status) or status_failure(status, STATUSES)
    if failure is not None:
        return failure
    path = urlsplit(url).path if url else ""
    if "/user/otherinfo" in path:
        return parse_otherinfo(payload, url, status)
    if "/search/usersearch" in path:
        return parse_usersearch(payload, url, status)
    if "/user/profile/" in path:
        return parse_profile_page(payload, url, status)
    # No URL (or an unknown one): decide from the payload's shape.
    head = payload.lstrip()[:1]
    if head == b"<":
        return parse_profile_page(payload, url, status)
    if head == b"{":
        document = json_object(payload, status)
        if isinstance(document, Failure):
            return document
        data = document.get("data") if isinstance(document.get("data"), dict) else document
        if isinstance(data, dict) and "users" in data:
            return parse_usersearch(payload, url, status)
        return parse_otherinfo(payload, url, status)
    return Failure(FailureKind.UNRECOGNIZED, "neither a Xiaohongshu page nor API JSON", status)


def failure_from_location(url: str | None, status: int | None) -> Failure | None:
    """The final URL after redirects says "log in" or "prove you are human"."""
    if not url:
        return None
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    if "/website-login/captcha" in parts.path or "verifyType" in query or "verifyUuid" in query:
        return Failure(FailureKind.CAPTCHA, f"redirected to a verification page ({parts.path})", status)
    if parts.path.startswith("/website-login") or parts.path.rstrip("/") in {"/login", "/signin"}:
        return Failure(FailureKind.LOGIN_REQUIRED, f"redirected to the login page ({parts.path})", status)
    return None


def api_failure(document: dict[str, Any], status: int | None) -> Failure | None:
    """``{"code": 300012, "success": false, "msg": ...}`` -> a typed failure."""
    if document.get("success") is not False:
        return None
    code = document.get("code")
    message = str(document.get("msg") or document.get("message") or "")
    detail = f"code {code}: {message}".strip()[:200]
    if isinstance(code, int) and code in _API_FAILURES:
        return Failure(_API_FAILURES[code], detail, status)
    if any(word in message for word in _GONE_WORDS):
        return Failure(FailureKind.NOT_FOUND, detail, status)
    if any(word in message for word in RISK_WORDS):
        return Failure(FailureKind.BLOCKED, detail, status)
    if "登录" in message:
        return Failure(FailureKind.LOGIN_REQUIRED, detail, status)
    return Failure(FailureKind.UNRECOGNIZED, f"API refused: {detail}", status)


# --------------------------------------------------------------------------- shared pieces


def _user_id_from_url(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    match = _PROFILE_PATH.search(parts.path + "/")
    if match:
        return match.group(1).lower()
    for key in ("target_user_id", "user_id"):
        values = parse_qs(parts.query).get(key)
        if values and USER_ID.match(values[0].lower()):
            return values[0].lower()
    return None


def _counts(interactions: Any) -> FieldCounts:
    """``interactions[]`` -> counts by Profile field (the first entry of a type wins)."""
    counts = FieldCounts()
    for entry in interactions if isinstance(interactions, list) else []:
        if not isinstance(entry, dict):
            continue
        field = _INTERACTION_FIELDS.get(str(entry.get("type")))
        if field is not None:
            counts.add(field, parse_count(entry.get("count")))
    return counts


def _location_tag(tags: Any) -> str | None:
    """The self-declared region shown as a ``tagType: "location"`` tag ("广东广州")."""
    if not isinstance(tags, list):
        return None
    for tag in tags:
        if isinstance(tag, dict) and tag.get("tagType") == "location":
            return clean_text(tag.get("name"))
    return None


def _profile(
    *,
    user_id: str | None,
    red_id: Any,
    nickname: Any,
    desc: Any,
    ip_location: Any,
    interactions: Any,
    tags: Any,
    posts: tuple[Post, ...] = (),
) -> Profile:
    counts = _counts(interactions)
    place = strip_ip_prefix(clean_text(ip_location))
    return Profile(
        platform=PLATFORM,
        platform_user_id=user_id,
        handle=clean_text(red_id),
        display_name=clean_text(nickname),
        followers=counts.get("followers"),
        following=counts.get("following"),
        likes=counts.get("likes"),
        bio=clean_text(desc),
        ip_location=place,
        location=_location_tag(tags),
        country=country_code(place),
        approximate=counts.approximate,
        lower_bound=counts.lower_bound,
        recent_posts=posts,
    )


# --------------------------------------------------------------------------- otherinfo API


def parse_otherinfo(payload: bytes, url: str | None = None, status: int | None = 200) -> ParseResult:
    """``/api/sns/web/v1/user/otherinfo`` (whole answer, or its bare ``data`` object)."""
    document = json_object(payload, status)
    if isinstance(document, Failure):
        return document
    failure = api_failure(document, status)
    if failure is not None:
        return failure
    data = document.get("data") if "data" in document else document
    if not isinstance(data, dict) or not isinstance(data.get("basic_info"), dict):
        return Failure(FailureKind.UNRECOGNIZED, "otherinfo without data.basic_info", status)
    basic = data["basic_info"]
    return _profile(
        user_id=_user_id_from_url(url),
        red_id=basic.get("red_id"),
        nickname=basic.get("nickname"),
        desc=basic.get("desc"),
        ip_location=basic.get("ip_location"),
        interactions=data.get("interactions"),
        tags=data.get("tags"),
    )


# --------------------------------------------------------------------------- user search API


def parse_usersearch(payload: bytes, url: str | None = None, status: int | None = 200) -> ParseResult:
    """``/api/sns/web/v1/search/usersearch`` -> the profile of the user that was searched for.

    A search answers with several users. The one we want is named by ``keyword`` in the
    URL's query (a 小红书号 or user id; the site POSTs it, so callers put it there). With
    no keyword a single result is taken; several results without one are ambiguous.
    ``note_count`` is not read: it is 0 for every user in the samples we have, which looks
    like an unfilled field rather than a count.
    """
    document = json_object(payload, status)
    if isinstance(document, Failure):
        return document
    failure = api_failure(document, status)
    if failure is not None:
        return failure
    data = document.get("data")
    users = data.get("users") if isinstance(data, dict) else None
    if not isinstance(users, list) or not all(isinstance(u, dict) for u in users):
        return Failure(FailureKind.UNRECOGNIZED, "usersearch without data.users[]", status)
    keyword = (parse_qs(urlsplit(url).query).get("keyword") or [None])[0] if url else None
    if keyword:
        wanted = keyword.strip().lower()
        chosen = [u for u in users if wanted in {str(u.get("red_id", "")).lower(), str(u.get("id", "")).lower()}]
        if not chosen:
            return Failure(FailureKind.NOT_FOUND, f"no user with 小红书号 or id {keyword!r} in the results", status)
    elif len(users) == 1:
        chosen = users
    else:
        return Failure(
            FailureKind.UNRECOGNIZED,
            f"{len(users)} users in the results; add ?keyword=<red_id or id> to the URL to pick one",
            status,
        )
    user = chosen[0]
    counts = FieldCounts.read({"followers": user.get("fans")})
    user_id = str(user.get("id") or "").lower()
    return Profile(
        platform=PLATFORM,
        platform_user_id=user_id if USER_ID.match(user_id) else None,
        handle=clean_text(user.get("red_id")),
        display_name=clean_text(user.get("name")),
        followers=counts.get("followers"),
        verified=as_bool(user.get("red_official_verified")),
        approximate=counts.approximate,
        lower_bound=counts.lower_bound,
    )


# --------------------------------------------------------------------------- profile page


_STATE_MARKER = re.compile(r"window\.__INITIAL_STATE__\s*=\s*")
_JS_LITERALS = {"undefined": "null"}


def initial_state(html: str) -> dict[str, Any] | None:
    """The ``window.__INITIAL_STATE__=`` object of a page, or None when absent or unreadable.

    The state is a JavaScript object literal produced by the site's SSR: JSON except
    that unset values are the bare word ``undefined``. Those words are replaced *outside
    string literals only* (a nickname or bio may well contain the text "undefined").
    """
    for match in _STATE_MARKER.finditer(html):  # the first assignment that holds an object
        end = html.find("</script>", match.end())
        source = html[match.end() : end if end != -1 else len(html)].strip().rstrip(";").strip()
        try:
            state = json.loads(_js_to_json(source))
        except ValueError:
            continue
        if isinstance(state, dict):
            return state
    return None


def _js_to_json(source: str) -> str:
    """Replace bare ``undefined`` tokens with ``null``, leaving string contents alone."""
    out: list[str] = []
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch == '"':
            j = i + 1
            while j < n and source[j] != '"':
                j += 2 if source[j] == "\\" else 1
            out.append(source[i : j + 1])
            i = j + 1
        elif ch.isalpha() or ch == "_":
            j = i
            while j < n and (source[j].isalnum() or source[j] in "_$"):
                j += 1
            word = source[i:j]
            out.append(_JS_LITERALS.get(word, word))
            i = j
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def unref(value: Any) -> Any:
    """The store's Vue refs may be serialised as ``{"_value": ...}``/``{"value": ...}``."""
    if isinstance(value, dict) and not {"basicInfo", "interactions"} & value.keys():
        for key in ("_rawValue", "_value", "value"):
            if key in value:
                return value[key]
    return value


def notes_from_state(user: dict[str, Any], user_id: str | None) -> tuple[Post, ...]:
    """``user.notes[0]``: the first page of the user's own notes (the other tabs are
    collections and likes, i.e. other people's notes, and are not read)."""
    notes = unref(user.get("notes"))
    if not isinstance(notes, list) or not notes:
        return ()
    first = unref(notes[0])
    if not isinstance(first, list):
        return ()
    posts: list[Post] = []
    for item in first:
        if not isinstance(item, dict):
            continue
        card = item.get("noteCard") if isinstance(item.get("noteCard"), dict) else {}
        if item.get("modelType") not in (None, "note"):
            continue  # live cards, hot queries
        owner = card.get("user", {}).get("userId") if isinstance(card.get("user"), dict) else None
        if user_id and isinstance(owner, str) and owner.lower() != user_id:
            continue
        note_id = clean_text(card.get("noteId")) or clean_text(item.get("id"))
        if note_id is None:
            continue
        interact = card.get("interactInfo") if isinstance(card.get("interactInfo"), dict) else {}
        liked = parse_count(interact.get("likedCount"))
        comments = parse_count(interact.get("commentCount"))
        shares = parse_count(interact.get("sharedCount"))
        approximate = tuple(
            name for name, count in (("likes", liked), ("comments", comments), ("shares", shares))
            if count is not None and count.approximate
        )
        posts.append(
            Post(
                platform=PLATFORM,
                post_id=note_id,
                url=NOTE_URL.format(note_id=note_id),
                title=clean_text(card.get("displayTitle")) or clean_text(card.get("title")),
                text=clean_text(card.get("desc")),
                kind="video" if card.get("type") == "video" else "post",
                likes=None if liked is None else liked.value,
                comments=None if comments is None else comments.value,
                shares=None if shares is None else shares.value,
                approximate=approximate,
            )
        )
    return tuple(posts)


def parse_profile_page(payload: bytes, url: str | None = None, status: int | None = 200) -> ParseResult:
    """``www.xiaohongshu.com/user/profile/ID`` HTML -> Profile with its first notes."""
    html = payload.decode("utf-8", errors="replace")
    if not html.strip():
        return Failure(FailureKind.UNRECOGNIZED, "empty page", status)
    state = initial_state(html)
    if state is None:
        if any(word in html for word in RISK_WORDS):
            return Failure(FailureKind.BLOCKED, "risk-control page (IP存在风险/网络连接异常)", status)
        if "__INITIAL_STATE__" in html:
            return Failure(FailureKind.UNRECOGNIZED, "window.__INITIAL_STATE__ is not readable", status)
        return Failure(FailureKind.UNRECOGNIZED, "page without window.__INITIAL_STATE__", status)
    user = state.get("user")
    page = unref(user.get("userPageData")) if isinstance(user, dict) else None
    basic = page.get("basicInfo") if isinstance(page, dict) else None
    if not isinstance(basic, dict) or not basic:
        if any(word in html for word in _GONE_WORDS):
            return Failure(FailureKind.NOT_FOUND, "the page says the user does not exist", status)
        if any(word in html for word in RISK_WORDS):
            return Failure(FailureKind.BLOCKED, "risk-control page (IP存在风险/网络连接异常)", status)
        return Failure(FailureKind.UNRECOGNIZED, "__INITIAL_STATE__ without user.userPageData.basicInfo", status)
    user_id = _user_id_from_url(url)
    return _profile(
        user_id=user_id,
        red_id=basic.get("redId"),
        nickname=basic.get("nickname"),
        desc=basic.get("desc"),
        ip_location=basic.get("ipLocation"),
        interactions=page.get("interactions"),
        tags=page.get("tags"),
        posts=notes_from_state(user, user_id),
    )
