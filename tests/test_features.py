"""Features on hand-built histories with known answers: growth windows and gaps, rounded
numbers, missing platforms, posts (engagement, cadence, language, brands, sourcing trips),
overseas living signals, press, and a candidate with no data at all."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from enrichment.brands import default_brands, load_brands
from enrichment.features import (
    CandidateInput,
    PostRow,
    PressRow,
    SnapshotRow,
    account_growth,
    compute_features,
    growth_features,
    press_features,
)
from enrichment.keywords import default_keywords
from enrichment.language import detect_language, detect_languages
from enrichment.schema import FEATURE_NAMES

AS_OF = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)


def day(n: float) -> datetime:
    """n days before AS_OF."""
    return AS_OF - timedelta(days=n)


def daily(account_id: int, platform: str, start: int, days: int, step: int, **extra: object) -> list[SnapshotRow]:
    """One snapshot a day for ``days`` days ending today: followers = start + step * day index."""
    return [SnapshotRow(account_id, platform, day(days - 1 - i), start + step * i, **extra) for i in range(days)]  # type: ignore[arg-type]


# --------------------------------------------------------------------------- growth


def test_growth_over_daily_history_is_the_difference_to_the_snapshot_at_the_window_start() -> None:
    rows = daily(1, "weibo", 10_000, 120, 10)  # today 10_000 + 1190
    growth = growth_features(rows, AS_OF)
    assert growth["growth_7d_weibo_abs"] == 70
    assert growth["growth_30d_weibo_abs"] == 300
    assert growth["growth_90d_weibo_abs"] == 900
    assert growth["growth_7d_weibo_rel"] == pytest.approx(70 / (11_190 - 70))
    assert growth["growth_30d_abs"] == 300 and growth["growth_30d_platforms"] == 1
    assert growth["growth_7d_approximate"] is False


def test_growth_is_null_when_history_is_shorter_than_the_window() -> None:
    growth = growth_features(daily(1, "weibo", 500, 20, 5), AS_OF)
    assert growth["growth_7d_weibo_abs"] == 35
    assert growth["growth_30d_weibo_abs"] is None
    assert growth["growth_90d_weibo_abs"] is None
    assert growth["growth_90d_abs"] is None and growth["growth_90d_platforms"] == 0


def test_growth_never_bridges_a_gap_longer_than_the_window() -> None:
    rows = [SnapshotRow(1, "bilibili", day(100), 1_000), SnapshotRow(1, "bilibili", day(0), 1_500)]
    growth = growth_features(rows, AS_OF)
    # 7 and 30 days: the nearest snapshot before the start is 93 / 70 days older than it.
    assert growth["growth_7d_bilibili_abs"] is None
    assert growth["growth_30d_bilibili_abs"] is None
    # 90 days: the base is 10 days before the start, inside one window: a real comparison.
    assert growth["growth_90d_bilibili_abs"] == 500
    assert growth["growth_90d_bilibili_rel"] == pytest.approx(0.5)


def test_growth_uses_the_nearest_snapshot_at_or_before_the_start_not_an_interpolation() -> None:
    rows = [SnapshotRow(1, "weibo", day(12), 1_000), SnapshotRow(1, "weibo", day(2), 2_000), SnapshotRow(1, "weibo", day(0), 2_100)]
    growth = account_growth(rows, AS_OF, 7)
    assert growth is not None and growth.absolute == 1_100 and growth.base_at == day(12)


def test_growth_is_null_when_the_newest_snapshot_is_older_than_the_window() -> None:
    rows = daily(1, "weibo", 100, 60, 1)
    stale_as_of = AS_OF + timedelta(days=10)
    assert growth_features(rows, stale_as_of)["growth_7d_weibo_abs"] is None
    # 30 days back from as_of: the newest snapshot (10 days old) is inside, compared with the one 20 days before it.
    assert growth_features(rows, stale_as_of)["growth_30d_weibo_abs"] == 20


def test_snapshots_without_a_follower_count_are_skipped_not_read_as_zero() -> None:
    rows = [SnapshotRow(1, "weibo", day(8), 1_000), SnapshotRow(1, "weibo", day(1), None), SnapshotRow(1, "weibo", day(0), None)]
    features = compute_features(CandidateInput(1, rows, accounts={1: "weibo"}), AS_OF)
    assert features["followers_weibo"] == 1_000
    assert features["growth_7d_weibo_abs"] is None  # the newest count is older than 7 days


def test_growth_total_sums_platforms_with_data_and_flags_rounded_endpoints() -> None:
    rows = daily(1, "weibo", 10_000, 40, 100) + daily(2, "youtube", 20_000, 40, 0, approximate=("followers",))
    growth = growth_features(rows, AS_OF)
    assert growth["growth_30d_abs"] == 3_000
    assert growth["growth_30d_rel"] == pytest.approx(3_000 / (10_000 + 900 + 20_000))
    assert growth["growth_30d_platforms"] == 2
    assert growth["growth_30d_approximate"] is True


# --------------------------------------------------------------------------- reach, freshness, missing platforms


def test_reach_with_rounded_numbers_missing_and_stale_platforms() -> None:
    rows = [
        SnapshotRow(1, "weibo", day(1), 12_000, approximate=("followers",)),
        SnapshotRow(2, "youtube", day(30), 3_000),
        SnapshotRow(3, "douyin", day(2), 100_000, approximate=("followers",), lower_bound=("followers",)),
    ]
    accounts = {1: "weibo", 2: "youtube", 3: "douyin", 4: "instagram"}
    features = compute_features(CandidateInput(1, rows, accounts=accounts), AS_OF)
    assert features["followers_weibo"] == 12_000
    assert features["followers_instagram"] is None and features["followers_x"] is None
    assert features["followers_domestic"] == 112_000
    assert features["followers_overseas"] == 3_000
    assert features["followers_total"] == 115_000
    assert features["overseas_share"] == pytest.approx(3_000 / 115_000)
    assert features["followers_approximate_platforms"] == 2
    assert features["followers_lower_bound_platforms"] == 1
    assert features["stale_platforms"] == ["youtube"]
    assert features["missing_platforms"] == ["instagram"]
    assert features["snapshot_age_days_youtube"] == pytest.approx(30)
    assert features["newest_snapshot_age_days"] == pytest.approx(1)


def test_overseas_share_is_null_when_overseas_accounts_exist_but_were_not_read() -> None:
    rows = [SnapshotRow(1, "weibo", day(1), 1_000)]
    with_youtube = compute_features(CandidateInput(1, rows, accounts={1: "weibo", 2: "youtube"}), AS_OF)
    domestic_only = compute_features(CandidateInput(1, rows, accounts={1: "weibo"}), AS_OF)
    assert with_youtube["overseas_share"] is None
    assert domestic_only["overseas_share"] == 0.0


def test_a_candidate_with_no_data_has_null_features_not_zeros() -> None:
    features = compute_features(CandidateInput(7), AS_OF)
    assert set(features) == set(FEATURE_NAMES)
    for name in ("followers_total", "followers_overseas", "overseas_share", "growth_7d_abs", "engagement_median",
                 "posts_per_week", "posts_recent", "foreign_language_share", "brands_distinct", "ip_abroad",
                 "declared_abroad", "press_365d", "press_weighted_365d", "sourcing_trip_posts"):
        assert features[name] is None, name
    assert features["platforms_with_data"] == 0


# --------------------------------------------------------------------------- posts


def post(text: str, days_ago: float, likes: int | None = None, comments: int | None = None, shares: int | None = None,
         account_id: int = 1, platform: str = "weibo") -> PostRow:
    return PostRow(account_id, platform, day(days_ago), text=text, likes=likes, comments=comments, shares=shares)


def test_engagement_medians_and_cadence() -> None:
    posts = [
        post("日常分享一下今天的午饭", 1, 100, 10, 0),  # 110
        post("周末去爬山了好开心", 8, 200, None, None),  # 200 (only likes shown)
        post("新年快乐大家", 15, None, None, None),  # no counts shown: not 0
        post("去年的旧帖子内容", 400, 9_999, 0, 0),  # outside the recent window
    ]
    snapshots = [SnapshotRow(1, "weibo", day(0), 1_000)]
    features = compute_features(CandidateInput(1, snapshots, posts, accounts={1: "weibo"}), AS_OF)
    assert features["posts_recent"] == 3
    assert features["engagement_median"] == pytest.approx(155)
    assert features["engagement_per_follower_median"] == pytest.approx(0.155)
    assert features["posts_per_week"] == pytest.approx(3 / 180 * 7, rel=1e-3)


def test_cadence_over_the_span_the_stored_posts_cover() -> None:
    posts = [post(f"第{i}条日常", i) for i in range(1, 15)]  # 14 posts over the last 14 days
    features = compute_features(CandidateInput(1, posts=posts, accounts={1: "weibo"}), AS_OF)
    assert features["posts_per_week"] == pytest.approx(7.0)


def test_brands_countries_and_engagement_on_brand_posts() -> None:
    posts = [
        post("这次海淘了Omorovicza的面霜，匈牙利的小众品牌", 3, 1_000, 100, 0),
        post("Zeus 24K gold mask haul", 4, 800, 0, 0),
        post("资生堂和SK-II对比测评", 5, 600, 0, 0),
        post("今天在家做饭", 6, 100, 0, 0),
        post("周末散步", 7, 300, 0, 0),
    ]
    features = compute_features(CandidateInput(1, posts=posts, accounts={1: "weibo"}), AS_OF)
    assert features["brands"] == ["Omorovicza", "SK-II", "Shiseido", "Zeus 24K"]
    assert features["brands_distinct"] == 4
    assert features["brand_countries"] == ["HU", "JP"]  # Zeus 24K's origin is not recorded
    assert features["brand_countries_distinct"] == 2
    assert features["brands_by_country"]["HU"] == ["Omorovicza"]
    assert features["brand_posts"] == 3
    assert features["brand_post_share"] == pytest.approx(3 / 5)
    assert features["brand_engagement_median"] == pytest.approx(800)
    assert features["nonbrand_engagement_median"] == pytest.approx(200)
    assert features["brand_engagement_ratio"] == pytest.approx(4.0)
    assert features["shopping_post_share"] == pytest.approx(2 / 5)  # 海淘, haul
    assert features["brand_first_seen"]["Zeus 24K"] == day(4).isoformat()


def test_foreign_language_share_and_keywords() -> None:
    posts = [
        post("今天分享一下我的护肤步骤和心得", 1),
        post("Trying the new serum from Paris today, really good", 2),
        post("東京で化粧品を買いました", 3),
        post("免税店扫货攻略来啦", 4),
        post("ok", 5),  # too short to tell: not counted either way
    ]
    features = compute_features(CandidateInput(1, posts=posts, accounts={1: "weibo"}), AS_OF)
    assert features["foreign_language_share"] == pytest.approx(2 / 4)
    assert features["languages"] == ["en", "ja", "zh"]
    assert features["shopping_post_share"] == pytest.approx(1 / 5)


def test_sourcing_trip_posts_need_a_foreign_place() -> None:
    posts = [
        post("去新西兰的牧场溯源，看看奶粉的原产地", 1),
        post("Factory visit in Japan: how the masks are made", 2),
        post("去杭州探厂，国货加油", 3),
        post("普通的一天", 4),
    ]
    features = compute_features(CandidateInput(1, posts=posts, accounts={1: "weibo"}), AS_OF)
    assert features["sourcing_posts"] == 3
    assert features["sourcing_trip_posts"] == 2
    assert features["sourcing_trip_countries"] == ["JP", "NZ"]


def test_brand_matching_respects_word_boundaries_and_prefers_the_longest_alias() -> None:
    finder = default_brands()
    assert finder.find("a new machine for coffee") == set()
    assert {b.name for b in finder.find("资生堂胶原蛋白饮")} == {"Shiseido The Collagen"}
    assert {b.name for b in finder.find("ＯＭＯＲＯＶＩＣＺＡ")} == {"Omorovicza"}


def test_the_brand_dictionary_is_large_and_well_formed() -> None:
    brands = load_brands()
    assert len(brands) >= 300
    by_name = {b.name: b for b in brands}
    assert by_name["Omorovicza"].country == "HU"
    assert "Zeus 24K" in by_name
    assert {b.category for b in brands} >= {"cosmetics", "supplements", "baby", "luxury", "appliances"}


def test_keyword_groups_come_from_the_data_file() -> None:
    groups = default_keywords()
    assert groups.groups_in("海淘代购免税") == {"shopping"}
    assert groups.groups_in("探厂 vlog") == {"sourcing"}
    assert groups.groups_in("hauling boxes") == set()


def test_language_detection_by_script_and_lingua() -> None:
    assert detect_languages(["你好世界今天很开心", "안녕하세요 여러분", "Bonjour à tous, je suis à Paris", None, "ok"]) == [
        "zh", "ko", "fr", None, None]
    assert detect_language("Hello everyone, welcome back to my channel") == "en"
    # Brand names in Latin script do not make a Chinese post foreign; a Latin-script post with a
    # Chinese brand name is still foreign.
    assert detect_language("今天用了Omorovicza的面霜，SK-II也不错") == "zh"
    assert detect_language("Trying 雅诗兰黛 for the first time, a quick haul from Tokyo") == "en"


# --------------------------------------------------------------------------- overseas living


def test_ip_location_abroad_with_platform_and_time() -> None:
    rows = [
        SnapshotRow(1, "weibo", day(40), 1, ip_location="广东"),
        SnapshotRow(1, "weibo", day(3), 1, ip_location="IP属地：美国"),
        SnapshotRow(1, "weibo", day(1), 1),  # no IP shown this time: the newest shown one counts
        SnapshotRow(2, "xiaohongshu", day(2), 1, ip_location="上海"),
        SnapshotRow(3, "youtube", day(2), 1, country="JP"),
    ]
    features = compute_features(CandidateInput(1, rows, accounts={1: "weibo", 2: "xiaohongshu", 3: "youtube"}), AS_OF)
    assert features["ip_abroad"] is True
    assert features["ip_abroad_platforms"] == ["weibo"]
    assert features["ip_countries"] == ["CN", "US"]
    assert features["ip_abroad_seen_at"] == day(3).isoformat()
    assert features["declared_abroad"] is True and features["declared_countries"] == ["JP"]


def test_ip_location_in_mainland_china_is_false_and_absent_is_null() -> None:
    inside = compute_features(CandidateInput(1, [SnapshotRow(1, "weibo", day(1), 1, ip_location="北京")], accounts={1: "weibo"}), AS_OF)
    unknown = compute_features(CandidateInput(1, [SnapshotRow(1, "weibo", day(1), 1)], accounts={1: "weibo"}), AS_OF)
    assert inside["ip_abroad"] is False and inside["declared_abroad"] is None
    assert unknown["ip_abroad"] is None


# --------------------------------------------------------------------------- press


def test_press_counts_weights_and_null_without_press_data() -> None:
    assert all(v is None for v in press_features(None, AS_OF).values())
    mentions = [
        PressRow(day(0), "https://a.example/1", "a.example", "US", "en", 1.0),
        PressRow(day(180), "https://b.example/2", "b.example", "FR", "fr", 0.5),
        PressRow(day(20), "https://a.example/3", "a.example", "US", "en", 1.0, status="unconfirmed"),
        PressRow(day(60), "https://c.example/4", "c.example", "CN", "zh", 1.0),  # domestic outlet: not overseas press
        PressRow(day(400), "https://d.example/5", "d.example", "GB", "en", 1.0),
    ]
    press = press_features(mentions, AS_OF)
    assert (press["press_30d"], press["press_90d"], press["press_365d"]) == (1, 1, 2)
    assert press["press_weighted_365d"] == pytest.approx(1.0 + 0.5 * 0.5)
    assert press["press_outlets_365d"] == 2 and press["press_countries_365d"] == 2 and press["press_languages_365d"] == 2
    assert press["press_unconfirmed_365d"] == 1
    assert press_features([], AS_OF)["press_365d"] == 0  # searched, nothing found: a real zero


def test_a_possible_namesake_and_an_outlet_of_unknown_country_are_not_overseas_press() -> None:
    mentions = [
        PressRow(day(5), "https://a.example/1", "a.example", "US", "en", 0.7),
        PressRow(day(6), "https://g.example/2", "g.example", "GB", "en", 0.3),  # the name, no creator context
        PressRow(day(7), "https://u.example/3", "u.example", None, "en", 0.9),  # country not known
        PressRow(day(8), "https://n.example/4", "n.example", "JP", "ja", None),  # confidence not scored: counts 0.5
    ]
    press = press_features(mentions, AS_OF)
    assert (press["press_30d"], press["press_365d"]) == (2, 2)
    assert press["press_outlets_365d"] == 2 and press["press_countries_365d"] == 2
    assert press["press_last_at"] == day(5).isoformat()
