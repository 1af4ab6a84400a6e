"""Discovery's pure parts: seeds, query plans, @mentions and graph expansion, the search
requests each spider builds, and the lead pre-score."""

from __future__ import annotations

import json
import random
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from enrichment.leads import pre_score
from records.leads import Hit, SearchQuery
from spiders.discovery import KnownAccount, Seed, SeedError, expand, load_seed_file, mentions_in, parse_seed, plan_queries
from spiders.pages.bilibili import sign_params
from spiders.pages.bilibili_search import buvid3, search_url
from spiders.pages.youtube_search import continuation_body, innertube_body
from spiders.youtube_search import YouTubeSearchSpider
from tests.helpers import make_spider

SEEDS = Path(__file__).resolve().parent.parent / "crawler" / "data" / "seeds.toml"


def test_seeds_are_read_with_their_kind_and_bad_ones_refused() -> None:
    assert parse_seed("海淘") == Seed("keyword", "海淘")
    assert parse_seed("#开箱") == Seed("hashtag", "开箱") == parse_seed("hashtag:#开箱#")
    assert parse_seed("brand:lancome") == Seed("brand", "lancome")
    assert parse_seed("creator:12") == Seed("creator", "12")
    assert parse_seed("ｈａｕｌ") == Seed("keyword", "haul")  # full-width input, as a Chinese IME types it
    with pytest.raises(SeedError, match="brand dictionary"):
        parse_seed("brand:NoSuchBrand")
    with pytest.raises(SeedError, match="control characters"):
        parse_seed("海淘\x1b[2J")


def test_the_bundled_seeds_file_plans_each_platform_in_its_languages() -> None:
    seeds = load_seed_file(SEEDS)
    planned = plan_queries(seeds.seeds(), ["weibo", "youtube", "xiaohongshu"], seeds.platforms,
                           {s: seeds.language_of(s) for s in seeds.seeds()})
    weibo = {(q.kind, q.text) for q in planned["weibo"]}
    assert ("users", "海淘") in weibo and ("posts", "#海外购#") in weibo and ("users", "haul") not in weibo
    assert ("posts", "兰蔻") in weibo  # a brand by its Chinese name on a Chinese platform
    youtube = {(q.kind, q.text) for q in planned["youtube"]}
    assert ("users", "haul") in youtube and ("posts", "Lancome") in youtube and ("users", "#haul") in youtube
    assert {q.kind for q in planned["xiaohongshu"]} == {"posts"}
    assert len(planned["weibo"]) == len({(q.kind, q.text) for q in planned["weibo"]})  # each query once


def test_a_seeds_file_naming_an_unknown_platform_or_brand_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "seeds.toml"
    bad.write_text('[platforms.tiktok]\nkinds = ["users"]\n', encoding="utf-8")
    with pytest.raises(SeedError, match="no search spider for 'tiktok'"):
        load_seed_file(bad)
    bad.write_text('[brands]\nnames = ["Acme Nothing"]\n', encoding="utf-8")
    with pytest.raises(SeedError, match="brand dictionary"):
        load_seed_file(bad)


def test_mentions_stop_at_punctuation_of_both_scripts() -> None:
    text = "合作 @小鹿的海淘日记：东京扫货，@Mika在东京。 with @sakura.beauty. 邮箱 a@b.com @@ @"
    assert mentions_in(text) == ["小鹿的海淘日记", "Mika在东京", "sakura.beauty"]


