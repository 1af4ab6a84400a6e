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
