"""Check what spiders yield against the data rules before anything is stored.

An item that breaks them (a negative count, a country that is not an ISO code, ...) becomes
an ``unrecognized`` failure instead of being stored: a parser that started reading garbage
must show up as failures, not as numbers.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from typing import Any

from scrapy import Spider
from scrapy.crawler import Crawler

from records import COUNT_FIELDS, Failure, FailureItem, FailureKind, PostsItem, ProfileItem

logger = logging.getLogger(__name__)

_ISO2 = re.compile(r"^[A-Z]{2}$")


def profile_problems(item: ProfileItem) -> list[str]:
    """What is wrong with a profile item (empty when it may be stored)."""
    profile = item.profile
    problems = []
    for name in COUNT_FIELDS:
        value = getattr(profile, name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            problems.append(f"{name}={value!r} is not a non-negative integer")
    for name in (*profile.approximate, *profile.lower_bound):
        if name not in COUNT_FIELDS:
            problems.append(f"approximate/lower_bound names unknown field {name!r}")
        elif getattr(profile, name) is None:
            problems.append(f"{name} is flagged approximate but has no value")
    if profile.country is not None and not _ISO2.match(profile.country):
        problems.append(f"country={profile.country!r} is not an ISO 3166-1 alpha-2 code")
    if profile.handle is not None and profile.handle.startswith("@"):
        problems.append("handle starts with '@'")
    if profile.ip_location is not None and "属地" in profile.ip_location:
        problems.append("ip_location still carries the IP属地 prefix")
    if profile.platform != item.account.platform:
        problems.append(f"profile platform {profile.platform!r} != account platform {item.account.platform!r}")
    if all(getattr(profile, f) is None for f in (*COUNT_FIELDS, "display_name", "handle", "platform_user_id")):
        problems.append("the profile holds no data at all")
    return problems


class ValidationPipeline:
    """Check profile and post items against the data rules before anything is stored."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidationPipeline:
        return cls(crawler)

    def process_item(self, item: Any, spider: Spider | None = None) -> Any:
        if isinstance(item, ProfileItem):
            problems = profile_problems(item)
            if problems:
                self.crawler.stats.inc_value("wangzi/invalid_items")
                detail = "invalid profile: " + "; ".join(problems)
                logger.warning("%s %s", item.provenance.source_url, detail)
                return FailureItem(
                    account=item.account,
                    failure=Failure(FailureKind.UNRECOGNIZED, detail[:300], item.provenance.http_status),
                    url=item.provenance.source_url,
                )
        elif isinstance(item, PostsItem):
            good = tuple(
                p for p in item.posts
                if all(getattr(p, f) is None or (isinstance(getattr(p, f), int) and getattr(p, f) >= 0)
                       for f in ("likes", "comments", "shares", "views"))
            )
            if len(good) != len(item.posts):
                self.crawler.stats.inc_value("wangzi/invalid_posts", len(item.posts) - len(good))
                item = replace(item, posts=good)
        return item
