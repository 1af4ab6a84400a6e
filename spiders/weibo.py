"""Weibo: what to request for an account, and in which order.

How each answer is read (field paths, error codes) is in :mod:`spiders.pages.weibo`;
this module only builds the requests and hands the responses to those parsers.
"""

from __future__ import annotations

import math
from typing import Any

from records import AccountRef, Failure, FailureKind, ParseResult, PostPage
from spiders.base import PROFILE_FACTS, AccountSpider, Source
from spiders.credentials import SessionConfig, cookie_dict, platform_cookie, platform_sessions
from spiders.pages.parsing import limit_posts
from spiders.pages.weibo import (
    AJAX_DETAIL_URL,
    AJAX_INFO_URL,
    INFO_URL,
    PARSER_VERSION,
    PLATFORM,
    POSTS_PER_PAGE,
    POSTS_URL,
    UID,
    USER_INDEX_URL,
    parse,
)

#: The slow-changing facts of the INFO container and the ajax detail (IP属地, place, birthday
#: and creation date): asked with the policy's ``details`` kind (weekly), not every day.
DETAIL_FACTS = frozenset({"ip_location", "country", "location", "joined_at"})
POSTS_FACTS = frozenset({"recent_posts"})

#: After one of these on m.weibo.cn, its other requests for the account would meet the same wall.
WALL_FAILURES = frozenset({FailureKind.BLOCKED, FailureKind.CAPTCHA, FailureKind.RATE_LIMITED, FailureKind.LOGIN_REQUIRED})


# --------------------------------------------------------------------------- configuration


def configured_cookie(environ: dict[str, str] | None = None) -> str | None:
    """The optional login cookie: ``WANGZI_WEIBO_COOKIE`` or the owner-only file named by
    ``WANGZI_WEIBO_COOKIE_FILE`` (see :func:`spiders.credentials.platform_cookie`)."""
    return platform_cookie("weibo", environ)


# --------------------------------------------------------------------------- spider


class WeiboSpider(AccountSpider):
    """m.weibo.cn's public JSON (profile, INFO container, posts); weibo.com's ajax profile
    only with a configured login cookie (it answers ``ok: -100`` to anonymous clients)."""

    name = "weibo"
    platform = PLATFORM
    parser_version = PARSER_VERSION
    allowed_domains = ["m.weibo.cn", "weibo.com"]
    # getIndex; the INFO container; 20 posts = 2 pages (the ajax pair only with a login cookie)
    refresh_requests = {"profiles": 1, "details": 1, "posts": 2}
    custom_settings = {
        # m.weibo.cn answers 418 to bursts; a few seconds between requests keeps it quiet.
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
        "DOWNLOAD_DELAY": 3.0,
        "AUTOTHROTTLE_START_DELAY": 3.0,
    }

    _cookie: str | None | bool = False  # False: not read yet

    def login_cookie(self) -> str | None:
        if self._cookie is False:
            try:
                self._cookie = configured_cookie()
            except (OSError, ValueError) as exc:
                self.logger.error(
                    "WANGZI_WEIBO_COOKIE_FILE not used (%s: %s); crawling without a login cookie",
                    type(exc).__name__, getattr(exc, "strerror", None) or exc,
                )
                self._cookie = None
        return self._cookie  # type: ignore[return-value]

    def platform_sessions(self) -> list[SessionConfig]:
        """Logged-in weibo.com sessions (``WANGZI_WEIBO_SESSIONS``: ``[{"name": ..., "cookie": ...}]``,
        or ``[sessions.weibo.NAME]`` in the secrets file, plus the single ``WANGZI_WEIBO_COOKIE`` as
        ``default``), rotated for the ajax requests by the crawler's session middleware."""
        try:
            found = [s for s in platform_sessions(PLATFORM) if s.values.get("cookie")]
        except (OSError, ValueError) as exc:
            self.logger.error("Weibo sessions not usable (%s: %s)", type(exc).__name__, getattr(exc, "strerror", None) or exc)
            found = []
        single = self.login_cookie()
        if single and not any(s.values.get("cookie") == single for s in found):
            found.insert(0, SessionConfig(platform=PLATFORM, name="default", values={"cookie": single}))
        return found

    @staticmethod
    def apply_session(request: Any, session: SessionConfig) -> None:
        """Put ``session``'s cookies on an ajax request, in a cookie jar of its own."""
        request.cookies = cookie_dict(session.values["cookie"])
        request.meta["cookiejar"] = f"weibo:{session.name}"

    def sources(self, account: AccountRef) -> list[Source]:
        uid = account.platform_user_id
        if not uid or not UID.match(uid):
            self.logger.warning("weibo account %r has no numeric uid; skipped", account.handle)
            return []
        limit = self.recent_posts
        mobile = {"Referer": f"https://m.weibo.cn/u/{uid}", "X-Requested-With": "XMLHttpRequest", "MWeibo-Pwa": "1"}
        chain: list[Source] = []
        sessions = self.platform_sessions() if self.login_cookie() is None else []
        cookie = self.login_cookie() or (sessions[0].values["cookie"] if sessions else None)
        if cookie:
            cookies = cookie_dict(cookie)
            logged_in = {"wangzi_session": True}
            desk = {"Referer": f"https://weibo.com/u/{uid}", "X-Requested-With": "XMLHttpRequest"}
            chain += [
                Source(AJAX_INFO_URL.format(uid=uid), parse, "weibo.ajax_profile_info", headers=desk, cookies=cookies,
                       facts=PROFILE_FACTS, meta=logged_in),
                Source(AJAX_DETAIL_URL.format(uid=uid), parse, "weibo.ajax_profile_detail", headers=desk, cookies=cookies,
                       facts=DETAIL_FACTS, meta=logged_in),
            ]
        chain += [
            Source(USER_INDEX_URL.format(uid=uid), parse, "weibo.user_index", headers=mobile, facts=PROFILE_FACTS),
            Source(INFO_URL.format(uid=uid), parse, "weibo.info_container", headers=mobile, facts=DETAIL_FACTS),
        ]
        pages = max(1, math.ceil(limit / POSTS_PER_PAGE)) if limit > 0 else 0
        for page in range(1, pages + 1):
            left = limit - POSTS_PER_PAGE * (page - 1)
            chain.append(Source(POSTS_URL.format(uid=uid, page=page), limit_posts(parse, left), "weibo.posts", headers=mobile,
                                facts=POSTS_FACTS))
        return chain

    def next_sources(
        self, account: AccountRef, source: Source, result: ParseResult, payload: bytes | None, remaining: list[Source]
    ) -> list[Source]:
        """A captcha, block or rate limit on m.weibo.cn ends the account's m.weibo.cn chain:
        the next requests would meet the same wall and only prolong the ban."""
        if isinstance(result, Failure) and result.kind in WALL_FAILURES and "m.weibo.cn" in source.url:
            return []
        if isinstance(result, PostPage) and len(result.posts) < POSTS_PER_PAGE:
            # A short page is the last one: asking for the next would only return nothing.
            return []
        return super().next_sources(account, source, result, payload, remaining)
