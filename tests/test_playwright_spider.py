"""The browser-page spiders (Douyin, Xiaohongshu, Taobao Live, Youku) share one base:
politeness, aborted resources, one closed-after-reading page per request, the posts limit."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from records import AccountRef, Post, Profile
from spiders.base import Source
from spiders.douyin import DouyinSpider
from spiders.playwright_spider import PlaywrightSpider, abort_unneeded_requests
from spiders.taobao_live import TaobaoLiveSpider
from spiders.xiaohongshu import XiaohongshuSpider
from spiders.youku import YoukuSpider
from tests.helpers import make_spider

ACCOUNTS = {
    DouyinSpider: ("MS4wLjABAAAAsyntheticLenaNY_0123456789abcdefGHIJ",
                   "https://www.douyin.com/user/MS4wLjABAAAAsyntheticLenaNY_0123456789abcdefGHIJ", "domcontentloaded"),
    XiaohongshuSpider: ("5a1b2c3d4e5f60718293a4b5",
                        "https://www.xiaohongshu.com/user/profile/5a1b2c3d4e5f60718293a4b5", "domcontentloaded"),
    TaobaoLiveSpider: ("2200123456789", "https://huodong.m.taobao.com/act/talent/live.html?id=2200123456789", "load"),
    YoukuSpider: ("UMTIzNDU2Nzg5MA==", "https://www.youku.com/profile/index?uid=UMTIzNDU2Nzg5MA==", "load"),
}


@pytest.mark.parametrize("spider_cls", list(ACCOUNTS))
def test_each_browser_spider_asks_for_one_page_in_its_own_context_closed_after_reading(
    spider_cls: type[PlaywrightSpider], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WANGZI_XIAOHONGSHU_COOKIE", raising=False)
    monkeypatch.delenv("WANGZI_XIAOHONGSHU_COOKIE_FILE", raising=False)
    user_id, url, wait_until = ACCOUNTS[spider_cls]
    spider = make_spider(spider_cls, targets=[])
    (source,) = spider.sources(AccountRef(platform=spider.platform, platform_user_id=user_id))
    assert source.url == url
    assert source.meta == {
        "playwright": True,
        "playwright_include_page": False,
        "playwright_context": spider.platform,
        "playwright_page_goto_kwargs": {"wait_until": wait_until},
    }
    assert spider.sources(AccountRef(platform=spider.platform, platform_user_id="not an id")) == []


@pytest.mark.parametrize(("spider_cls", "delay"), [
    (DouyinSpider, 5.0), (XiaohongshuSpider, 5.0), (TaobaoLiveSpider, 5.0), (YoukuSpider, 3.0),
])
def test_browser_spiders_ask_one_page_at_a_time_and_abort_heavy_resources(
    spider_cls: type[PlaywrightSpider], delay: float
) -> None:
    settings = make_spider(spider_cls).settings
    assert settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN") == 1
    assert settings.getfloat("DOWNLOAD_DELAY") == delay
    assert settings.getfloat("AUTOTHROTTLE_START_DELAY") == delay
    assert settings.get("PLAYWRIGHT_ABORT_REQUEST") is abort_unneeded_requests


def test_a_spider_s_own_custom_settings_win_over_the_base() -> None:
    class _Spider(PlaywrightSpider):
        name = "some_browser_site"
        custom_settings: ClassVar[dict[str, Any]] = {"DOWNLOAD_DELAY": 9.0}

    settings = make_spider(_Spider).settings
    assert settings.getfloat("DOWNLOAD_DELAY") == 9.0
    assert settings.getfloat("AUTOTHROTTLE_START_DELAY") == _Spider.page_delay


def test_the_page_keeps_wangzi_recent_posts_of_its_posts() -> None:
    def parse(payload: bytes, url: str, status: int) -> Profile:
        return Profile(platform="douyin", recent_posts=tuple(Post(platform="douyin", post_id=str(i)) for i in range(9)))

    spider = make_spider(DouyinSpider, {"WANGZI_RECENT_POSTS": 3})
    source: Source = spider.page_source("https://www.douyin.com/user/x", "douyin.profile_page", parse)
    result = source.parser(b"", source.url, 200)
    assert isinstance(result, Profile) and [p.post_id for p in result.recent_posts] == ["0", "1", "2"]
    assert source.parser.__name__ == "parse"

