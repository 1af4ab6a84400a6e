"""What discovery finds: accounts a search answer or a known creator's profile names, and how.

A search page parser (``spiders/pages/<platform>_search.py``) turns one answer into a
:class:`SearchPage` of :class:`Hit` records (or a typed ``Failure``); the search spiders wrap
each hit in a :class:`LeadItem` saying how it was found (the seed, the query, the post it was
seen in, the hop), and a failed search in a :class:`SearchFailureItem`. The lead pipeline
stores them in the ``lead`` table (``storage/leads.py``). Records only: nothing here reads
a payload or a database.

Discovery reads only what a public search answer or a public profile shows of an account:
never follower lists, never anything behind a login.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from records.failures import Failure

#: How a seed names what to look for. ``keyword`` and ``hashtag`` are searched as text, a
#: ``brand`` by its names in the brand dictionary, a ``creator`` (a registered candidate) is
#: expanded: the accounts their profiles and posts name.
SEED_KINDS: tuple[str, ...] = ("keyword", "hashtag", "brand", "creator")

#: What a search asks for: accounts (``users``) or posts and videos (``posts``, whose authors
#: are the hits); ``resolve`` looks one account up by its exact display name (an @mention).
SEARCH_KINDS: tuple[str, ...] = ("users", "posts", "resolve")

#: How a hit named its account: a user result, the author of a post or video result, a
#: co-creator the platform lists on a video, an @mention, a profile link in a bio.
HIT_VIAS: tuple[str, ...] = ("user", "author", "collaborator", "mention", "link")

#: A lead's review status.
LEAD_STATUSES: tuple[str, ...] = ("new", "promoted", "rejected")


@dataclass(frozen=True)
class Hit:
    """One account a search answer (or a profile's text) names, with what the answer shows of it.

    Every field but ``platform`` may be None: a value not shown is None, never 0. ``text`` is
    what the answer shows the account wrote (its bio, the title and description of the post
    that matched); brands, languages and the pre-score are read from it by the lead pipeline.
    """

    platform: str
    platform_user_id: str | None = None
    handle: str | None = None  # without "@"
    display_name: str | None = None
    followers: int | None = None
    followers_approximate: bool = False  # read from rounded text ("1.2万", "234k subscribers")
    verified: bool | None = None
    bio: str | None = None
    ip_location: str | None = None  # without the "IP属地：" prefix (a Weibo post's "发布于" place)
    country: str | None = None  # ISO 3166-1 alpha-2, via enrichment.places
    post_url: str | None = None  # the post or video it was found through
    text: str | None = None  # title and description of that post (hashtags, @mentions kept)
    via: str = "user"  # one of HIT_VIAS

    def to_json(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "platform_user_id": self.platform_user_id,
            "handle": self.handle,
            "display_name": self.display_name,
            "followers": self.followers,
            "followers_approximate": self.followers_approximate,
            "verified": self.verified,
            "bio": self.bio,
            "ip_location": self.ip_location,
            "country": self.country,
            "post_url": self.post_url,
            "text": self.text,
            "via": self.via,
        }


@dataclass(frozen=True)
class SearchPage:
    """One page of a search answer: its hits, in the platform's order, and how to ask for the
    next page (a page number, a cursor or a continuation token; None when this is the last)."""

    platform: str
    kind: str  # "users" or "posts": what was searched
    hits: tuple[Hit, ...] = ()
    next_page: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The object ``wangzi parse <platform>_search`` prints."""
        return {
            "platform": self.platform,
            "kind": self.kind,
            "next_page": self.next_page,
            "hits": [hit.to_json() for hit in self.hits],
        }


@dataclass(frozen=True)
class SearchQuery:
    """One thing a search spider asks a platform: ``text`` searched as ``kind``, because of a seed.

    ``exact_name`` (with ``kind="resolve"``): keep only the hit whose display name is this one
    (an @mention names an account by its display name on Weibo, Bilibili and Xiaohongshu).
    ``hop`` is the number of graph steps from the seed (0: the seed's own search);
    ``via_account`` names the account whose text named ``exact_name`` ("weibo:1669879400").
    """

    seed_kind: str
    seed: str
    text: str
    kind: str = "users"
    hop: int = 0
    exact_name: str | None = None
    via_account: str | None = None
    post_url: str | None = None


@dataclass
class LeadItem:
    """A hit and how it was found, for the lead pipeline."""

    hit: Hit
    seed_kind: str
    seed: str
    source: str  # "bilibili_search.users", "graph.bio_link" ...
    query: str | None = None
    source_url: str | None = None
    hop: int = 0
    via_account: str | None = None
    found_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))


@dataclass
class SearchFailureItem:
    """A search that gave a typed failure instead of a page. Not a ``FailureItem``: it names no
    account, so account statistics and health's account outcomes leave it alone; it is stored
    as a ``FetchFailure`` of the source ``<platform>_search`` with no account."""

    source: str  # the search spider: "bilibili_search"
    url: str
    failure: Failure
    query: str | None = None
    occurred_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
