"""X: the logged-in session's cookies, and what to request for an account, in which order.

How each answer is read (field paths, error codes) and how a GraphQL request is spelled (query
ids, feature switches, headers) is in :mod:`spiders.pages.x`; this module reads the configured
session (:func:`configured_cookies`) and plans the requests.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from records import AccountRef, Failure, FailureItem, FailureKind, ParseResult, Profile, profile_url
from spiders.base import PROFILE_FACTS, AccountSpider, Source
from spiders.credentials import SessionConfig, check_owner_only, get_secret, platform_sessions
from spiders.pages.x import (
    PARSER_VERSION,
    PLATFORM,
    USER_FEATURES,
    graphql_headers,
    graphql_url,
    parse,
    user_tweets_url,
)

#: Failures after which the spider asks X nothing more about the account in this crawl: the
#: session is refused or its quota spent, and every further call would only spend more of it.
SESSION_FAILURES = frozenset({FailureKind.LOGIN_REQUIRED, FailureKind.RATE_LIMITED, FailureKind.BLOCKED})


# --------------------------------------------------------------------------- configuration


class CookieProblem(ValueError):
    """The configured X cookies cannot be used (the message never contains their values)."""


def cookie_pairs(text: str) -> dict[str, str]:
    """Cookies from a ``Cookie:`` header value, a Netscape ``cookies.txt`` or a browser
    extension's JSON export (a list of ``{"name", "value"}`` or a ``{name: value}`` object)."""
    text = text.strip()
    if text.startswith(("[", "{")):
        try:
            data = json.loads(text)
        except ValueError:
            raise CookieProblem("the cookie file looks like JSON but does not parse") from None
        if isinstance(data, dict):
            return {str(k): str(v) for k, v in data.items() if isinstance(v, (str, int))}
        if isinstance(data, list):
            return {
                str(c["name"]): str(c["value"]) for c in data if isinstance(c, dict) and "name" in c and "value" in c
            }
        raise CookieProblem("the cookie file's JSON is neither a list nor an object")
    pairs: dict[str, str] = {}
    for line in text.splitlines():
        fields = line.split("\t")
        if len(fields) == 7 and not line.startswith("#"):  # Netscape cookies.txt
            pairs[fields[5].strip()] = fields[6].strip()
    if pairs:
        return pairs
    header = text.removeprefix("Cookie:").strip()
    for part in header.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name.strip():
            pairs[name.strip()] = value.strip()
    return pairs


def configured_cookies(environ: dict[str, str] | None = None) -> dict[str, str] | None:
    """``{"auth_token": ..., "ct0": ...}`` from ``WANGZI_X_AUTH_TOKEN`` + ``WANGZI_X_CT0``, else
    from the file named by ``WANGZI_X_COOKIE_FILE`` (owner-only). Each name is looked up in the
    environment, then in ``WANGZI_SECRETS_FILE`` (``environ`` replaces both, for tests). None when not configured;
    :class:`CookieProblem`, :class:`~spiders.credentials.InsecureSecretsFile` or OSError when configured but unusable."""
    if environ is None:
        def lookup(name: str) -> str:
            return get_secret(name) or ""  # the environment, then WANGZI_SECRETS_FILE
    else:
        def lookup(name: str) -> str:
            return environ.get(name) or ""

    token = lookup("WANGZI_X_AUTH_TOKEN").strip()
    ct0 = lookup("WANGZI_X_CT0").strip()
    if token and ct0:
        return {"auth_token": token, "ct0": ct0}
    if token or ct0:
        missing = "WANGZI_X_CT0" if token else "WANGZI_X_AUTH_TOKEN"
        raise CookieProblem(f"{missing} is not set; X needs both auth_token and ct0")
    path = lookup("WANGZI_X_COOKIE_FILE").strip()
    if not path:
        return None
    file = Path(path).expanduser()
    check_owner_only(file)  # the same rule as every other secrets file
    pairs = cookie_pairs(file.read_text(encoding="utf-8"))
    missing_names = [name for name in ("auth_token", "ct0") if not pairs.get(name)]
    if missing_names:
        raise CookieProblem(f"{file} has no {' or '.join(missing_names)} cookie")
    return {"auth_token": pairs["auth_token"], "ct0": pairs["ct0"]}


