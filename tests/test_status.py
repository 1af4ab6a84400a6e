"""HTTP status -> typed failure (spiders/pages/status.py): the one rule every page module shares."""

from __future__ import annotations

from records import Failure, FailureKind
from spiders.pages.status import status_failure

FEED = {404: (FailureKind.NOT_FOUND, "HTTP 404 for the feed"), 429: (FailureKind.RATE_LIMITED, "HTTP 429 for the feed")}


def test_below_400_and_no_status_are_no_failure() -> None:
    assert status_failure(None) is None and status_failure(200) is None and status_failure(302) is None


def test_a_listed_status_has_the_platforms_meaning_and_an_unlisted_one_is_http_error() -> None:
    assert status_failure(404, FEED) == Failure(FailureKind.NOT_FOUND, "HTTP 404 for the feed", 404)
    assert status_failure(503, FEED) == Failure(FailureKind.HTTP_ERROR, "HTTP 503", 503)
    assert status_failure(429, what="feed") == Failure(FailureKind.RATE_LIMITED, "feed: HTTP 429", 429)


def test_a_platform_words_an_unlisted_status_its_own_way_or_leaves_it_to_the_body() -> None:
    worded = status_failure(503, FEED, otherwise=(FailureKind.HTTP_ERROR, "HTTP {status} for the feed"))
    assert worded == Failure(FailureKind.HTTP_ERROR, "HTTP 503 for the feed", 503)
    assert status_failure(403, FEED, otherwise=None) is None  # a wall page sent with a 403: the parser reads it
    assert status_failure(429, FEED, otherwise=None) == Failure(FailureKind.RATE_LIMITED, "HTTP 429 for the feed", 429)
