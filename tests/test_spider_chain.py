"""How the base spider walks an account's chain of sources, and how spiders reshape it."""

from __future__ import annotations

from typing import Any

from scrapy.http import Request

from records import AccountRef, Failure, FailureItem, FailureKind, ParseResult, Profile
from spiders.base import AccountSpider, Source


def _never(payload: bytes, url: str, status: int) -> ParseResult:
    raise AssertionError("not called in these tests")


class _Spider(AccountSpider):
    name = "chain_test"
    platform = "chain_test"

    def sources(self, account: AccountRef) -> list[Source]:
        return [Source(f"https://example.test/{n}", _never, f"chain_test.{n}") for n in ("a", "b")]


class _FollowUp(_Spider):
    """Adds a request that only the first answer names (like YouTube's about continuation)."""

    def next_sources(
        self, account: AccountRef, source: Source, result: ParseResult, payload: bytes | None, remaining: list[Source]
    ) -> list[Source]:
        remaining = super().next_sources(account, source, result, payload, remaining)
        if payload and source.name == "chain_test.a":
            token = payload.decode()
            return [Source(f"https://example.test/more?t={token}", _never, "chain_test.more"), *remaining]
        return remaining


ACCOUNT = AccountRef("chain_test", handle="someone")


def _step(spider: AccountSpider, result: ParseResult, payload: bytes | None) -> list[Any]:
    chain = spider.sources(ACCOUNT)
    meta = {"wangzi_account": ACCOUNT, "wangzi_chain": chain, "wangzi_index": 0, "wangzi_results": []}
    return list(spider._advance(meta, (chain[0], result, None, chain[0].url), payload))


def test_the_chain_goes_on_after_an_ordinary_failure() -> None:
    (request,) = _step(_Spider(), Failure(FailureKind.HTTP_ERROR, "500", 500), b"")
    assert isinstance(request, Request) and request.url == "https://example.test/b"


def test_a_final_failure_ends_the_chain_and_is_recorded() -> None:
    for kind in (FailureKind.NOT_FOUND, FailureKind.PRIVATE):
        (item,) = _step(_Spider(), Failure(kind, "gone", 404), b"")
        assert isinstance(item, FailureItem) and item.failure.kind is kind


def test_a_spider_can_insert_a_request_named_by_the_answer() -> None:
    (request,) = _step(_FollowUp(), Profile(platform="chain_test", followers=5), b"tok123")
    assert request.url == "https://example.test/more?t=tok123"
    assert [s.name for s in request.meta["wangzi_chain"]] == ["chain_test.a", "chain_test.more", "chain_test.b"]


def test_after_a_download_error_the_hook_sees_no_payload() -> None:
    (request,) = _step(_FollowUp(), Failure(FailureKind.NETWORK, "refused"), None)
    assert request.url == "https://example.test/b"


def test_limit_posts_cuts_a_profiles_recent_posts_and_a_page_of_posts() -> None:
    from records import Post, PostPage
    from spiders.pages.parsing import limit_posts

    posts = tuple(Post(platform="chain_test", post_id=str(n)) for n in range(5))

    def profile_parser(payload: bytes, url: str, status: int) -> ParseResult:
        return Profile(platform="chain_test", followers=1, recent_posts=posts)

    def page_parser(payload: bytes, url: str, status: int) -> ParseResult:
        return PostPage(platform="chain_test", posts=posts)

    assert [p.post_id for p in limit_posts(profile_parser, 2)(b"", "u", 200).recent_posts] == ["0", "1"]
    assert [p.post_id for p in limit_posts(page_parser, 3)(b"", "u", 200).posts] == ["0", "1", "2"]
    failure = Failure(FailureKind.BLOCKED, "wall", 403)
    assert limit_posts(lambda *_: failure, 1)(b"", "u", 403) is failure
    assert limit_posts(profile_parser, 2).__name__ == "profile_parser"  # stored as the parser's name


def test_a_parser_that_raises_is_an_unrecognized_failure_naming_the_error() -> None:
    from spiders.pages.parsing import safe_parse

    def broken(payload: bytes, url: str, status: int) -> ParseResult:
        raise KeyError("userInfo")

    failure = safe_parse(broken, b"{}", "https://example.test/a", 200)
    assert isinstance(failure, Failure) and failure.kind is FailureKind.UNRECOGNIZED
    assert failure.detail == "parser error: KeyError: 'userInfo'" and failure.status == 200
