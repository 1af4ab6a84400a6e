"""Bilibili search answers: user search and video search (``x/web-interface/wbi/search/type``).

What is read, and from where (field paths from SocialSisterYi/bilibili-API-collect
``docs/search/search_request.md`` and ``search_response.md``):

* the envelope ``data.{page, numPages, result[]}``: ``page < numPages`` names the next page;
* ``search_type=bili_user`` items (``type: "bili_user"``): ``mid``, ``uname``, ``usign`` (the
  bio), ``fans`` (followers, an exact number), ``official_verify.type`` (0 personal, 1
  organisation; 127 or -1 none), ``res[].title`` (the user's three latest videos: the text
  brands and languages are read from);
* ``search_type=video`` items (``type: "video"``): the author's ``mid`` and ``author``, the
  video's ``title`` (search terms wrapped in ``<em class="keyword">``, removed here),
  ``description``, ``tag`` (comma-separated), ``arcurl``/``bvid`` (the post URL).

The endpoint is WBI-signed like ``x/space/wbi/acc/info`` (:func:`search_url` signs with
:func:`spiders.pages.bilibili.signed_url`, keys from ``x/web-interface/nav``) and wants a
``buvid3`` cookie (the doc: "如果Cookies不足会返回-412"); :func:`buvid3` makes one locally, as
the doc recommends ("建议自行生成"), so no request is spent on it.

Failures are Bilibili's own (:func:`spiders.pages.bilibili.code_failure`, the same code
table): -412/-352 blocked (risk control, missing cookie), -799/-509 rate_limited, -101
login_required, a ``v_voucher`` answer blocked, HTTP 412 blocked, 429 rate_limited;
-1200 (a search type that does not exist) and anything else unknown are unrecognized.

Pure: bytes in, a :class:`records.leads.SearchPage` or ``Failure`` out.
"""

from __future__ import annotations

import html
import random
import re
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

from records import PLATFORM_TABLE, Failure, FailureKind
from records.leads import Hit, SearchPage
from spiders.pages.bilibili import STATUSES, code_failure, signed_url
from spiders.pages.payload import as_dict, clean_text, count, load_json
from spiders.pages.status import status_failure

PARSER_VERSION = "1"
PLATFORM = "bilibili"
SEARCH_URL = "https://api.bilibili.com/x/web-interface/wbi/search/type"
VIDEO_URL = "https://www.bilibili.com/video/{bvid}"
#: ``search_type`` for each kind of search.
SEARCH_TYPES = {"users": "bili_user", "posts": "video", "resolve": "bili_user"}
#: Verification types that mean none (the search doc says 127; profiles use -1).
_NO_VERIFICATION = {127, -1}
_MID = PLATFORM_TABLE[PLATFORM].user_id
_TAGS = re.compile(r"<[^>]+>")


def search_url(kind: str, keyword: str, page: int, img_key: str, sub_key: str, wts: int | None = None) -> str:
    """The WBI-signed search URL for ``keyword`` (``kind`` users/posts/resolve), page ``page``."""
    return signed_url(SEARCH_URL, {"search_type": SEARCH_TYPES[kind], "keyword": keyword, "page": page},
                      img_key, sub_key, wts)


def buvid3(rng: random.Random | None = None) -> str:
    """A ``buvid3`` cookie value as the web app makes it: an upper-case UUID, five digits, ``infoc``."""
    rng = rng or random.Random()
    token = str(uuid.UUID(int=rng.getrandbits(128))).upper()
    return f"{token}{rng.randrange(10000, 100000)}infoc"


def _plain(value: Any) -> str | None:
    """A title with the search's ``<em class="keyword">`` marks and HTML entities removed."""
    text = clean_text(value)
    return clean_text(html.unescape(_TAGS.sub("", text))) if text else None