def test_expansion_names_linked_and_mentioned_accounts_but_never_the_account_itself() -> None:
    youtuber = KnownAccount(platform="youtube", platform_user_id="UC" + "m" * 22, handle="miachen", display_name="Mia",
                            bio="IG: instagram.com/miachen.tokyo", links=("https://www.youtube.com/@miachen",),
                            posts=(("https://www.youtube.com/watch?v=1", "haul with @sakura.beauty and @miachen"),))
    found = expand(youtuber, seed_kind="creator", seed="Mia", hop=1)
    assert {(h.platform, h.handle, h.via) for h in found.hits} == {("instagram", "miachen.tokyo", "link"),
                                                                   ("youtube", "sakura.beauty", "mention")}
    assert found.queries == ()
    weibo = KnownAccount(platform="weibo", platform_user_id="7000000003", display_name="Mika在东京",
                         posts=(("https://m.weibo.cn/detail/1", "扫货 @小鹿的海淘日记 @Mika在东京"),))
    (query,) = expand(weibo, seed_kind="keyword", seed="海淘", hop=1).queries
    assert (query.kind, query.text, query.exact_name, query.via_account, query.hop) == (
        "resolve", "小鹿的海淘日记", "小鹿的海淘日记", "weibo:7000000003", 1)
    assert expand(weibo, seed_kind="keyword", seed="海淘", hop=1, resolvable=("bilibili",)).queries == ()


def test_bilibili_search_urls_are_wbi_signed_like_the_web_app() -> None:
    img, sub = "7cd084941338484aae1ad9425b84077c", "4932caff0ff746eab6f01bf08b70ac45"
    url = search_url("users", "海淘 开箱", 2, img, sub, wts=1702204169)
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert (query["search_type"], query["keyword"], query["page"], query["wts"]) == ("bili_user", "海淘 开箱", "2", "1702204169")
    assert query["w_rid"] == sign_params({"search_type": "bili_user", "keyword": "海淘 开箱", "page": 2}, img, sub, 1702204169)["w_rid"]
    cookie = buvid3(random.Random(7))
    assert cookie.endswith("infoc") and len(cookie) == 46 and cookie[:36].upper() == cookie[:36]


def test_youtube_search_bodies_are_the_web_clients_and_carry_the_continuation() -> None:
    first = json.loads(innertube_body("开箱 haul", "users"))
    assert (first["query"], first["params"], first["context"]["client"]["clientName"]) == ("开箱 haul", "EgIQAg==", "WEB")
    assert json.loads(continuation_body("TOKEN123"))["continuation"] == "TOKEN123"
    spider = make_spider(YouTubeSearchSpider, queries=[SearchQuery(seed_kind="keyword", seed="x", text="x")])
    request = spider.next_request(SearchQuery(seed_kind="keyword", seed="x", text="x"), page="TOKEN123")
    assert request.method == "POST" and json.loads(request.body)["continuation"] == "TOKEN123"
    assert request.cookies == {"SOCS": "CAI"} and spider.requests_sent == 1


def test_a_spent_budget_asks_nothing_more() -> None:
    queries = [SearchQuery(seed_kind="keyword", seed=w, text=w) for w in ("a", "b", "c")]
    spider = make_spider(YouTubeSearchSpider, queries=queries, max_requests=2)
    assert spider.next_request() is not None and spider.next_request() is not None
    assert spider.next_request() is None and spider.stopped == "budget"


def test_pre_score_orders_by_reach_overseas_and_brands() -> None:
    big_abroad = pre_score(followers=1_000_000, country="JP", ip_location=None, brands=["SK-II"], verified=False)
    big_home = pre_score(followers=1_000_000, country="CN", ip_location=None, brands=[], verified=False)
    small_abroad = pre_score(followers=500, country=None, ip_location="美国", brands=["Coach", "Aesop", "SK-II"], verified=True)
    unknown = pre_score(followers=None, country=None, ip_location=None, brands=[], verified=None)
    assert big_abroad > big_home and big_abroad > small_abroad > unknown == 0.0
    assert 0 <= small_abroad <= 1


def test_a_hit_without_any_identity_is_no_lead() -> None:
    from records.leads import LeadItem
    from storage.leads import SEEN, record_lead

    item = LeadItem(hit=Hit(platform="weibo", display_name="nobody"), seed_kind="keyword", seed="x", source="s")
    assert record_lead(None, item) == (SEEN, None)  # type: ignore[arg-type]
