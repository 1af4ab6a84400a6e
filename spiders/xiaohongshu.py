"""Xiaohongshu: what to request for an account, and in which order.

How each answer is read (field paths, error codes) is in :mod:`spiders.pages.xiaohongshu`;
this module only builds the requests and hands the responses to those parsers.
"""

from __future__ import annotations

from records import AccountRef
from spiders.base import Source
from spiders.credentials import cookie_dict, platform_cookie
from spiders.pages.xiaohongshu import PARSER_VERSION, PLATFORM, PROFILE_URL, USER_ID, parse
from spiders.playwright_spider import PlaywrightSpider


def configured_cookie(environ: dict[str, str] | None = None) -> str | None:
    """The optional login cookie: ``WANGZI_XIAOHONGSHU_COOKIE`` or the owner-only file named by
    ``WANGZI_XIAOHONGSHU_COOKIE_FILE`` (see :func:`spiders.credentials.platform_cookie`)."""
    return platform_cookie("xiaohongshu", environ)


class XiaohongshuSpider(PlaywrightSpider):
    """Profiles through Chromium: the page's own ``__INITIAL_STATE__`` is the source.

    Sub-requests the page makes itself (scripts, the signed ``otherinfo`` XHR) go to the real
    hosts; under replay they fail at once, which the HTML path does not need.
    """

    name = "xiaohongshu"
    platform = PLATFORM
    parser_version = PARSER_VERSION
    allowed_domains = ["xiaohongshu.com"]
    # The site's risk control (461/471, 300012) reacts to bursts from one IP.
    page_delay = 5.0

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
        cookie = self.login_cookie()
        # `parse`, not parse_profile_page: the final URL (login/captcha redirects) and the
        # status (461/471) are checked before the page is read. The state is in the server's
        # HTML, so the page is read once its DOM is (the default wait).
        return [self.page_source(
            PROFILE_URL.format(user_id=user_id), "xiaohongshu.profile_page", parse,
            cookies=cookie_dict(cookie) if cookie else None,
        )]
