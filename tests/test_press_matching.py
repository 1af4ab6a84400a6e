"""Name matching and confirmation rules (enrichment/press.py) and outlets (enrichment/outlets.py)."""

from __future__ import annotations

import pytest

from enrichment.outlets import clean_url, outlet_for, registered_domain
from enrichment.press import (
    MIN_CONFIDENCE, NameMatcher, confirm_mention, fold, mention_confidence, searchable_aliases,
)


def owners(matcher: NameMatcher, text: str) -> list[object]:
    return [m.owner for m in matcher.find(text)]


@pytest.fixture(scope="module")
def matcher() -> NameMatcher:
    return NameMatcher({1: ["李佳琦", "Li Jiaqi"], 2: ["Zoë Lin"], 3: ["Papi酱", "papi"], 4: ["木村拓哉"]})


def test_cjk_names_match_inside_text_without_spaces(matcher: NameMatcher) -> None:
    assert owners(matcher, "昨晚李佳琦直播间卖出了很多") == [1]
    assert owners(matcher, "木村拓哉さんが来日した") == [4]


def test_latin_names_need_word_boundaries(matcher: NameMatcher) -> None:
    assert owners(matcher, "Li Jiaqi's show") == [1]
    assert owners(matcher, "Li Jiaqiang said") == []
    assert owners(matcher, "Oli Jiaqi") == []
    assert owners(matcher, "主播Li Jiaqi说") == [1]  # a Han character next to a Latin name is a boundary


def test_katakana_names_do_not_match_inside_longer_katakana_words() -> None:
    lee = NameMatcher({1: ["リー"], 2: ["リサ"]})
    assert owners(lee, "リーさんが来日した") == [1]
    assert owners(lee, "リー・ジャーチー氏") == [1]  # the middle dot separates names
    assert owners(lee, "中国のリーが") == [1]
    assert owners(lee, "チームのリーダーとストーリー") == []  # leader, story
    assert owners(lee, "リサイクルの話") == []  # recycle
    assert owners(NameMatcher({1: ["李佳琦"]}), "小李佳琦们") == [1]  # Han has no boundary to check


def test_latin_tricky_neighbours_and_accents() -> None:
    names = NameMatcher({1: ["Li"], 2: ["José"]})
    assert owners(names, "Lisa and Oli met") == []  # "Li" is not inside other words
    assert owners(names, "JOSE said, and josé agreed") == [2, 2]
    assert owners(names, "ＪＯＳＥ") == [2]


def test_latin_names_ignore_case_accents_and_full_width(matcher: NameMatcher) -> None:
    assert owners(matcher, "ZOE LIN opened a shop") == [2]
    assert owners(matcher, "zoë lin") == [2]
    assert owners(matcher, "ＬＩ　ＪＩＡＱＩ") == [1]  # full-width letters and ideographic space
    assert owners(matcher, "ＬＩ ＪＩＡＱＩ sold") == [1]


def test_fold_keeps_length_and_japanese_voicing() -> None:
    for text in ("Zoë", "ＡＢＣ", "がぎぐ", "İstanbul", "Straße", "李佳琦"):
        assert len(fold(text)) == len(text)
    assert fold("がぎぐ") == "がぎぐ"


def test_many_owners_in_one_text_in_order(matcher: NameMatcher) -> None:
    found = matcher.find("Papi酱 and 李佳琦 met Zoe Lin")
    assert [(m.owner, m.alias) for m in found] == [(3, "Papi酱"), (3, "papi"), (1, "李佳琦"), (2, "Zoë Lin")]


def test_short_and_common_aliases_are_never_searched_alone() -> None:
    assert searchable_aliases(["李", "L", "Lily", "Happy", "Li Jiaqi", "li  jiaqi", None, ""]) == ["Li Jiaqi"]
    assert NameMatcher({1: ["Lily"]}).find("Lily said") == []


def test_a_name_with_creator_context_scores_above_the_threshold() -> None:
    text = "Li Jiaqi, the livestreamer known as the lipstick king, sold French perfume on Taobao Live."
    result = confirm_mention("Lipstick king is back", text, ["李佳琦", "Li Jiaqi"], context=["lipstickking"])
    assert result.confirmed and result.matched_alias == "Li Jiaqi"
    assert result.confidence >= MIN_CONFIDENCE
    assert "Li Jiaqi" in result.snippet


def test_a_namesake_without_context_is_confirmed_with_low_confidence() -> None:
    result = confirm_mention("Quantum dots", "Li Jiaqi, a physics professor, said the crystal grew.", ["Li Jiaqi"])
    assert result.confirmed
    assert result.confidence < MIN_CONFIDENCE


def test_handles_count_as_context() -> None:
    text = "Li Jiaqi (@lijiaqi_official) posted a video."
    plain = confirm_mention(None, text, ["Li Jiaqi"])
    with_handle = confirm_mention(None, text, ["Li Jiaqi"], context=["lijiaqi_official"])
    assert with_handle.confidence > plain.confidence


def test_spellings_of_one_context_word_count_once() -> None:
    result = confirm_mention(None, "Li Jiaqi livestream live-streaming livestreamer", ["Li Jiaqi"])
    assert result.confidence == mention_confidence(False, ["livestream"])


def test_no_alias_no_confirmation() -> None:
    result = confirm_mention("Weather", "Cold wave in Seoul", ["Li Jiaqi"])
    assert (result.confirmed, result.matched_alias, result.snippet, result.confidence) == (False, None, None, None)


def test_confidence_rule_is_capped() -> None:
    assert mention_confidence(False, []) == 0.3
    assert mention_confidence(True, []) == 0.4
    assert mention_confidence(True, ["a", "b", "c", "d", "e"]) == 1.0


@pytest.mark.parametrize(("url", "domain", "country"), [
    ("https://www3.nhk.or.jp/news/easy/x.html", "nhk.or.jp", "JP"),
    ("https://www.bbc.co.uk/news/x", "bbc.co.uk", "GB"),
    ("https://www.dw.com/en/x", "dw.com", "DE"),  # outlet table
    ("https://edition.cnn.com/x", "cnn.com", "US"),
    ("https://finance.sina.com.cn/x", "sina.com.cn", "CN"),
    ("https://some-channel.tv/x", "some-channel.tv", None),  # .tv is sold as a generic name
    ("https://www.eluniversal.com.co/x", "eluniversal.com.co", "CO"),  # ...but com.co is Colombia's own
    ("https://startup.co/x", "startup.co", None),
    ("https://www.vijesti.co.me/x", "vijesti.co.me", "ME"),
    ("https://unknown-blog.com/x", "unknown-blog.com", None),
])
def test_outlet_domain_and_country(url: str, domain: str, country: str | None) -> None:
    outlet = outlet_for(url)
    assert (outlet.domain, outlet.country) == (domain, country)


def test_gdelt_source_country_name_wins_over_the_domain() -> None:
    assert outlet_for("https://www.scmp.com/x", source_country="Hong Kong").country == "HK"
    assert outlet_for("https://example.com/x", source_country="Japan").country == "JP"


def test_registered_domain_needs_no_network() -> None:
    assert registered_domain("https://a.b.example.co.uk/x") == "example.co.uk"
    assert registered_domain("http://localhost:8000/") is None


def test_tracking_parameters_are_dropped() -> None:
    assert clean_url("https://WWW.Example.com/a?utm_source=x&id=3&fbclid=1&oc=5#top") == "https://www.example.com/a?id=3"
