"""What every platform spider shares: crawl a list of accounts through a chain of sources.

A platform spider only declares *what to request* for one account: an ordered list of
:class:`Source` (URL + pure parser). This base class requests them one after the other
for each account (accounts run concurrently), hands every response to the source's
parser, and yields items:

* one :class:`~records.ProfileItem` per account when at least one source gave a
  profile (several sources are merged, earlier sources winning field by field);
* a :class:`~records.PostsItem` for each page of posts;
* a :class:`~records.FailureItem` for each source that gave a typed failure.

A failure never becomes a snapshot and a parser bug never stops the crawl: an
unexpected exception in a parser is logged and stored as ``unrecognized``.

Parsers run off the reactor (:func:`parse_off_reactor`): a worker thread per answer,
within ``WANGZI_PARSE_TIMEOUT`` seconds and on at most ``WANGZI_PARSE_MAX_BYTES``, so one
hostile page cannot hold every other request of the crawl.

**Fewest requests per refresh.** Each :class:`Source` names the facts its endpoint gives
(``facts``; :data:`FACT_KINDS` says which refresh kind each fact belongs to: ``profiles``
daily, ``details`` weekly, ``posts`` on their own cadence). A scheduled crawl passes the
kinds due per account (``due``); a source none of whose facts is due is not requested (in
the planned chain and in what :meth:`AccountSpider.next_sources` adds). A source with no
``facts`` is always asked. Without ``due`` (lookups, ``scrapy crawl``) everything is asked.

**Identities.** A request that went out through a proxy or a logged-in session (the crawler's
proxy and session middlewares set ``meta["wangzi_identity"]``) and was refused
(:data:`IDENTITY_FAILURES`) is asked again through another identity, at most
``meta["wangzi_identity_retries"]`` times, avoiding the ones that refused it
(``meta["wangzi_avoid"]``), not before ``meta["wangzi_not_before"]`` when the refusal named a
time to come back. Every answer is announced with the :data:`source_answered`
signal so those middlewares can keep each identity's health. A request no identity may carry
(every session expired) raises an exception with ``wangzi_unsent``: that source is skipped,
with no failure stored for what was never asked, and the chain goes on with its next source.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import scrapy
from scrapy.http import Request, Response
from scrapy.settings import BaseSettings
from twisted.python.failure import Failure as TwistedFailure

from records import (
    AccountRef,
    Failure,
    FailureItem,
    FailureKind,
    ParseResult,
    PostPage,
    PostsItem,
    Profile,
    ProfileItem,
    Provenance,
    merge_profiles,
)
from spiders.pages.parsing import ACCOUNT_RESULTS, Parser, safe_parse
from spiders.pages.registry import normalize_account

logger = logging.getLogger(__name__)

#: Statuses handed to parsers instead of being dropped: every 4xx/5xx (a 418 or 461 *is* the
#: answer "blocked"). 3xx are not listed, so redirects are followed and the parser sees the
#: final URL (e.g. a login page).
HANDLED_STATUSES = list(range(400, 600))

#: Failures after which asking the same platform again about the account is pointless.
FINAL_FAILURES = frozenset({FailureKind.NOT_FOUND, FailureKind.PRIVATE})

#: Failures that may be the identity's fault (the proxy's address or the session), not the
#: account's: asked again through another identity when one is left.
IDENTITY_FAILURES = frozenset({FailureKind.BLOCKED, FailureKind.CAPTCHA, FailureKind.RATE_LIMITED,
                               FailureKind.LOGIN_REQUIRED})

#: Signal sent for every answer of an account's chain: ``spider``, ``meta`` (the request's),
#: ``result`` (the parser's verdict or the download error's failure) and ``response`` (None
#: after a download error). The proxy and session pools read their health from it.
source_answered = object()

#: The refresh kind each fact belongs to. ``profiles``: counts, name, bio, verification (they
#: change daily); ``details``: facts that change rarely (where the account is, when it was
#: made, its links); ``posts``: recent posts. The refresh policy gives each kind its cadence.
FACT_KINDS: dict[str, str] = {
    **dict.fromkeys(("followers", "following", "posts", "likes", "views", "display_name", "bio", "verified"), "profiles"),
    **dict.fromkeys(("country", "ip_location", "location", "joined_at", "links"), "details"),
    "recent_posts": "posts",
}
#: Every fact a profile endpoint may give (a source that declares nothing gives these).
PROFILE_FACTS = frozenset(f for f, kind in FACT_KINDS.items() if kind == "profiles")


@dataclass
class Source:
    """One request in an account's chain and the parser for its answer."""

    url: str
    parser: Parser
    name: str  # "<platform>.<endpoint>", stored as the snapshot's parser name
    headers: dict[str, str] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)  # e.g. {"playwright": True}
    method: str = "GET"
    body: bytes | str | None = None
    cookies: dict[str, str] | None = None
    #: The facts this endpoint gives (names of :data:`FACT_KINDS`); empty: always asked.
    facts: frozenset[str] = frozenset()

    @property
    def kinds(self) -> frozenset[str]:
        """The refresh kinds this source serves (see :data:`FACT_KINDS`)."""
        return frozenset(FACT_KINDS[f] for f in self.facts)


