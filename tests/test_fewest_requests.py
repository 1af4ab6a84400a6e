"""Issue 17 item 3: fewest requests per refresh. Each source names the facts its endpoint gives;
a scheduled crawl asks only for the kinds due (profiles daily, details weekly, posts on their
own cadence), and fallbacks run only when the primary fails."""

from __future__ import annotations

from datetime import timedelta

from crawler.schedule import RefreshPolicy
from records import AccountRef, Profile
from spiders.bilibili import BilibiliSpider
from spiders.weibo import WeiboSpider
from spiders.youtube import YouTubeSpider
from storage.models import utcnow
from tests.helpers import make_spider

WEIBO = AccountRef("weibo", platform_user_id="1669879400", account_id=7)


def test_weekly_details_are_asked_only_when_due() -> None:
    daily = make_spider(WeiboSpider, due={7: frozenset({"profiles", "posts"})})
    assert [s.name for s in daily.planned_sources(WEIBO)] == ["weibo.user_index", "weibo.posts", "weibo.posts"]
    weekly = make_spider(WeiboSpider, due={7: frozenset({"profiles", "details", "posts"})})
    assert "weibo.info_container" in [s.name for s in weekly.planned_sources(WEIBO)]
    profiles_only = make_spider(WeiboSpider, due={7: frozenset({"profiles"})})
    assert [s.name for s in profiles_only.planned_sources(WEIBO)] == ["weibo.user_index"]
    anything = make_spider(WeiboSpider)  # a lookup: no plan, every endpoint
    assert len(anything.planned_sources(WEIBO)) == 4


def test_a_source_added_while_the_chain_runs_is_dropped_when_its_kind_is_not_due() -> None:
    spider = make_spider(YouTubeSpider, due={3: frozenset({"profiles", "posts"})})
    account = AccountRef("youtube", platform_user_id="UCuAXFkgsw1L7xaCfnd5JJOw", account_id=3)
    about = spider._about_source("token", None)
    assert not spider.wanted(account, about)
    assert spider.wanted(account, spider._rss_source("UCuAXFkgsw1L7xaCfnd5JJOw"))
    weekly = make_spider(YouTubeSpider, due={3: frozenset({"profiles", "details"})})
    assert weekly.wanted(account, about)


def test_bilibili_fallbacks_run_only_when_the_card_gives_no_followers() -> None:
    spider = make_spider(BilibiliSpider)
    spider.wbi_keys = ("0" * 32, "0" * 32)
    account = AccountRef("bilibili", platform_user_id="2", account_id=1)
    card, *fallbacks = spider.sources(account)
    assert spider.next_sources(account, card, Profile(platform="bilibili", followers=5), b"{}", fallbacks) == []
    assert spider.next_sources(account, card, Profile(platform="bilibili"), b"{}", fallbacks) == fallbacks


def test_the_policy_makes_details_due_weekly_and_profiles_daily() -> None:
    policy = RefreshPolicy.load()
    now = utcnow()
    yesterday = (now - timedelta(days=1, minutes=1)).isoformat()
    refreshed = {"profiles": yesterday, "posts": yesterday, "details": (now - timedelta(days=3)).isoformat()}
    assert policy.due_kinds("weibo", refreshed, now) == ["profiles", "posts"]
    refreshed["details"] = (now - timedelta(days=7, minutes=1)).isoformat()
    assert policy.due_kinds("weibo", refreshed, now) == ["profiles", "details", "posts"]


def test_plan_prints_requests_per_day_and_identities_for_2000_candidates(sqlite_url: str) -> None:
    import json

    from tests.helpers import run_wangzi

    result = run_wangzi("plan", "--assume", "2000", "--json", database_url=sqlite_url,
                        env={"WANGZI_PROXY_RATES": '{"*": 0.05}', "WANGZI_PROXIES": "http://127.0.0.1:9 name=a, http://127.0.0.1:10 name=b",
                             "WANGZI_X_SESSIONS": ""})
    assert result.returncode == 0, result.stderr
    plans = {p["platform"]: p for p in json.loads(result.stdout)}
    assert plans["bilibili"]["per_account"] == 1.0  # the card, daily
    assert round(plans["weibo"]["per_account"], 2) == 3.14  # getIndex + 2 post pages daily, the INFO container weekly
    assert round(plans["youtube"]["per_account"], 2) == 2.14
    # At 0.05 requests/s per identity: Bilibili's 2,000 a day take 11.1 hours (1 identity; 2 proxies
    # configured), TikTok's 4,000 22.2 hours (1), Weibo's 6,286 34.9 hours (2).
    assert plans["bilibili"]["identities_needed"] == 1 and plans["bilibili"]["identities_configured"] == 2
    assert plans["tiktok"]["identities_needed"] == 1 and round(plans["tiktok"]["hours_one_identity"], 1) == 22.2
    assert plans["weibo"]["identities_needed"] == 2 and round(plans["weibo"]["hours_one_identity"], 1) == 34.9
    assert plans["x"]["identities_configured"] == 0  # no X session: nothing can be asked
