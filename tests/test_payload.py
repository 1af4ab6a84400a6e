"""The small readers every parser shares (spiders/payload.py)."""

from __future__ import annotations

from spiders.pages.payload import as_dict, clean_text, find_key, load_json


def test_load_json_accepts_a_bom_and_answers_none_for_anything_else() -> None:
    assert load_json('\ufeff{"a": 1}'.encode()) == {"a": 1}
    assert load_json(b"<html>") is None
    assert load_json(b"\xff\xfe") is None


def test_as_dict_and_clean_text_never_invent_a_value() -> None:
    assert as_dict([1]) == {} and as_dict({"a": 1}) == {"a": 1}
    assert clean_text("  Mia  ") == "Mia"
    assert clean_text("   ") is None and clean_text(0) is None and clean_text(None) is None


def test_find_key_walks_the_tree_in_document_order() -> None:
    tree = {"a": {"id": 1, "b": [{"id": 2}, {"c": {"id": 3}}]}, "d": {"id": 4}}
    assert list(find_key(tree, "id")) == [1, 2, 3, 4]
    assert list(find_key("not a tree", "id")) == []


def test_epoch_utc_reads_numbers_and_digit_strings_and_refuses_the_impossible() -> None:
    from datetime import datetime, timezone

    from spiders.pages.payload import epoch_utc

    assert epoch_utc(1_700_000_000) == datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)
    assert epoch_utc(" 1700000000 ") == epoch_utc(1_700_000_000)
    assert epoch_utc(0) is None and epoch_utc(-5) is None and epoch_utc(True) is None
    assert epoch_utc(10**15) is None and epoch_utc("soon") is None


def test_parse_iso_time_gives_aware_utc_and_takes_a_naive_time_as_utc() -> None:
    from datetime import datetime, timezone

    from spiders.pages.payload import parse_iso_time

    assert parse_iso_time("2013-12-14T04:35:55.000Z") == datetime(2013, 12, 14, 4, 35, 55, tzinfo=timezone.utc)
    assert parse_iso_time("2013-12-14T13:35:55+09:00") == datetime(2013, 12, 14, 4, 35, 55, tzinfo=timezone.utc)
    assert parse_iso_time(" 2005-09-18T22:37:10 ") == datetime(2005, 9, 18, 22, 37, 10, tzinfo=timezone.utc)
    assert parse_iso_time("yesterday") is None and parse_iso_time(None) is None


def test_load_json_also_reads_text_a_parser_already_decoded() -> None:
    assert load_json('{"a": [1]}') == {"a": [1]}
    assert load_json("<html>") is None and load_json("") is None


def test_first_keeps_zero_and_empty_text_because_they_were_read() -> None:
    from spiders.pages.payload import first

    assert first(None, 0, 5) == 0 and first(None, "", "x") == ""
    assert first(None, None) is None and first() is None


def test_as_bool_reads_only_json_booleans() -> None:
    from spiders.pages.payload import as_bool

    assert as_bool(True) is True and as_bool(False) is False
    assert as_bool(1) is None and as_bool("true") is None and as_bool(None) is None


def test_parse_created_at_reads_the_x_and_weibo_format_as_utc_and_nothing_else() -> None:
    from datetime import datetime, timezone

    from spiders.pages.payload import parse_created_at

    assert parse_created_at("Wed Oct 30 03:17:40 +0000 2024") == datetime(2024, 10, 30, 3, 17, 40, tzinfo=timezone.utc)
    assert parse_created_at("Tue Oct 29 20:15:00 +0800 2019") == datetime(2019, 10, 29, 12, 15, tzinfo=timezone.utc)
    for text in ("5分钟前", "06-14", "2019-06-14", "Tue Feb 30 20:15:00 +0800 2019", None, 1700000000):
        assert parse_created_at(text) is None, text


def test_field_counts_keep_the_first_reading_and_name_rounded_fields_sorted() -> None:
    from enrichment.numbers import Count
    from spiders.pages.payload import FieldCounts

    counts = FieldCounts.read({"likes": "10万+", "followers": "1.2万", "posts": 7, "views": None, "following": -1})
    assert (counts.get("followers"), counts.get("likes"), counts.get("posts")) == (12_000, 100_000, 7)
    assert counts.get("views") is None and counts.get("following") is None  # absent and hidden: not read
    assert counts.approximate == ("followers", "likes") and counts.lower_bound == ("likes",)
    counts.add("posts", Count(8, approximate=True))  # a later reading of the same field is ignored
    counts.add("views", None)
    assert counts.get("posts") == 7 and counts.approximate == ("followers", "likes")
    assert FieldCounts().approximate == () and FieldCounts().get("followers") is None


def test_link_parts_takes_a_link_with_or_without_scheme() -> None:
    from spiders.pages.payload import link_parts

    assert link_parts("https://www.YouTube.com/@kurzgesagt/videos?x=1") == ("youtube.com", ["@kurzgesagt", "videos"])
    assert link_parts("x.com//XDevelopers/") == ("x.com", ["XDevelopers"])
    assert link_parts("mobile.twitter.com") == ("mobile.twitter.com", [])