def failure_from_exception(failure: TwistedFailure) -> Failure:
    """Map a download error (DNS, refused, timeout, replay miss) to a typed failure."""
    exc = failure.value
    carried = getattr(exc, "wangzi_failure", None)  # e.g. crawler.middlewares.circuit.CircuitOpen
    if isinstance(carried, Failure):
        return carried
    detail = f"{type(exc).__name__}: {exc}"[:300]
    response = getattr(exc, "response", None)
    status = getattr(response, "status", None)
    if status is not None:
        return Failure(FailureKind.HTTP_ERROR, detail, status)
    return Failure(FailureKind.NETWORK, detail)


async def parse_off_reactor(settings: BaseSettings, parser: Callable[..., Any], payload: bytes, url: str | None,
                            status: int | None, *, expected: tuple[type, ...] = ACCOUNT_RESULTS,
                            **parser_kwargs: Any) -> Any:
    """:func:`~spiders.pages.parsing.safe_parse` in a worker thread, within ``WANGZI_PARSE_TIMEOUT``
    seconds, on at most ``WANGZI_PARSE_MAX_BYTES`` (both 0: no limit).

    On the reactor thread a slow parse holds every other request of the crawl (a nested page
    took minutes). Here it runs in a thread of its own; past the budget the answer is an
    ``unrecognized`` failure and the crawl goes on. The thread cannot be stopped (Python
    cannot kill a thread): it runs to its end in the background and its result is dropped.
    The size cap bounds what it can cost, and as a daemon thread it never holds the process
    open at exit. Needs the asyncio reactor (``TWISTED_REACTOR``, as scrapy-playwright does);
    ``wangzi parse`` and the fixture tests call ``safe_parse`` directly, with no thread.
    """
    budget = settings.getfloat("WANGZI_PARSE_TIMEOUT")
    max_bytes = settings.getint("WANGZI_PARSE_MAX_BYTES")
    loop = asyncio.get_running_loop()
    done: asyncio.Future[Any] = loop.create_future()

    def deliver(outcome: Any, error: BaseException | None) -> None:
        if done.done():  # the budget ran out first: nobody waits for this answer any more
            return
        if error is not None:
            done.set_exception(error)
        else:
            done.set_result(outcome)

    def work() -> None:
        outcome: Any = None
        error: BaseException | None = None
        try:
            outcome = safe_parse(parser, payload, url, status, expected=expected, max_bytes=max_bytes, **parser_kwargs)
        except BaseException as exc:  # noqa: BLE001 - safe_parse lets only interpreter exits through
            error = exc
        try:
            loop.call_soon_threadsafe(deliver, outcome, error)
        except RuntimeError:  # the loop closed (the crawl ended) while this answer was read
            pass

    threading.Thread(target=work, name=f"wangzi-parse {url}"[:100], daemon=True).start()
    try:
        return await asyncio.wait_for(done, budget if budget > 0 else None)
    except TimeoutError:
        logger.warning("parser %s ran over %g s on %s (%d bytes); stored as unrecognized",
                       getattr(parser, "__name__", parser), budget, url, len(payload))
        return Failure(FailureKind.UNRECOGNIZED, f"parser ran over {budget:g} s (WANGZI_PARSE_TIMEOUT) on an answer "
                                                 f"of {len(payload):,} bytes: not read", status)


