"""What parsers return: a profile, a page of posts, or a typed failure.

Every count is ``int | None``: ``None`` means "not read", never zero.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Union

from records.failures import Failure

#: Count fields of a profile, in output order. ``approximate`` and ``lower_bound`` name these.
COUNT_FIELDS: tuple[str, ...] = ("followers", "following", "posts", "likes", "views")


@dataclass(frozen=True)
class Post:
    """One recent post, video or live stream. Counts are ``None`` when not shown."""

    platform: str
    post_id: str
    url: str | None = None
    published_at: datetime | None = None  # timezone-aware UTC
    text: str | None = None
    title: str | None = None  # videos and live streams
    kind: str = "post"  # post | video | live
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None
    views: int | None = None
    approximate: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["published_at"] = _iso(self.published_at)
        data["approximate"] = list(self.approximate)
        return data


@dataclass(frozen=True)
class Profile:
    """What one platform says about one account at one moment."""

    platform: str
    platform_user_id: str | None = None
    #: The platform's second id for the same account, when its answer names both: Douyin's
    #: numeric ``uid`` (``platform_user_id`` holds the ``sec_uid`` its URLs use) and TikTok's
    #: ``secUid`` (beside the numeric ``id``).
    other_user_id: str | None = None
    handle: str | None = None  # without "@"
    display_name: str | None = None
    followers: int | None = None
    following: int | None = None
    posts: int | None = None
    likes: int | None = None
    views: int | None = None
    verified: bool | None = None
    verified_reason: str | None = None
    bio: str | None = None
    ip_location: str | None = None  # place name, without the "IP属地：" prefix
    location: str | None = None  # self-declared location text, when the platform has one
    country: str | None = None  # ISO 3166-1 alpha-2
    joined_at: datetime | None = None  # when the account was created, as the platform states it (UTC)
    approximate: tuple[str, ...] = ()  # count fields read from rounded display text
    lower_bound: tuple[str, ...] = ()  # count fields that are lower bounds ("10万+")
    links: tuple[str, ...] = ()  # external links shown on the profile (bio links, websites)
    recent_posts: tuple[Post, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The object ``wangzi parse`` prints (documented in README)."""
        return {
            "platform": self.platform,
            "platform_user_id": self.platform_user_id,
            "other_user_id": self.other_user_id,
            "handle": self.handle,
            "display_name": self.display_name,
            "followers": self.followers,
            "following": self.following,
            "posts": self.posts,
            "likes": self.likes,
            "views": self.views,
            "verified": self.verified,
            "verified_reason": self.verified_reason,
            "bio": self.bio,
            "ip_location": self.ip_location,
            "location": self.location,
            "country": self.country,
            "joined_at": _iso(self.joined_at),
            "approximate": list(self.approximate),
            "lower_bound": list(self.lower_bound),
            "links": list(self.links),
            "recent_posts": [p.to_json() for p in self.recent_posts],
        }


@dataclass(frozen=True)
class PostPage:
    """A page of posts with no profile numbers (e.g. Weibo's ``107603{uid}`` container)."""

    platform: str
    platform_user_id: str | None = None
    posts: tuple[Post, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "platform_user_id": self.platform_user_id,
            "posts": [p.to_json() for p in self.posts],
        }


#: What every platform parser returns.
ParseResult = Union[Profile, PostPage, Failure]


def merge_profiles(profiles: list[Profile]) -> Profile:
    """Combine what several endpoints said about one account into one profile.

    Earlier profiles win field by field (spiders list their most trusted source first);
    a value from a later source fills only what earlier ones left ``None``. The
    ``approximate`` and ``lower_bound`` flags follow the value that was kept.
    """
    if not profiles:
        raise ValueError("merge_profiles needs at least one profile")
    values: dict[str, Any] = {}
    approx: set[str] = set()
    lower: set[str] = set()
    links: list[str] = []
    posts: dict[str, Post] = {}
    scalar_fields = [
        f.name
        for f in dataclasses.fields(Profile)
        if f.name not in {"approximate", "lower_bound", "links", "recent_posts"}
    ]
    for profile in profiles:
        for name in scalar_fields:
            value = getattr(profile, name)
            if values.get(name) is None and value is not None:
                values[name] = value
                if name in profile.approximate:
                    approx.add(name)
                if name in profile.lower_bound:
                    lower.add(name)
        links.extend(link for link in profile.links if link not in links)
        for post in profile.recent_posts:
            posts.setdefault(post.post_id, post)
    return Profile(
        **values,
        approximate=tuple(sorted(approx)),
        lower_bound=tuple(sorted(lower)),
        links=tuple(links),
        recent_posts=tuple(posts.values()),
    )


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
