"""Youku (优酷): creator page numbers and recent videos, read from the rendered page.

What is read, and from where: the creator page ``www.youku.com/profile/index?uid=UID``,
rendered by Chromium through scrapy-playwright (the page builds its numbers with
JavaScript; there is no documented public JSON for it and no real sample is shared).

**Assumption, stated because it could not be checked against a live page:** the rendered
page shows each number next to its Chinese label, either in one element ("粉丝 1.2万",
"1.2万粉丝") or as a label element and a number element under one parent
(``<div><span>1.2万</span><span>粉丝</span></div>``).
:func:`spiders.pages.creator_page.labelled_counts` reads exactly that and nothing else (the
same reader serves Taobao Live); the videos are the links to
``v.youku.com/v_show/id_XXX.html``. When no 粉丝 label with a number is found, or one label
carries two different numbers (e.g. a list of recommended creators), the answer is
``unrecognized``: never a guess.

Failures: HTTP 403/418 -> blocked, 429 -> rate_limited, 404 -> not_found; a redirect to
``passport.youku.com`` or a login path -> login_required; "用户不存在"/"该用户已注销"/"页面不存在"
on the page -> not_found.
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
PLATFORM = "youku"

PROFILE_URL = "https://www.youku.com/profile/index?uid={uid}"
VIDEO_URL = "https://v.youku.com/v_show/id_{video_id}.html"

#: Youku user ids: "UMTIzNDU2Nzg5"-style encoded ids or plain digits (the platform table's pattern).
UID = PLATFORM_TABLE[PLATFORM].user_id
_VIDEO_LINK = re.compile(r"v\.youku\.com/v_show/id_([A-Za-z0-9=]+)\.html")

#: label text -> Profile field.
LABELS = {"粉丝": "followers", "关注": "following", "视频": "posts", "总播放": "views", "播放": "views", "获赞": "likes"}
_TITLE_SUFFIXES = re.compile(r"\s*(?:的个人频道|的自频道|的主页)?\s*(?:[-_|—]\s*(?:优酷|优酷视频|Youku).*)?$")

#: HTTP status -> failure: a 403 or 418 refuses this client.
STATUSES: StatusTable = {
    **COMMON_STATUSES,
    403: (FailureKind.BLOCKED, "HTTP 403"),
    418: (FailureKind.BLOCKED, "HTTP 418"),
}


# --------------------------------------------------------------------------- accounts


def normalize_account(text: str) -> AccountRef:
    """A Youku uid (``UMTIzNDU2Nzg5`` or digits) or a creator page URL -> account reference."""
    value = text.strip()
    if UID.match(value):
        return AccountRef(platform=PLATFORM, platform_user_id=value)
    if "youku.com" in value.lower():
        url = value if "://" in value else f"https://{value}"
        parts = urlsplit(url)
        uid = (parse_qs(parts.query).get("uid") or [""])[0]
        if UID.match(uid):
            return AccountRef(platform=PLATFORM, platform_user_id=uid)
        match = re.search(r"/i/(UM[A-Za-z0-9=]{6,40})", parts.path)
        if match:
            return AccountRef(platform=PLATFORM, platform_user_id=match.group(1))
    raise ValueError(
        f"{value!r} is not a Youku uid or creator page URL; expected e.g. "
        "https://www.youku.com/profile/index?uid=UMTIzNDU2Nzg5 (open the creator's page and copy its address)"
    )


# --------------------------------------------------------------------------- parser


def parse(payload: bytes, url: str | None = None, status: int | None = 200) -> ParseResult:
    """A rendered Youku creator page -> Profile, or a typed Failure. Never raises for bad input."""
    failure = status_failure(status, STATUSES)
    if failure is not None:
        return failure
    if url and ("passport.youku.com" in url or "login" in urlsplit(url).path):
        return Failure(FailureKind.LOGIN_REQUIRED, "redirected to the login page", status)
    html = payload.decode("utf-8", errors="replace")
    if "<" not in html:
        return Failure(FailureKind.UNRECOGNIZED, "not an HTML page", status)
    soup = BeautifulSoup(html, "html.parser")
    if re.search(r"(用户不存在|该用户已注销|页面不存在)", soup.get_text(" ")):
        return Failure(FailureKind.NOT_FOUND, "the page says the creator does not exist", status)
    found = labelled_counts(soup, LABELS)
    if isinstance(found, str):
        return Failure(FailureKind.UNRECOGNIZED, found, status)
    if found.get("followers") is None:
        return Failure(FailureKind.UNRECOGNIZED, "no 粉丝 (followers) count on the page", status)
    uid = (parse_qs(urlsplit(url).query).get("uid") or [None])[0] if url else None
    reason = verification(soup)
    return counts_profile(
        PLATFORM,
        found,
        platform_user_id=uid,
        display_name=page_title(soup, _TITLE_SUFFIXES),
        verified=True if reason else None,
        verified_reason=reason,
        recent_posts=videos(soup, url),
    )


def videos(soup: BeautifulSoup, url: str | None) -> tuple[Post, ...]:
    """Links to ``v.youku.com/v_show/id_XXX.html`` in page order: id, URL and title only
    (play counts beside thumbnails are not tied to a label, so they are not read)."""
    posts: list[Post] = []
    seen: set[str] = set()
    texts = PageTexts(soup, TITLE_LIMIT)
    for link in soup.find_all("a", href=True):
        try:
            match = _VIDEO_LINK.search(urljoin(url or "https://www.youku.com/", link["href"]))
        except ValueError:  # a malformed href in the page: not a video link
            continue
        if not match or match.group(1) in seen:
            continue
        seen.add(match.group(1))
        title = link_title(link, texts)
        posts.append(Post(platform=PLATFORM, post_id=match.group(1), url=VIDEO_URL.format(video_id=match.group(1)),
                          title=title, kind="video"))
    return tuple(posts)
