"""Taobao Live (淘宝直播): anchor page numbers and recent live streams, read from the rendered page.

What is read, and from where: the anchor page
``huodong.m.taobao.com/act/talent/live.html?id=ANCHOR_ID`` (ANCHOR_ID is the anchor's numeric
Taobao user id), rendered by Chromium through scrapy-playwright. No public JSON for it is
documented and no real sample is shared.

**Assumption, stated because it could not be checked against a live page:** the rendered
page shows each number next to its Chinese label ("粉丝 12.3万", "1.2万 获赞",
``<div><span>356</span><span>场直播</span></div>``), read by
:func:`spiders.pages.creator_page.labelled_counts`; past and current live streams are links to
``taobaolive.taobao.com/room/index.htm?feedId=ID`` (title from the link). A page without a
粉丝 number, or with one label carrying different numbers, is ``unrecognized``.

Failures: HTTP 403/418 -> blocked, 429 -> rate_limited, 404 -> not_found; a redirect to
``login.taobao.com``/``login.m.taobao.com`` -> login_required; Taobao's anti-bot "punish" page
(``/punish``, ``x5secdata``, "亲，请拖动下方滑块完成验证") -> captcha; "主播不存在"/"用户不存在"/
"账号已注销" on the page -> not_found.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urljoin, urlsplit

from bs4 import BeautifulSoup

from records import PLATFORM_TABLE, AccountRef, Failure, FailureKind, ParseResult, Post
from spiders.pages.creator_page import (
    TITLE_LIMIT,
    PageTexts,
    counts_profile,
    labelled_counts,
    link_title,
    page_title,
    verification,
)
from spiders.pages.status import COMMON_STATUSES, StatusTable, status_failure

PARSER_VERSION = "1"
PLATFORM = "taobao_live"

PROFILE_URL = "https://huodong.m.taobao.com/act/talent/live.html?id={anchor_id}"
LIVE_URL = "https://taobaolive.taobao.com/room/index.htm?feedId={feed_id}"

#: The anchor's numeric Taobao user id (the platform table's pattern).
ANCHOR_ID = PLATFORM_TABLE[PLATFORM].user_id
LABELS = {"粉丝": "followers", "关注": "following", "获赞": "likes", "场直播": "posts", "直播": "posts"}
_TITLE_SUFFIXES = re.compile(r"\s*(?:的直播间|的淘宝直播)?\s*(?:[-_|—]\s*(?:淘宝直播|手机淘宝|淘宝).*)?$")
_CAPTCHA_WORDS = ("请拖动下方滑块完成验证", "亲，请拖动", "x5secdata", "nc_1_n1z")

#: HTTP status -> failure: a 403 or 418 refuses this client.
STATUSES: StatusTable = {
    **COMMON_STATUSES,
    403: (FailureKind.BLOCKED, "HTTP 403"),
    418: (FailureKind.BLOCKED, "HTTP 418"),
}


def normalize_account(text: str) -> AccountRef:
    """A numeric anchor id or an anchor/live-room URL carrying ``id=``/``userId=`` -> account reference."""
    value = text.strip()
    if ANCHOR_ID.match(value):
        return AccountRef(platform=PLATFORM, platform_user_id=value)
    if "taobao.com" in value.lower() or "tb.cn" in value.lower():
        host = urlsplit(value if "://" in value else f"https://{value}").hostname or ""
        if host == "tb.cn" or host.endswith(".tb.cn"):
            raise ValueError(f"{value!r} is a tb.cn share link; open it and paste the anchor page URL instead")
        url = value if "://" in value else f"https://{value}"
        query = parse_qs(urlsplit(url).query)
        for key in ("userId", "anchorId", "id"):
            candidate = (query.get(key) or [""])[0]
            if ANCHOR_ID.match(candidate) and ("talent" in url or key != "id"):
                return AccountRef(platform=PLATFORM, platform_user_id=candidate)
    raise ValueError(
        f"{value!r} is not a Taobao Live anchor id or anchor page URL; expected the numeric anchor id or e.g. "
        "https://huodong.m.taobao.com/act/talent/live.html?id=123456789"
    )


def parse(payload: bytes, url: str | None = None, status: int | None = 200) -> ParseResult:
    """A rendered Taobao Live anchor page -> Profile, or a typed Failure. Never raises for bad input."""
    failure = status_failure(status, STATUSES)
    if failure is not None:
        return failure
    parts = urlsplit(url) if url else None
    if parts is not None and (parts.hostname or "").startswith("login."):
        return Failure(FailureKind.LOGIN_REQUIRED, "redirected to the Taobao login page", status)
    if parts is not None and "punish" in parts.path:
        return Failure(FailureKind.CAPTCHA, "redirected to Taobao's slider verification", status)
    html = payload.decode("utf-8", errors="replace")
    if "<" not in html:
        return Failure(FailureKind.UNRECOGNIZED, "not an HTML page", status)
    if any(word in html for word in _CAPTCHA_WORDS):
        return Failure(FailureKind.CAPTCHA, "Taobao's slider verification page", status)
    soup = BeautifulSoup(html, "html.parser")
    if re.search(r"(主播不存在|用户不存在|账号已注销)", soup.get_text(" ")):
        return Failure(FailureKind.NOT_FOUND, "the page says the anchor does not exist", status)
    found = labelled_counts(soup, LABELS)
    if isinstance(found, str):
        return Failure(FailureKind.UNRECOGNIZED, found, status)
    if found.get("followers") is None:
        return Failure(FailureKind.UNRECOGNIZED, "no 粉丝 (followers) count on the page", status)
    anchor = (parse_qs(parts.query).get("id") or [None])[0] if parts is not None else None
    reason = verification(soup)
    return counts_profile(
        PLATFORM,
        found,
        platform_user_id=anchor if anchor and ANCHOR_ID.match(anchor) else None,
        display_name=page_title(soup, _TITLE_SUFFIXES),
        verified=True if reason else None,
        verified_reason=reason,
        recent_posts=live_streams(soup, url),
    )


def live_streams(soup: BeautifulSoup, url: str | None) -> tuple[Post, ...]:
    """Links to live rooms (``feedId=``): id, URL and title (no counts: none is labelled)."""
    posts: list[Post] = []
    seen: set[str] = set()
    texts = PageTexts(soup, TITLE_LIMIT)
    for link in soup.find_all("a", href=True):
        try:
            href = urljoin(url or "https://huodong.m.taobao.com/", link["href"])
            feed = (parse_qs(urlsplit(href).query).get("feedId") or [""])[0]
        except ValueError:  # a malformed href in the page (e.g. a broken "[" host): not a room link
            continue
        if not feed.isdigit() or feed in seen:
            continue
        seen.add(feed)
        title = link_title(link, texts)
        posts.append(Post(platform=PLATFORM, post_id=feed, url=LIVE_URL.format(feed_id=feed), title=title, kind="live"))
    return tuple(posts)
