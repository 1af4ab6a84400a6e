"""Sponsored and brand posts in every language we crawl: disclosures found in Chinese, English,
Japanese, Korean, German, French, Spanish and Portuguese text; the look-alikes that are not
(合作 alone, contact lines, negations, #adidas, #pr, an English #pub); and the sales-driving
features built on them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from enrichment.disclosures import (
    DisclosureError,
    DisclosureFinder,
    default_disclosures,
)
from enrichment.features import CandidateInput, PostRow, analyse_posts, compute_features
from enrichment.features.sponsored import sponsored_features

AS_OF = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)


def found(text: str, language: str | None = None) -> list[str]:
    return [d.label for d in default_disclosures().find(text, language)]


@pytest.mark.parametrize(("text", "labels"), [
    ("今天这期是恰饭视频，感谢兰蔻", ["zh:恰饭"]),
    ("#广告# 兰蔻小黑瓶真的好用", ["zh:#广告"]),
    ("【广告】海蓝之谜面霜", ["zh:#广告"]),
    ("感谢SK-II赞助本期视频", ["zh:赞助"]),
    ("本视频含商业推广", ["zh:商业推广"]),
    ("合作品牌：兰蔻", ["zh:合作品牌"]),
    ("#品牌合作# 资生堂红腰子", ["zh:#品牌合作"]),
    ("全程软广，大家理性看待", ["zh:软广"]),
])
def test_chinese_disclosures(text: str, labels: list[str]) -> None:
    assert found(text, "zh") == labels


@pytest.mark.parametrize("text", [
    "和朋友合作完成的视频，合作愉快",  # 合作 alone: cooperation, not a disclosure
    "品牌合作请私信，邮箱abc@163.com",  # the contact line of a footer
    "商务合作：vx wangzi123",
    "广告合作 微信 wz2026",
    "这不是广告，纯自费分享",  # a bare 广告, negated anyway
    "不恰饭，纯分享",
    "求赞助！有没有品牌看看我",
    "#广告片# 拍摄花絮",  # another tag
    "今天去看了广告牌",
])
def test_chinese_look_alikes_are_not_disclosures(text: str) -> None:
    assert found(text, "zh") == []


@pytest.mark.parametrize(("text", "labels"), [
    # From the stored YouTube RSS sample (tests/fixtures/youtube/rss_kurzgesagt).
    ("This video was sponsored by Brilliant. Thanks a lot for the support!", ["en:sponsored by"]),
    ("The first app is free for life. Thanks to Odoo for sponsoring this video!", ["en:for sponsoring"]),
    ("#AD | my morning routine with La Mer", ["en:#ad"]),
    ("Loving this serum [ad]", ["en:#ad"]),
    ("In paid partnership with Dior", ["en:paid partnership"]),
    ("New shade #gifted #sponsored", ["en:#gifted", "en:#sponsored"]),
    ("＃ＡＤ full-width tag", ["en:#ad"]),
])
def test_english_disclosures(text: str, labels: list[str]) -> None:
    assert sorted(found(text, "en")) == sorted(labels)


@pytest.mark.parametrize("text", [
    "New #adidas drop, #ads_manager tips",  # other tags
    "Not sponsored, I just love it #notsponsored",
    "This is not an #ad",
    "For paid partnerships email me at hello@example.com",
    "paid partnerships: DM me",
    "New deadlift #pr today",  # a personal record, lower case
    "Great night at the #pub",  # French for ad, English for a pub
    "sponsored content is everywhere these days",  # no disclosure phrase
])
def test_english_look_alikes_are_not_disclosures(text: str) -> None:
    assert found(text, "en") == []


@pytest.mark.parametrize(("text", "language", "labels"), [
    ("#PR 資生堂の新作をお試し", "ja", ["ja:#PR"]),
    ("【PR】新作コスメ", "ja", ["ja:#PR"]),
    ("タイアップ投稿です", "ja", ["ja:タイアップ投稿"]),
    ("#協賛 イベントに参加", "ja", ["ja:#協賛"]),
    ("#광고 신제품 리뷰", "ko", ["ko:#광고"]),
    ("유료 광고 포함", "ko", ["ko:유료 광고"]),
    ("제품 협찬 받았습니다", "ko", ["ko:협찬"]),
    ("Meine neue Creme #Werbung", "de", ["de:#werbung"]),
    ("#Anzeige Nivea Sommer", "de", ["de:#anzeige"]),
    ("Bezahlte Partnerschaft mit Nivea", "de", ["de:bezahlte partnerschaft"]),
    ("Ma routine #sponsorisé", "fr", ["fr:#sponsorisé"]),
    ("Ma routine du soir #pub", "fr", ["fr:#pub"]),
    ("Collaboration commerciale avec Lancôme", "fr", ["fr:collaboration commerciale"]),
    ("Mi rutina #publi", "es", ["es:#publi"]),
    ("Colaboración pagada con Dior", "es", ["es:colaboración pagada"]),
    ("Parceria paga com Nivea", "pt", ["pt:parceria paga"]),
    ("Collaborazione #adv", "it", ["it:#adv"]),
])
def test_disclosures_in_other_languages(text: str, language: str, labels: list[str]) -> None:
    assert sorted(found(text, language)) == sorted(labels)


@pytest.mark.parametrize(("text", "language"), [
    ("광고 아님, 내돈내산 후기", "ko"),
    ("노협찬 후기입니다", "ko"),
    ("협찬 아님", "ko"),
    ("unbezahlte Werbung wegen Markennennung", "de"),
    ("[Werbung] (unbezahlt) Markennennung", "de"),
    ("#unbezahltewerbung", "de"),
    ("#pr 自己ベスト更新", "ja"),
    ("pas sponsorisé par la marque, #pasdepub", "fr"),
])
def test_negated_and_look_alike_disclosures_in_other_languages(text: str, language: str) -> None:
    assert found(text, language) == []


def test_a_malformed_disclosures_table_is_refused() -> None:
    with pytest.raises(DisclosureError, match=r"\[xx\] tags"):
        DisclosureFinder({"xx": {"tags": ["ok", ""]}})
    finder = DisclosureFinder({"xx": {"tags": ["promo"], "phrases": ["paid by"], "negations_before": ["not"]}})
    assert [d.label for d in finder.find("#promo, paid by them")] == ["xx:#promo", "xx:paid by"]
    assert finder.find("not paid by them") == []


# --------------------------------------------------------------------------- features


def post(n: int, text: str, likes: int, account_id: int = 1) -> PostRow:
    return PostRow(account_id, "weibo", AS_OF - timedelta(days=n), text=text, likes=likes, comments=0, shares=0)


def features_of(posts: list[PostRow]) -> dict:
    return sponsored_features(posts, analyse_posts(posts), AS_OF)


def test_sponsored_share_brands_countries_and_engagement_against_organic_posts() -> None:
    posts = [
        post(1, "#广告# 兰蔻小黑瓶，真的好用", 900),
        post(2, "恰饭：SK-II神仙水", 700),
        post(3, "This video was sponsored by Nivea", 500),
        post(4, "今天在家做饭", 400),
        post(5, "和朋友合作完成的视频", 300),
        post(6, "周末去爬山", 200),
        post(300, "#广告 资生堂", 10_000),  # not recent: outside the 180 days
    ]
    features = features_of(posts)
    assert features["sponsored_posts"] == 3
    assert features["sponsored_post_share"] == pytest.approx(3 / 6)
    assert features["sponsored_brands"] == ["Lancôme", "Nivea", "SK-II"]
    assert features["sponsored_brands_distinct"] == 3
    assert features["sponsored_brand_countries"] == ["DE", "FR", "JP"]
    assert features["sponsored_brand_countries_distinct"] == 3
    assert features["sponsored_engagement_median"] == 700
    assert features["organic_engagement_median"] == 300
    assert features["sponsored_engagement_ratio"] == pytest.approx(700 / 300)
    assert features["sponsored_disclosures"] == {"en:sponsored by": 1, "zh:#广告": 1, "zh:恰饭": 1}


def test_posts_read_with_no_disclosure_give_zero_and_no_text_gives_null() -> None:
    plain = features_of([post(1, "今天在家做饭", 100), post(2, "周末去爬山", 50)])
    assert plain["sponsored_posts"] == 0 and plain["sponsored_post_share"] == 0
    assert plain["sponsored_brands_distinct"] == 0 and plain["sponsored_engagement_ratio"] is None
    none = features_of([post(1, "", 100)])
    assert none["sponsored_posts"] is None and none["sponsored_post_share"] is None
    assert none["sponsored_brands_distinct"] is None and none["sponsored_disclosures"] == {}


def test_compute_features_includes_the_sponsored_family() -> None:
    features = compute_features(CandidateInput(1, posts=[post(1, "Ma routine du soir #pub avec Lancôme", 100)],
                                               accounts={1: "weibo"}), AS_OF)
    assert features["sponsored_posts"] == 1 and features["sponsored_brands"] == ["Lancôme"]


def test_sponsored_posts_feed_the_sales_driving_index_with_the_default_weights() -> None:
    from enrichment.indices import load_weights, score_cohort
    from enrichment.schema import FEATURE_NAMES

    weights = load_weights(known_features=FEATURE_NAMES)
    assert {"sponsored_brands_distinct", "sponsored_brand_countries_distinct", "sponsored_engagement_ratio",
            "sponsored_post_share"} <= set(weights.indices["sales_driving"])
    organic = [post(1, "今天在家做饭", 400), post(2, "周末去爬山", 300), post(3, "兰蔻小黑瓶，真的好用", 500)]
    paid = [post(1, "#广告# 兰蔻小黑瓶，真的好用", 900), post(2, "恰饭：SK-II神仙水", 700),
            post(3, "This video was sponsored by Nivea", 500), post(4, "今天在家做饭", 400)]
    # Same brands named in the open as in paid posts, so only the sponsored family differs.
    plain = [post(1, "兰蔻小黑瓶，真的好用", 900), post(2, "SK-II神仙水", 700),
             post(3, "Nivea all day", 500), post(4, "今天在家做饭", 400)]
    scores = score_cohort({1: features_of(paid), 2: features_of(plain), 3: features_of(organic)}, weights)
    assert scores[1]["sales_driving_index"] > scores[2]["sales_driving_index"]
    assert scores[1]["sales_driving_coverage"] >= scores[2]["sales_driving_coverage"]
    contributors = {item["component"] for item in scores[1]["top_contributors"]["sales_driving"]}
    assert contributors & {"sponsored_brands_distinct", "sponsored_brand_countries_distinct", "sponsored_post_share"}
