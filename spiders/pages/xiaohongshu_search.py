"""Xiaohongshu search answers: the search page Chromium renders, and saved search API answers.

What is read, and from where:

* the search page ``www.xiaohongshu.com/search_result?keyword=Q`` rendered by Chromium. The
  site's own scripts sign and send the search calls and keep the results in the page's store,
  ``window.__INITIAL_STATE__.search``: ``feeds`` (notes) and ``userLists`` (users, filled once
  the "用户" tab is opened), each a Vue ref (``_rawValue``/``_value``/``value``). The spider's
  page script (:data:`SNAPSHOT_SCRIPT`) opens the user tab, waits for the results and copies
  both lists into ``<script type="application/json" id="wangzi-search-state">`` so the page's
  HTML carries them; without that element the store of the served HTML is read. Field paths
  as xpzouying/xiaohongshu-mcp reads them (``xiaohongshu/search.go``, ``search_user.go``,
  ``types.go``; XHS-Downloader reads the same two lists):

  - ``feeds[]`` with ``modelType: "note"`` (live cards and hot queries are skipped):
    ``id``, ``noteCard.{displayTitle, type, user.{userId, nickname|nickName}}``;
  - ``userLists[]``: ``id``, ``name``, ``redId``, ``fans`` ("1.2万"), ``redOfficialVerified``,
    ``subTitle``, ``profession``;
* ``/api/sns/web/v1/search/usersearch`` answers (``data.users[]``: ``id``, ``name``,
  ``red_id``, ``fans``, ``red_official_verified``; a real one is in our samples) and
  ``/api/sns/web/v1/search/notes`` answers (``data.items[]``: ``model_type``, ``id``,
  ``note_card.{display_title, user.{user_id, nickname|nick_name}}``), for saved answers.

Failures are the profile parser's (:mod:`spiders.pages.xiaohongshu`): a final URL on the
verification page -> captcha, on the login page -> login_required, HTTP 461/471 -> blocked, an
API ``success: false`` through its code table, a risk-control page ("IP存在风险") -> blocked.

The search page shows one screen of results: no next page is read from it.

Pure: bytes in, a :class:`records.leads.SearchPage` or ``Failure`` out.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote, urlsplit

from records import Failure, FailureKind
from records.leads import Hit, SearchPage
from spiders.pages.payload import FieldCounts, as_bool, as_dict, clean_text, json_object, load_json
from spiders.pages.status import status_failure
from spiders.pages.xiaohongshu import (
    NOTE_URL,
    RISK_WORDS,
    STATUSES,
    USER_ID,
    api_failure,
    failure_from_location,
    initial_state,
    unref,
)

PARSER_VERSION = "1"
PLATFORM = "xiaohongshu"
SEARCH_PAGE_URL = "https://www.xiaohongshu.com/search_result?keyword={keyword}&source=web_search_result_notes"
SNAPSHOT_ID = "wangzi-search-state"
_SNAPSHOT = re.compile(r'<script[^>]*id="' + SNAPSHOT_ID + r'"[^>]*>(.*?)</script>', re.DOTALL)

#: Run in the rendered search page (scrapy-playwright ``PageMethod("evaluate", ...)``): wait up
#: to ~6 s for the notes, open the user tab and wait up to ~4 s for the users, then copy both
#: lists into the document. Never throws: a page without a store (a login wall, a risk-control
#: page) is left as it is for the parser to name.
SNAPSHOT_SCRIPT = """async () => {
  const pause = (ms) => new Promise((done) => setTimeout(done, ms));
  const plain = (ref) => ref == null ? ref : (ref._rawValue ?? ref._value ?? ref.value ?? ref);
  const search = () => (window.__INITIAL_STATE__ || {}).search || {};
  const listed = (name) => { const v = plain(search()[name]); return Array.isArray(v) ? v : []; };
  for (let i = 0; i < 24 && !listed('feeds').length; i++) await pause(250);
  const tab = document.querySelector('div#user.channel');
  if (tab) { tab.click(); for (let i = 0; i < 16 && !listed('userLists').length; i++) await pause(250); }
  try {
    const state = {feeds: listed('feeds'), userLists: listed('userLists'), hasMore: plain(search().hasMore) ?? null};
    const node = document.createElement('script');
    node.type = 'application/json';
    node.id = '""" + SNAPSHOT_ID + """';
    node.textContent = JSON.stringify(state).replace(/</g, '\\\\u003c');
    document.body.appendChild(node);
  } catch (error) { /* an unserialisable store: the served HTML's state is read instead */ }
}"""


def search_page_url(keyword: str) -> str:
    return SEARCH_PAGE_URL.format(keyword=quote(keyword, safe=""))


def _user_id(value: Any) -> str | None:
    text = clean_text(value)
    return text.lower() if text and USER_ID.match(text.lower()) else None


def user_hit(user: dict[str, Any]) -> Hit | None:
    """A user of ``userLists`` (camelCase) or of the usersearch API (snake_case)."""
    user_id = _user_id(user.get("id"))
    if user_id is None:
        return None
    counts = FieldCounts.read({"followers": user.get("fans")})
    verified = as_bool(user.get("redOfficialVerified"))
    if verified is None:
        verified = as_bool(user.get("red_official_verified"))
    return Hit(
        platform=PLATFORM,
        platform_user_id=user_id,
        handle=clean_text(user.get("redId")) or clean_text(user.get("red_id")),
        display_name=clean_text(user.get("name")) or clean_text(user.get("nickname")),
        followers=counts.get("followers"),
        followers_approximate="followers" in counts.approximate,
        verified=verified,
        bio=clean_text(user.get("profession")),
        via="user",
    )


def note_hit(item: dict[str, Any]) -> Hit | None:
    """A note of ``feeds`` (``noteCard``) or of the notes API (``note_card``): its author."""
    if (item.get("modelType") or item.get("model_type")) not in ("note", None):
        return None
    card = as_dict(item.get("noteCard")) or as_dict(item.get("note_card"))
    user = as_dict(card.get("user"))
    user_id = _user_id(user.get("userId")) or _user_id(user.get("user_id"))
    if user_id is None:
        return None
    note_id = clean_text(item.get("id")) or clean_text(card.get("noteId")) or clean_text(card.get("note_id"))
    return Hit(
        platform=PLATFORM,
        platform_user_id=user_id,
        display_name=clean_text(user.get("nickname")) or clean_text(user.get("nickName")) or clean_text(user.get("nick_name")),
        post_url=NOTE_URL.format(note_id=note_id) if note_id else None,
        text=clean_text(card.get("displayTitle")) or clean_text(card.get("display_title")),
        via="author",
    )


def _page(notes: Any, users: Any) -> SearchPage:
    hits = [h for h in (user_hit(as_dict(u)) for u in (users if isinstance(users, list) else [])) if h]
    hits += [h for h in (note_hit(as_dict(n)) for n in (notes if isinstance(notes, list) else [])) if h]
    return SearchPage(platform=PLATFORM, kind="users" if users else "posts", hits=tuple(hits))


def parse(payload: bytes, url: str | None = None, status: int | None = 200) -> SearchPage | Failure:
    """The rendered search page or a search API answer -> SearchPage or typed Failure."""
    failure = failure_from_location(url, status) or status_failure(status, STATUSES)
    if failure is not None:
        return failure
    if payload.lstrip()[:1] == b"{":
        return parse_api(payload, url, status)
    html = payload.decode("utf-8", errors="replace")
    if not html.strip():
        return Failure(FailureKind.UNRECOGNIZED, "empty page", status)
    snapshot = _SNAPSHOT.search(html)
    if snapshot is not None:
        state = load_json(snapshot.group(1))
        if isinstance(state, dict):
            return _page(state.get("feeds"), state.get("userLists"))
    state = initial_state(html)
    search = as_dict(state.get("search")) if state else {}
    if not search:
        if any(word in html for word in RISK_WORDS):
            return Failure(FailureKind.BLOCKED, "risk-control page (IP存在风险/网络连接异常)", status)
        return Failure(FailureKind.UNRECOGNIZED, "search page without a search store", status)
    return _page(unref(search.get("feeds")), unref(search.get("userLists")))


def parse_api(payload: bytes, url: str | None = None, status: int | None = 200) -> SearchPage | Failure:
    """``search/usersearch`` (``data.users[]``) or ``search/notes`` (``data.items[]``)."""
    document = json_object(payload, status)
    if isinstance(document, Failure):
        return document
    failure = api_failure(document, status)
    if failure is not None:
        return failure
    data = as_dict(document.get("data"))
    if isinstance(data.get("users"), list):
        return _page(None, data["users"])
    if isinstance(data.get("items"), list):
        return _page(data["items"], None)
    path = urlsplit(url).path if url else ""
    return Failure(FailureKind.UNRECOGNIZED, f"search answer without data.users[] or data.items[] ({path or 'no URL'})",
                   status)


def snapshot_json(feeds: list[Any], users: list[Any]) -> str:
    """What :data:`SNAPSHOT_SCRIPT` writes, for building test pages: the state as JSON with ``<``
    escaped, so no value can close the script element."""
    return json.dumps({"feeds": feeds, "userLists": users, "hasMore": None}, ensure_ascii=False).replace("<", "\\u003c")