# --------------------------------------------------------------------------- spider


class XSpider(AccountSpider):
    """Profiles through the web app's GraphQL API with the configured session cookies:
    ``UserByScreenName`` (counts, bio, links), ``AboutAccountQuery`` (country), then
    ``UserTweets`` (recent posts) once the numeric user id is known."""

    name = "x"
    platform = PLATFORM
    parser_version = PARSER_VERSION
    allowed_domains = ["x.com"]
    refresh_requests = {"profiles": 1, "details": 1, "posts": 1}  # UserByScreenName; AboutAccountQuery; UserTweets
    #: The endpoint (source name) each kind's request goes to: each has its own session window.
    kind_endpoints = {"profiles": "x.user_by_screen_name", "details": "x.about_account", "posts": "x.user_tweets"}
    custom_settings = {
        # One logged-in session: X allows ~50 UserByScreenName calls per 15 minutes per
        # account (error 88 beyond that), so go slowly and one at a time.
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
        "DOWNLOAD_DELAY": 10.0,
        "AUTOTHROTTLE_START_DELAY": 10.0,
        # GraphQL URLs carry their variables and feature switches as JSON: UserTweets is ~2.9 KB,
        # over Scrapy's default 2083, and UrlLengthMiddleware would drop it (and the account's
        # pending items with it) silently.
        "URLLENGTH_LIMIT": 16384,
        # A 429 means the session's 15-minute window is spent: retrying it seconds later
        # (the project default retries 429 twice) only sends more logged-in requests that
        # X refuses. Other transient statuses are still retried.
        "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408],
    }

    _cookies: dict[str, str] | None | bool = False  # False: not read yet
    _cookie_problem: str | None = None

    def platform_sessions(self) -> list[SessionConfig]:
        """Every configured X session (``WANGZI_X_SESSIONS``, the secrets file's
        ``[sessions.x.NAME]``, and the single ``WANGZI_X_AUTH_TOKEN``/``WANGZI_X_CT0`` one as
        ``default``) that has both cookies; rotated by the crawler's session middleware."""
        try:
            found = [s for s in platform_sessions(PLATFORM) if s.values.get("auth_token") and s.values.get("ct0")]
        except (OSError, ValueError) as exc:
            self.logger.error("X sessions not usable (%s: %s)", type(exc).__name__, getattr(exc, "strerror", None) or exc)
            found = []
        try:
            single = configured_cookies()
        except (OSError, ValueError):
            single = None
        if single and not any(s.values.get("auth_token") == single["auth_token"] for s in found):
            found.insert(0, SessionConfig(platform=PLATFORM, name="default", values=single))
        return found

    @staticmethod
    def apply_session(request: Any, session: SessionConfig) -> None:
        """Put ``session`` on ``request``: its two cookies (in a jar of its own) and its CSRF header."""
        request.cookies = {"auth_token": session.values["auth_token"], "ct0": session.values["ct0"]}
        request.headers["x-csrf-token"] = session.values["ct0"]
        request.meta["cookiejar"] = f"x:{session.name}"

    def session_cookies(self) -> dict[str, str] | None:
        """The configured cookies, read once; a broken configuration is remembered (never the value)."""
        if self._cookies is False:
            try:
                self._cookies = configured_cookies()
                if self._cookies is None:
                    sessions = self.platform_sessions()
                    self._cookies = dict(sessions[0].values) if sessions else None
            except (OSError, ValueError) as exc:
                self._cookie_problem = f"{type(exc).__name__}: {getattr(exc, 'strerror', None) or exc}"
                self.logger.error("X cookies not usable (%s)", self._cookie_problem)
                self._cookies = None
        return self._cookies  # type: ignore[return-value]

    async def start(self) -> AsyncIterator[Any]:
        if self.session_cookies() is None:
            detail = (
                f"X cookies configured but not usable ({self._cookie_problem})"
                if self._cookie_problem
                else "X needs a logged-in session: set WANGZI_X_AUTH_TOKEN and WANGZI_X_CT0 "
                "(or WANGZI_X_COOKIE_FILE); nothing was requested"
            )
            for account in self.targets():
                yield FailureItem(
                    account=account,
                    failure=Failure(FailureKind.LOGIN_REQUIRED, detail[:300]),
                    url=profile_url(account) or "https://x.com/",
                )
            return
        for request in self.account_requests():
            yield request

    def tweets_source(self, user_id: str) -> Source | None:
        """``UserTweets`` for the account's ``WANGZI_RECENT_POSTS`` latest posts (at most 100, what
        X answers in one page), or None when the setting is 0 or there is no session."""
        cookies = self.session_cookies()
        limit = self.recent_posts
        if not cookies or limit <= 0:
            return None
        return Source(
            url=user_tweets_url(user_id, count=min(limit, 100)),
            parser=parse,
            name="x.user_tweets",
            headers=graphql_headers(cookies["ct0"]),
            cookies=dict(cookies),
            facts=frozenset({"recent_posts"}),
            meta={"wangzi_session": True},
        )

    def about_source(self, handle: str, cookies: dict[str, str]) -> Source:
        """``AboutAccountQuery`` for ``handle`` (where X says the account is based)."""
        return Source(
            url=graphql_url("AboutAccountQuery", {"screenName": handle}),
            parser=parse,
            name="x.about_account",
            headers=graphql_headers(cookies["ct0"]),
            cookies=dict(cookies),
            facts=frozenset({"country"}),  # where X says the account is based: weekly (details)
            meta={"wangzi_session": True},
        )

    def next_sources(
        self, account: AccountRef, source: Source, result: ParseResult, payload: bytes | None, remaining: list[Source]
    ) -> list[Source]:
        """Once a profile names the numeric id, ask for the account's recent posts too; an
        account registered by id only gets its ``AboutAccountQuery`` (the country) once
        ``UserByRestId`` names its handle. After a refused session or a rate limit, ask
        nothing more (it would only spend the quota)."""
        if isinstance(result, Failure) and result.kind in SESSION_FAILURES:
            return []
        remaining = super().next_sources(account, source, result, payload, remaining)
        if (
            isinstance(result, Profile)
            and result.handle
            and source.name == "x.user_by_rest_id"
            and not any(s.name == "x.about_account" for s in remaining)
        ):
            cookies = self.session_cookies()
            if cookies:
                remaining = [self.about_source(result.handle, cookies), *remaining]
        if (
            isinstance(result, Profile)
            and result.platform_user_id
            and result.followers is not None
            and source.name != "x.user_tweets"
            and not any(s.name == "x.user_tweets" for s in remaining)
        ):
            tweets = self.tweets_source(result.platform_user_id)
            if tweets is not None:
                remaining = [*remaining, tweets]
        return remaining

    def sources(self, account: AccountRef) -> list[Source]:
        cookies = self.session_cookies()
        if not cookies:
            return []
        headers = graphql_headers(cookies["ct0"])
        common = {"parser": parse, "headers": headers, "cookies": dict(cookies), "facts": PROFILE_FACTS | {"links", "joined_at"},
                  "meta": {"wangzi_session": True}}
        if account.handle:
            return [
                Source(
                    url=graphql_url(
                        "UserByScreenName",
                        {"screen_name": account.handle, "withSafetyModeUserFields": True},
                        USER_FEATURES,
                    ),
                    name="x.user_by_screen_name",
                    **common,
                ),
                self.about_source(account.handle, cookies),
            ]
        if account.platform_user_id:
            return [
                Source(
                    url=graphql_url(
                        "UserByRestId",
                        {"userId": account.platform_user_id, "withSafetyModeUserFields": True},
                        USER_FEATURES,
                    ),
                    name="x.user_by_rest_id",
                    **common,
                )
            ]
        return []
