"""Xiaohongshu: what to request for an account, and in which order.

How each answer is read (field paths, error codes) is in :mod:`spiders.pages.xiaohongshu`;
this module only builds the requests and hands the responses to those parsers.
"""

from __future__ import annotations

from typing import Any

from records import AccountRef
from spiders.credentials import cookie_dict, platform_cookie
from spiders.base import AccountSpider, Source
from spiders.pages.parsing import limit_posts
from spiders.pages.xiaohongshu import (
    PARSER_VERSION,
    PLATFORM,
    PROFILE_URL,
    USER_ID,
    parse,
)


# --------------------------------------------------------------------------- configuration


def configured_cookie(environ: dict[str, str] | None = None) -> str | None:
    """The optional login cookie: ``WANGZI_XIAOHONGSHU_COOKIE`` or the owner-only file named by
    ``WANGZI_XIAOHONGSHU_COOKIE_FILE`` (see :func:`spiders.credentials.platform_cookie`)."""
    return platform_cookie("xiaohongshu", environ)


def _abort_unneeded_requests(request: Any) -> bool:
    """Only the document and its scripts matter: images, media, fonts and styles are aborted."""
    return request.resource_type in {"image", "media", "font", "stylesheet", "texttrack", "manifest"}


# --------------------------------------------------------------------------- spider


class XiaohongshuSpider(AccountSpider):
    """Profiles through Chromium: the page's own ``__INITIAL_STATE__`` is the source.

    One named browser context (``xiaohongshu``) is shared by the spider's pages; every page
    is closed by scrapy-playwright as soon as its HTML is read (``playwright_include_page``
    is off), so a long crawl holds at most ``PLAYWRIGHT_MAX_PAGES_PER_CONTEXT`` pages.
    Sub-requests the page makes itself (scripts, the signed ``otherinfo`` XHR) go to the real
    hosts; under replay they fail at once, which the HTML path does not need.
    """

    name = "xiaohongshu"
    platform = PLATFORM
    parser_version = PARSER_VERSION
    allowed_domains = ["xiaohongshu.com"]
    custom_settings = {
        # One profile page at a time, a few seconds apart: the site's risk control (461/471,
        # 300012) reacts to bursts from one IP.
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
        "DOWNLOAD_DELAY": 5.0,
        "AUTOTHROTTLE_START_DELAY": 5.0,
        "PLAYWRIGHT_ABORT_REQUEST": _abort_unneeded_requests,
    }

    _cookie: str | None | bool = False  # False: not read yet

    def login_cookie(self) -> str | None:
        """The configured cookie, read once. A broken configuration is reported (never the
        value) and the crawl goes on without it: public profiles need no login."""
        if self._cookie is False:
            try:
                self._cookie = configured_cookie()
            except (OSError, ValueError) as exc:
                self.logger.error(
                    "WANGZI_XIAOHONGSHU_COOKIE_FILE not used (%s: %s); crawling without a login cookie",
                    type(exc).__name__, getattr(exc, "strerror", None) or exc,
                )
                self._cookie = None
        return self._cookie  # type: ignore[return-value]

    def sources(self, account: AccountRef) -> list[Source]:
        user_id = account.platform_user_id
        if not user_id or not USER_ID.match(user_id):
            self.logger.warning("xiaohongshu account %r has no 24-hex user id; skipped", account.handle)
            return []
        limit = self.settings.getint("WANGZI_RECENT_POSTS", 20) if hasattr(self, "settings") else 20
        cookie = self.login_cookie()
        return [
            Source(
                url=PROFILE_URL.format(user_id=user_id),
                # `parse`, not parse_profile_page: the final URL (login/captcha redirects) and
                # the status (461/471) are checked before the page is read.
                parser=limit_posts(parse, limit),
                name="xiaohongshu.profile_page",
                cookies=cookie_dict(cookie) if cookie else None,
                meta={
                    "playwright": True,
                    "playwright_include_page": False,
                    "playwright_context": "xiaohongshu",
                    # The state is in the server's HTML: no need to wait for every script.
                    "playwright_page_goto_kwargs": {"wait_until": "domcontentloaded"},
                },
            )
        ]
