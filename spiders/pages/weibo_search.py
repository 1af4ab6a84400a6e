"""Weibo search answers on m.weibo.cn: user search and post search.

What is read, and from where:

* ``m.weibo.cn/api/container/getIndex?containerid=100103type=3&q=Q&page_type=searchall&page=N``
  (users) and ``...100103type=1&q=Q...`` (综合: posts, with a few user cards) answer the same
  container JSON as a profile's post list: ``data.cards[]``, a card either holding an
  ``mblog`` (``card_type`` 9) or a ``card_group[]`` of cards (``card_type`` 11), where a user
  card (``card_type`` 10) holds ``user`` and ``desc2`` ("粉丝：143"). Field paths as the
  profile parser reads them (:mod:`spiders.pages.weibo`; the 2019 ``107603`` post sample and a
  real ``card_type`` 10 card of a fans list); the search containerids from the projects that
  call them (dataabc/weibo-crawler ``weibo.py`` ``100103type=401&q=``, Xarrow/weibo-scraper
  ``search_by_name`` ``100103type=3&q=`` user search, many ``100103type=1&q=`` keyword scrapers).
* a user card's ``user.{id, screen_name, description, followers_count, verified,
  verified_reason}``: ``followers_count`` is an integer or display text ("87万"), read with
  :func:`enrichment.numbers.parse_count` (rounded text is marked approximate);
* an ``mblog``: its ``user`` (the author: the hit), ``text`` (HTML, read as the profile parser
  reads posts: ``@name`` mentions and ``#topic#`` tags kept as text), ``region_name``
  ("发布于 上海", the place the post was sent from: the hit's IP location), the post URL;
* ``data.cardlistInfo.page``: the next page's number (null on the last page).

Failures are the profile parser's (:func:`spiders.pages.weibo.api_failure` and its status
table): ``ok: -100`` with a geetest/verification URL -> captcha, a login URL -> login_required,
"频繁" -> rate_limited, HTTP 403/418/432 -> blocked, 429 -> rate_limited. ``ok: 0`` with "这里还
没有内容" is not a failure here: a search that finds nothing is an empty page.

Pure: bytes in, a :class:`records.leads.SearchPage` or ``Failure`` out.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from enrichment.places import country_code
from records import Failure, FailureKind
from records.leads import Hit, SearchPage
from spiders.pages.payload import FieldCounts, as_bool, as_dict, clean_text, count, json_object
from spiders.pages.status import status_failure
from spiders.pages.weibo import POST_URL, STATUSES, UID, api_failure, html_text

PARSER_VERSION = "1"
PLATFORM = "weibo"
#: The m.weibo.cn search container: ``type=3`` users, ``type=1`` everything (posts first).
SEARCH_URL = "https://m.weibo.cn/api/container/getIndex?containerid={containerid}&page_type=searchall&page={page}"
SEARCH_TYPES = {"users": "3", "posts": "1", "resolve": "3"}
_REGION = re.compile(r"^\s*发布于\s*")


def search_url(kind: str, keyword: str, page: int) -> str:
    """The search container's URL for ``keyword`` (``kind`` users/posts/resolve), page ``page``."""
    containerid = f"100103type={SEARCH_TYPES[kind]}&q={keyword}"
    return SEARCH_URL.format(containerid=quote(containerid, safe=""), page=page)


def _uid(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    text = str(value).strip() if isinstance(value, (int, str)) else ""
    return text if UID.match(text) else None


def _user_fields(user: dict[str, Any]) -> dict[str, Any]:
    counts = FieldCounts.read({"followers": user.get("followers_count")})
    verified = as_bool(user.get("verified"))
    return {
        "platform_user_id": _uid(user.get("id")),
        "display_name": clean_text(user.get("screen_name")),
        "followers": counts.get("followers"),
        "followers_approximate": "followers" in counts.approximate,
        "verified": verified,
        "bio": clean_text(user.get("description")),
    }


def user_hit(card: dict[str, Any]) -> Hit | None:
    """A user card (``card_type`` 10): ``user``; ``desc2`` ("粉丝：143") when the user object has
    no follower count."""
    fields = _user_fields(as_dict(card.get("user")))
    if fields["platform_user_id"] is None:
        return None
    if fields["followers"] is None:
        shown = clean_text(card.get("desc2"))
        if shown and shown.startswith("粉丝"):
            counts = FieldCounts.read({"followers": shown.split("：", 1)[-1].split(":", 1)[-1]})
            fields["followers"] = counts.get("followers")
            fields["followers_approximate"] = "followers" in counts.approximate
    return Hit(platform=PLATFORM, via="user", **fields)


def post_hit(mblog: dict[str, Any]) -> Hit | None:
    """A post: its author, with the post's text and the place it was sent from."""
    fields = _user_fields(as_dict(mblog.get("user")))
    if fields["platform_user_id"] is None:
        return None
    post_id = _uid(mblog.get("idstr")) or clean_text(str(mblog.get("mid") or mblog.get("id") or "")) or None
    region = clean_text(mblog.get("region_name"))
    place = clean_text(_REGION.sub("", region)) if region else None
    return Hit(
        platform=PLATFORM,
        post_url=POST_URL.format(post_id=post_id) if post_id and post_id.isdigit() else None,
        text=html_text(mblog.get("text")),
        ip_location=place,
        country=country_code(place),
        via="author",
        **fields,
    )


def _cards(cards: Any) -> list[dict[str, Any]]:
    """Every card, those inside ``card_group`` lists too, in document order."""
    found: list[dict[str, Any]] = []
    for card in cards if isinstance(cards, list) else []:
        if not isinstance(card, dict):
            continue
        found.append(card)
        found.extend(_cards(card.get("card_group")))
    return found


def parse(payload: bytes, url: str | None = None, status: int | None = 200) -> SearchPage | Failure:
    """A search container answer -> SearchPage or typed Failure. Never raises for bad input."""
    failure = status_failure(status, STATUSES)
    if failure is not None:
        return failure
    document = json_object(payload, status)
    if isinstance(document, Failure):
        return document
    containerid = (parse_qs(urlsplit(url).query).get("containerid") or [""])[0] if url else ""
    kind = "users" if "type=3" in containerid else "posts"
    if document.get("ok") == 0 and "这里还没有内容" in str(document.get("msg") or ""):
        return SearchPage(platform=PLATFORM, kind=kind)  # the search found nothing
    failure = api_failure(document, status)
    if failure is not None:
        return failure
    data = document.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("cards"), list):
        return Failure(FailureKind.UNRECOGNIZED, "search answer without data.cards", status)
    hits: list[Hit] = []
    for card in _cards(data["cards"]):
        if isinstance(card.get("mblog"), dict):
            hit = post_hit(card["mblog"])
        elif isinstance(card.get("user"), dict):
            hit = user_hit(card)
        else:
            continue
        if hit is not None:
            hits.append(hit)
    page = count(as_dict(data.get("cardlistInfo")).get("page"))
    return SearchPage(platform=PLATFORM, kind=kind, hits=tuple(hits), next_page=str(page) if page else None)
