"""One base for the spiders that read an account from a page rendered by Chromium.

Douyin, Xiaohongshu, Taobao Live and Youku show an account's numbers only on a page the
site's own scripts build, so the spider asks scrapy-playwright for that page. What those
spiders share lives here, once:

* politeness: one page at a time per site, ``page_delay`` seconds apart (each site's risk
  control reacts to bursts from one IP);
* images, media, fonts and styles are aborted in the browser (:func:`abort_unneeded_requests`):
  the document and its scripts are all a page parser reads;
* one named browser context per platform, whose pages scrapy-playwright closes as soon as
  their HTML is read (``playwright_include_page`` off), so a long crawl holds at most
  ``PLAYWRIGHT_MAX_PAGES_PER_CONTEXT`` pages;
* the page's posts are kept to ``WANGZI_RECENT_POSTS``.

A platform spider keeps only what differs: which page to ask for (:meth:`PlaywrightSpider.page_source`
in its ``sources``), its ``page_delay`` and how long Playwright waits (``wait_until``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from scrapy.settings import BaseSettings

from spiders.base import AccountSpider, Source
from spiders.pages.parsing import Parser, limit_posts

#: Browser resource types no page parser reads.
UNNEEDED_RESOURCES = frozenset({"image", "media", "font", "stylesheet", "texttrack", "manifest"})


def abort_unneeded_requests(request: Any) -> bool:
    """Only the document and its scripts matter: images, media, fonts and styles are aborted."""
    return request.resource_type in UNNEEDED_RESOURCES


class PlaywrightSpider(AccountSpider):
    """An account spider whose sources are pages rendered by Chromium (scrapy-playwright)."""

    #: Seconds between two pages of the site (AutoThrottle starts from it too).
    page_delay: ClassVar[float] = 5.0
    #: When Playwright hands the page over: ``"domcontentloaded"`` when the server's HTML
    #: already holds the data, ``"load"`` when the page's scripts draw the numbers.
    wait_until: ClassVar[str] = "domcontentloaded"

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        """The browser spiders' politeness and aborted resources; a subclass's own
        ``custom_settings`` are applied after them, so they win."""
        settings.setdict(
            {
                "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
                "DOWNLOAD_DELAY": cls.page_delay,
                "AUTOTHROTTLE_START_DELAY": cls.page_delay,
                "PLAYWRIGHT_ABORT_REQUEST": abort_unneeded_requests,
            },
            priority="spider",
        )
        super().update_settings(settings)

    def page_source(self, url: str, name: str, parser: Parser, cookies: dict[str, str] | None = None) -> Source:
        """``url`` rendered in this platform's browser context and read by ``parser``, keeping
        ``WANGZI_RECENT_POSTS`` of the posts the page shows."""
        return Source(
            url=url,
            parser=limit_posts(parser, self.recent_posts),
            name=name,
            cookies=cookies,
            meta={
                "playwright": True,
                "playwright_include_page": False,
                "playwright_context": self.name,
                "playwright_page_goto_kwargs": {"wait_until": self.wait_until},
            },
        )