class AccountSpider(scrapy.Spider):
    """Base for platform spiders. Subclasses set ``name``/``platform`` and write ``sources``.

    Spider arguments (``-a``):

    * ``accounts`` - comma-separated handles, ids or profile URLs to crawl ad hoc;
    * ``candidate`` - crawl only this candidate's accounts (database id);
    * with neither, every active candidate's accounts on this platform.

    The CLI passes ``targets`` (a list of :class:`AccountRef`) directly instead.
    """

    platform: ClassVar[str] = ""
    parser_version: ClassVar[str] = "1"
    #: Requests one refresh of each kind costs per account when the primary endpoints answer
    #: (fallbacks not counted), with ``WANGZI_RECENT_POSTS`` at its default: what ``wangzi plan``
    #: multiplies by the refresh policy's cadences. Kept next to ``sources`` in each spider.
    refresh_requests: ClassVar[dict[str, float]] = {"profiles": 1}

    def __init__(self, *args: Any, targets: list[AccountRef] | None = None,
                 due: dict[int, frozenset[str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._targets = targets
        self._due = due  # account id -> refresh kinds due (crawler.schedule); None: everything

    def wanted(self, account: AccountRef, source: Source) -> bool:
        """Whether ``source`` is asked for ``account`` in this crawl: it gives a fact of a kind
        that is due (or declares no facts, or nothing says what is due)."""
        if not source.facts or self._due is None or account.account_id is None:
            return True
        due = self._due.get(account.account_id)
        return due is None or bool(source.kinds & due)

    @property
    def recent_posts(self) -> int:
        """How many recent posts to ask for per account (``WANGZI_RECENT_POSTS``)."""
        return self.settings.getint("WANGZI_RECENT_POSTS")

    # ---------------------------------------------------------------- for subclasses

    def sources(self, account: AccountRef) -> list[Source]:
        """The chain of requests for one account, most trusted source first."""
        raise NotImplementedError

    @classmethod
    def normalize_account(cls, text: str) -> AccountRef:
        """Turn user input (handle, id or profile URL) into an account reference."""
        return normalize_account(cls.platform, text)

    # ---------------------------------------------------------------- targets

    def targets(self) -> list[AccountRef]:
        if self._targets is not None:
            return list(self._targets)
        raw = getattr(self, "accounts", None)
        if raw:
            return [self.normalize_account(part.strip()) for part in str(raw).split(",") if part.strip()]
        from storage.db import session_scope
        from storage.candidates import account_refs

        candidate = getattr(self, "candidate", None)
        database_url = self.settings.get("WANGZI_DATABASE_URL") if hasattr(self, "settings") else None
        with session_scope(database_url) as session:
            return account_refs(session, self.platform, candidate_id=int(candidate) if candidate else None)

    # ---------------------------------------------------------------- crawling

    async def start(self) -> AsyncIterator[Any]:
        for request in self.account_requests():
            yield request

    def account_requests(self) -> Iterator[Request]:
        """First request of every target's chain. Subclasses may call this later (after a prelude)."""
        for account in self.targets():
            chain = self.planned_sources(account)
            if not chain:
                continue
            yield self._request(account, chain, 0, [])

    def planned_sources(self, account: AccountRef) -> list[Source]:
        """:meth:`sources` less those whose facts are not due for ``account``."""
        return [source for source in self.sources(account) if self.wanted(account, source)]

    def _request(self, account: AccountRef, chain: list[Source], index: int, results: list[Any],
                 extra: dict[str, Any] | None = None) -> Request:
        source = chain[index]
        meta = {
            "handle_httpstatus_list": HANDLED_STATUSES,
            "wangzi_account": account,
            "wangzi_chain": chain,
            "wangzi_index": index,
            "wangzi_results": results,
            "wangzi_source": source.name,
            **source.meta,
            **(extra or {}),
        }
        return Request(
            source.url,
            method=source.method,
            body=source.body,
            headers=source.headers or None,
            cookies=source.cookies,
            meta=meta,
            callback=self._on_response,
            errback=self._on_error,
            dont_filter=True,
        )

    async def _on_response(self, response: Response) -> AsyncIterator[Any]:
        meta = response.meta
        source: Source = meta["wangzi_chain"][meta["wangzi_index"]]
        url = self.real_response_url(response)
        result = await parse_off_reactor(self.settings, source.parser, response.body, url, response.status)
        provenance = Provenance.of(url, source.name, self.parser_version, response.body, response.status)
        for output in self._advance(meta, (source, result, provenance, url), response.body, response):
            yield output

    @staticmethod
    def real_response_url(response: Response) -> str:
        """The URL the platform answered from. Under replay the replay middleware names the
        real URL behind the loopback one (after redirects too, including those Chromium
        followed itself) in ``meta["wangzi_real_url"]``."""
        return response.meta.get("wangzi_real_url") or response.url

    def _on_error(self, failure: TwistedFailure) -> Iterator[Any]:
        request = failure.request
        meta = request.meta
        source: Source = meta["wangzi_chain"][meta["wangzi_index"]]
        url = meta.get("wangzi_original_url", request.url)
        if getattr(failure.value, "wangzi_unsent", False):  # no identity may carry it: nothing was asked
            self.logger.info("%s %s not sent: %s", source.name, url, failure.value)
            return self._skip(meta)
        result = failure_from_exception(failure)
        return self._advance(meta, (source, result, None, url), None)

    def next_sources(
        self,
        account: AccountRef,
        source: Source,
        result: ParseResult,
        payload: bytes | None,
        remaining: list[Source],
    ) -> list[Source]:
        """What is still to be requested for ``account`` now that ``source`` answered ``result``.

        The one place a spider shapes its chain while it runs: drop a fallback that is no
        longer needed, add a request whose URL only the answer names (a channel id, a
        continuation token). ``payload`` is the raw answer (``None`` after a download error);
        read it with a pure function, never by hand here. ``remaining`` is the rest of the
        chain as planned. The default ends the chain after a final failure (not found,
        private): asking the same platform again about that account is pointless.
        """
        if isinstance(result, Failure) and result.kind in FINAL_FAILURES:
            return []
        return remaining

    def _advance(self, meta: dict[str, Any], outcome: tuple[Any, ...], payload: bytes | None,
                 response: Response | None = None) -> Iterator[Any]:
        account: AccountRef = meta["wangzi_account"]
        chain: list[Source] = meta["wangzi_chain"]
        source, result, _, _ = outcome
        crawler = getattr(self, "crawler", None)
        if crawler is not None:
            crawler.signals.send_catch_log(source_answered, spider=self, meta=meta, result=result, response=response)
        retry = self._identity_retry(meta, result)
        if retry is not None:
            yield retry
            return
        results: list[Any] = meta["wangzi_results"] + [outcome]
        index = meta["wangzi_index"] + 1
        following = self.next_sources(account, source, result, payload, chain[index:])
        chain = chain[:index] + [s for s in following if self.wanted(account, s)]
        if index < len(chain):
            yield self._request(account, chain, index, results)
            return
        yield from self.finish_account(account, results)

    def _skip(self, meta: dict[str, Any]) -> Iterator[Any]:
        """Go on with the chain as if the current source had not been planned (it was never sent:
        no outcome, no failure); the account ends when nothing is left."""
        account: AccountRef = meta["wangzi_account"]
        chain: list[Source] = meta["wangzi_chain"]
        index = meta["wangzi_index"]
        chain = chain[:index] + chain[index + 1:]
        if index < len(chain):
            yield self._request(account, chain, index, meta["wangzi_results"])
            return
        yield from self.finish_account(account, meta["wangzi_results"])

    def _identity_retry(self, meta: dict[str, Any], result: Any) -> Request | None:
        """The same request again through another identity, when the one it went out through
        was refused and another may be tried (see module docstring); else None."""
        identity = meta.get("wangzi_identity")
        if not identity or not isinstance(result, Failure) or result.kind not in IDENTITY_FAILURES:
            return None
        tries = int(meta.get("wangzi_identity_tries", 0))
        if tries >= int(meta.get("wangzi_identity_retries", 0)):
            return None
        avoid = [*meta.get("wangzi_avoid", []), *identity]
        crawler = getattr(self, "crawler", None)
        if crawler is not None:
            crawler.stats.inc_value("wangzi/identity/retries")
        extra = {"wangzi_identity_tries": tries + 1, "wangzi_avoid": avoid}
        if meta.get("wangzi_not_before"):  # the refusal named a time to come back (Retry-After)
            extra["wangzi_not_before"] = meta["wangzi_not_before"]
        return self._request(meta["wangzi_account"], meta["wangzi_chain"], meta["wangzi_index"], meta["wangzi_results"],
                             extra=extra)

    def finish_account(self, account: AccountRef, results: list[tuple[Any, ...]]) -> Iterator[Any]:
        """Turn the chain's outcomes into items (see module docstring)."""
        profiles: list[tuple[Profile, Provenance]] = [
            (result, provenance) for _, result, provenance, _ in results if isinstance(result, Profile)
        ]
        for source, result, provenance, url in results:
            if isinstance(result, PostPage):
                if result.posts:
                    yield PostsItem(account=account, posts=result.posts, provenance=provenance)
            elif isinstance(result, Failure):
                self.logger.info("%s %s: %s (%s)", source.name, url, result.kind.value, result.detail)
                yield FailureItem(account=account, failure=result, url=url, profile_read=bool(profiles))
        if not profiles:
            return
        merged = merge_profiles([p for p, _ in profiles])
        first = profiles[0][1]
        if len(profiles) > 1:
            digest = hashlib.sha256("".join(pv.payload_sha256 for _, pv in profiles).encode()).hexdigest()
            first = Provenance(
                source_url=first.source_url,
                parser="+".join(pv.parser for _, pv in profiles),
                parser_version=self.parser_version,
                payload_sha256=digest,
                captured_at=first.captured_at,
                http_status=first.http_status,
            )
        yield ProfileItem(account=account, profile=merged, provenance=first)
