"""The parser contract's edges: running a parser safely and trimming what it read.

A pure parser takes ``(payload, url, status)`` and returns a record (``Profile``,
``PostPage`` or ``Failure``; the press parsers return their own records: ``NewsFeed``,
``ArticlePage``, ...). :func:`safe_parse` is how spiders, ``wangzi parse`` and the
fixture tests call one: whatever the parser raises becomes a typed failure, so a parser bug
or a format change is stored as ``unrecognized`` and never stops a crawl. Given ``max_bytes``
(the spiders pass ``WANGZI_PARSE_MAX_BYTES``), it refuses a larger answer unread, as
``unrecognized`` saying its size: no parser's cost can grow past what a real page needs.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any, TypeVar, overload

from records import Failure, FailureKind, ParseError, ParseResult, PostPage, Profile

logger = logging.getLogger(__name__)

#: A pure parser: payload bytes, the response URL and HTTP status in, a record out.
Parser = Callable[[bytes, str, int], ParseResult]
#: What an account parser returns besides a ``Failure``: the records ``safe_parse`` expects by default.
ACCOUNT_RESULTS: tuple[type, ...] = (Profile, PostPage)

R = TypeVar("R")


def parser_crash(parser: Any, exc: Exception, url: str | None, status: int | None) -> Failure:
    """A parser raised: log the traceback once and answer ``unrecognized`` (a parser bug or a
    format change is exactly what that kind is for)."""
    logger.exception("parser %r raised on %s", getattr(parser, "__name__", parser), url, exc_info=exc)
    return Failure(FailureKind.UNRECOGNIZED, f"parser error: {type(exc).__name__}: {exc}"[:300], status)


@overload
def safe_parse(parser: Callable[..., Any], payload: bytes, url: str | None, status: int | None, *,
               max_bytes: int | None = None) -> ParseResult: ...


@overload
def safe_parse(parser: Callable[..., Any], payload: bytes, url: str | None, status: int | None, *,
               expected: tuple[type[R], ...], max_bytes: int | None = None, **parser_kwargs: Any) -> R | Failure: ...


def safe_parse(parser: Callable[..., Any], payload: bytes, url: str | None, status: int | None, *,
               expected: tuple[type, ...] = ACCOUNT_RESULTS, max_bytes: int | None = None,
               **parser_kwargs: Any) -> Any:
    """Run a parser and turn anything it raises into a typed failure.

    ``ParseError`` carries its own kind; any other exception is a parser bug or a
    format change, which is exactly what ``unrecognized`` is for. A result that is neither
    a ``Failure`` nor one of the ``expected`` records is ``unrecognized`` too, so the caller
    can rely on its type. ``parser_kwargs`` go to the parser (an article page's ``aliases``).
    A payload over ``max_bytes`` (None or 0: no limit) is ``unrecognized`` without being parsed.
    """
    if max_bytes and len(payload) > max_bytes:
        return Failure(FailureKind.UNRECOGNIZED, f"answer of {len(payload):,} bytes is over WANGZI_PARSE_MAX_BYTES "
                                                 f"({max_bytes:,}): not parsed", status)
    try:
        result = parser(payload, url, status, **parser_kwargs)
    except ParseError as exc:
        return exc.failure
    except Exception as exc:  # noqa: BLE001 - the crawl must go on; the failure is stored
        return parser_crash(parser, exc, url, status)
    if not isinstance(result, (*expected, Failure)):
        return Failure(FailureKind.UNRECOGNIZED, f"parser returned {type(result).__name__}", status)
    return result


def limit_posts(parser: Parser, limit: int) -> Parser:
    """``parser``, keeping at most ``limit`` posts of what it reads (a profile's recent posts
    or a page of posts): the platforms send a fixed page size, ``WANGZI_RECENT_POSTS`` decides."""

    def parse_limited(payload: bytes, url: str, status: int) -> ParseResult:
        result = parser(payload, url, status)
        if isinstance(result, Profile) and len(result.recent_posts) > limit:
            return dataclasses.replace(result, recent_posts=result.recent_posts[:limit])
        if isinstance(result, PostPage) and len(result.posts) > limit:
            return dataclasses.replace(result, posts=result.posts[:limit])
        return result

    parse_limited.__name__ = getattr(parser, "__name__", "parse")
    return parse_limited
