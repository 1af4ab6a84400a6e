"""The bottom layer: typed records, items, failure kinds and the platform table.

Everything else imports from here and this package imports nothing of the project (an
import-linter contract in ``make test`` keeps it so). Parsers return records
(:mod:`records.profiles`, :mod:`records.failures`); spiders wrap them in items
(:mod:`records.items`); :mod:`records.platforms` says which platforms exist.
"""

from records.failures import CIRCUIT_DETAIL, Failure, FailureKind, ParseError
from records.items import (
    FEED_SOURCES,
    AccountRef,
    FailureItem,
    FeedFailureItem,
    PostsItem,
    PressMentionItem,
    ProfileItem,
    Provenance,
)
from records.platforms import DOMESTIC_PLATFORMS, OVERSEAS_PLATFORMS, PLATFORM_TABLE, PLATFORMS, Platform, profile_url
from records.profiles import COUNT_FIELDS, ParseResult, Post, PostPage, Profile, merge_profiles

__all__ = [
    "CIRCUIT_DETAIL",
    "COUNT_FIELDS",
    "DOMESTIC_PLATFORMS",
    "FEED_SOURCES",
    "OVERSEAS_PLATFORMS",
    "PLATFORMS",
    "PLATFORM_TABLE",
    "AccountRef",
    "Failure",
    "FailureItem",
    "FailureKind",
    "FeedFailureItem",
    "ParseError",
    "ParseResult",
    "Platform",
    "Post",
    "PostPage",
    "PostsItem",
    "PressMentionItem",
    "Profile",
    "ProfileItem",
    "Provenance",
    "merge_profiles",
    "profile_url",
]
