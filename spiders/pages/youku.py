"""Youku (优酷): creator page numbers and recent videos, read from the rendered page.

What is read, and from where: the creator page ``www.youku.com/profile/index?uid=UID``,
rendered by Chromium through scrapy-playwright (the page builds its numbers with
JavaScript; there is no documented public JSON for it and no real sample is shared).

**Assumption, stated because it could not be checked against a live page:** the rendered
page shows each number next to its Chinese label, either in one element ("粉丝 1.2万",
"1.2万粉丝") or as a label element and a number element under one parent
(``<div><span>1.2万</span><span>粉丝</span></div>``). :func:`labelled_counts` reads exactly
that and nothing else; the videos are the links to ``v.youku.com/v_show/id_XXX.html``.
When no 粉丝 label with a number is found, or one label carries two different numbers
(e.g. a list of recommended creators), the answer is ``unrecognized``: never a guess.
The same reader serves Taobao Live (:mod:`spiders.taobao_live`).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

from bs4 import BeautifulSoup, Tag

from records import AccountRef, Failure, FailureKind, ParseResult, Post, Profile
from enrichment.numbers import Count, parse_count

PARSER_VERSION = "1"
PLATFORM = "youku"

PROFILE_URL = "https://www.youku.com/profile/index?uid={uid}"
VIDEO_URL = "https://v.youku.com/v_show/id_{video_id}.html"

#: Youku user ids: "UMTIzNDU2Nzg5"-style encoded ids or plain digits.
UID = re.compile(r"^(?:UM[A-Za-z0-9=]{6,40}|\d{4,15})$")
_VIDEO_LINK = re.compile(r"v\.youku\.com/v_show/id_([A-Za-z0-9=]+)\.html")

#: label text -> Profile field.
LABELS = {"粉丝": "followers", "关注": "following", "视频": "posts", "总播放": "views", "播放": "views", "获赞": "likes"}
_TITLE_SUFFIXES = re.compile(r"\s*(?:的个人频道|的自频道|的主页)?\s*(?:[-_|—]\s*(?:优酷|优酷视频|Youku).*)?$")
_NUMBER = r"\d[\d,.]*\s*(?:[万亿kKmMwW]\+?|\+)?"


# --------------------------------------------------------------------------- page reading (shared with taobao_live)


def labelled_counts(soup: BeautifulSoup, labels: dict[str, str]) -> dict[str, Count] | str:
    """Counts shown next to their labels, by Profile field; a reason string when ambiguous.

    Two layouts are read: one element whose whole text is "LABEL NUMBER" or "NUMBER LABEL",
    and a parent whose two child elements are a number and a label (either order).
    """
    alternatives = "|".join(sorted((re.escape(k) for k in labels), key=len, reverse=True))
    inline = re.compile(rf"^(?:(?P<l1>{alternatives})\s*[:：]?\s*(?P<n1>{_NUMBER})|(?P<n2>{_NUMBER})\s*(?P<l2>{alternatives}))$")
    seen: dict[str, set[int]] = {}
    found: dict[str, Count] = {}
    for element in soup.find_all(True):
        if element.name in {"script", "style", "noscript", "title"}:
            continue
        children = [c for c in element.find_all(True, recursive=False) if c.get_text(strip=True)]
        pair: tuple[str, str] | None = None
        text = element.get_text(" ", strip=True)
        match = inline.match(text) if len(text) <= 40 else None
        if match and not any(inline.match(c.get_text(" ", strip=True)) for c in children):
            pair = (match.group("l1") or match.group("l2"), match.group("n1") or match.group("n2"))
        elif len(children) == 2:
            a, b = (c.get_text(" ", strip=True) for c in children)
            if a in labels and re.fullmatch(_NUMBER, b):
                pair = (a, b)
            elif b in labels and re.fullmatch(_NUMBER, a):
                pair = (b, a)
        if pair is None:
            continue
        count = parse_count(pair[1].replace(" ", ""))
        if count is None:
            continue
        field = labels[pair[0]]
        seen.setdefault(field, set()).add(count.value)
        found.setdefault(field, count)
    ambiguous = sorted(field for field, values in seen.items() if len(values) > 1)
    if ambiguous:
        return f"several different numbers labelled as {', '.join(ambiguous)}"
    return found


def counts_profile(platform: str, found: dict[str, Count], **facts: Any) -> Profile:
    """Profile from labelled counts (approximate/lower-bound flags kept) and text facts."""
    values = {field: count.value for field, count in found.items()}
    return Profile(
        platform=platform,
        followers=values.get("followers"),
        following=values.get("following"),
        posts=values.get("posts"),
        likes=values.get("likes"),
        views=values.get("views"),
        approximate=tuple(sorted(f for f, c in found.items() if c.approximate)),
        lower_bound=tuple(sorted(f for f, c in found.items() if c.lower_bound)),
        **facts,
    )


def page_title(soup: BeautifulSoup, suffixes: re.Pattern[str]) -> str | None:
    """``og:title`` or ``<title>`` without the site's suffix."""
    meta = soup.find("meta", attrs={"property": "og:title"})
    raw = meta.get("content") if isinstance(meta, Tag) else (soup.title.get_text() if soup.title else None)
    if not isinstance(raw, str):
        return None
    name = suffixes.sub("", raw.strip()).strip()
    return name or None


def verification(soup: BeautifulSoup) -> str | None:
    """Text of an element reading "认证：REASON" (the verified badge's caption)."""
    for element in soup.find_all(string=re.compile(r"^\s*(?:\S{0,4}认证)\s*[:：]\s*\S")):
        reason = re.sub(r"^\s*\S{0,4}认证\s*[:：]\s*", "", str(element)).strip()
        if reason:
            return reason
    return None


def status_failure(status: int | None) -> Failure | None:
    if status is None or status < 400:
        return None
    if status in (403, 418, 429):
        kind = FailureKind.RATE_LIMITED if status == 429 else FailureKind.BLOCKED
        return Failure(kind, f"HTTP {status}", status)
    if status == 404:
        return Failure(FailureKind.NOT_FOUND, "HTTP 404", status)
    return Failure(FailureKind.HTTP_ERROR, f"HTTP {status}", status)


def abort_unneeded_requests(request: Any) -> bool:
    return request.resource_type in {"image", "media", "font", "stylesheet", "texttrack", "manifest"}


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
    failure = status_failure(status)
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
    if "followers" not in found:
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
    for link in soup.find_all("a", href=True):
        try:
            match = _VIDEO_LINK.search(urljoin(url or "https://www.youku.com/", link["href"]))
        except ValueError:  # a malformed href in the page: not a video link
            continue
        if not match or any(p.post_id == match.group(1) for p in posts):
            continue
        title = (link.get("title") or link.get_text(" ", strip=True) or "").strip() or None
        posts.append(Post(platform=PLATFORM, post_id=match.group(1), url=VIDEO_URL.format(video_id=match.group(1)),
                          title=title, kind="video"))
    return tuple(posts)