def _mid(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    text = str(value).strip() if isinstance(value, (int, str)) else ""
    return text if _MID.match(text) and int(text) > 0 else None


def _joined(*parts: str | None) -> str | None:
    kept = [p for p in parts if p]
    return "\n".join(kept) if kept else None


def user_hit(item: dict[str, Any]) -> Hit | None:
    """A ``bili_user`` result."""
    mid = _mid(item.get("mid"))
    if mid is None:
        return None
    verify = as_dict(item.get("official_verify"))
    kind = verify.get("type")
    verified = None if not isinstance(kind, int) or isinstance(kind, bool) else kind not in _NO_VERIFICATION
    videos = [as_dict(v) for v in item.get("res") or [] if isinstance(v, dict)]
    return Hit(
        platform=PLATFORM,
        platform_user_id=mid,
        display_name=_plain(item.get("uname")),
        followers=count(item.get("fans")),
        verified=verified,
        bio=clean_text(item.get("usign")),
        text=_joined(*(_plain(v.get("title")) for v in videos)),
        via="user",
    )


def video_hit(item: dict[str, Any]) -> Hit | None:
    """A ``video`` result: its author, with the video's title, description and tags as text."""
    mid = _mid(item.get("mid"))
    if mid is None:
        return None
    bvid = clean_text(item.get("bvid"))
    tags = clean_text(item.get("tag"))
    return Hit(
        platform=PLATFORM,
        platform_user_id=mid,
        display_name=_plain(item.get("author")),
        post_url=VIDEO_URL.format(bvid=bvid) if bvid else clean_text(item.get("arcurl")),
        text=_joined(_plain(item.get("title")), _plain(item.get("description")),
                     " ".join(f"#{t.strip()}" for t in tags.split(",") if t.strip()) if tags else None),
        via="author",
    )


def parse(payload: bytes, url: str | None = None, status: int | None = 200) -> SearchPage | Failure:
    """A search/type answer -> SearchPage or typed Failure. Never raises for bad input."""
    parts = urlsplit(url) if url else None
    if parts and (parts.netloc.lower().startswith("passport.") or "/login" in parts.path):
        return Failure(FailureKind.LOGIN_REQUIRED, f"redirected to a login page ({parts.netloc}{parts.path})", status)
    document = load_json(payload)
    if isinstance(document, dict) and isinstance(document.get("code"), int) and document["code"] != 0:
        return code_failure(document, status)
    failure = status_failure(status, STATUSES)
    if failure is not None:
        return failure
    if not isinstance(document, dict) or "data" not in document:
        what = "HTML" if payload.lstrip()[:1] == b"<" else "empty body" if not payload.strip() else "not Bilibili API JSON"
        return Failure(FailureKind.UNRECOGNIZED, f"{what} instead of a Bilibili search answer", status)
    data = document["data"]
    if isinstance(data, dict) and "v_voucher" in data:
        return Failure(FailureKind.BLOCKED, "risk control answered a v_voucher instead of results: the WBI "
                                            "signature or the buvid3 cookie was refused, or this IP is flagged", status)
    if not isinstance(data, dict):
        return Failure(FailureKind.UNRECOGNIZED, "search answer without a data object", status)
    results = data.get("result")
    if results is None and count(data.get("numResults")) == 0:
        results = []  # nothing found: the answer leaves result out
    if not isinstance(results, list):
        return Failure(FailureKind.UNRECOGNIZED, "search answer without data.result[] (live search is not read)", status)
    wanted = (parse_qs(parts.query).get("search_type") or [None])[0] if parts else None
    hits: list[Hit] = []
    for item in results:
        item = as_dict(item)
        kind = item.get("type")
        hit = user_hit(item) if kind == "bili_user" else video_hit(item) if kind == "video" else None
        if hit is not None:
            hits.append(hit)
    if wanted is None:
        wanted = "video" if any(h.via == "author" for h in hits) else "bili_user"
    page, pages = count(data.get("page")), count(data.get("numPages"))
    next_page = str(page + 1) if page is not None and pages is not None and page < pages else None
    return SearchPage(platform=PLATFORM, kind="posts" if wanted == "video" else "users", hits=tuple(hits),
                      next_page=next_page)
