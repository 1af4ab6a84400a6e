"""IP-location labels and country names become ISO codes from maintained tables."""

from __future__ import annotations

import pytest

from enrichment.places import country_code, is_overseas, strip_ip_prefix


@pytest.mark.parametrize(
    ("text", "place"),
    [("IP属地：美国", "美国"), ("IP属地:日本", "日本"), ("IP 属地： 广东", "广东"), ("北京", "北京"),
     ("IP属地：未知", None), ("", None), (None, None)],
)
def test_ip_prefix_is_stripped(text: str | None, place: str | None) -> None:
    assert strip_ip_prefix(text) == place


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("美国", "US"), ("日本", "JP"), ("韩国", "KR"), ("英国", "GB"), ("法国", "FR"),
        ("IP属地：广东", "CN"), ("北京市", "CN"), ("新疆维吾尔自治区", "CN"), ("中国", "CN"),
        ("中国香港", "HK"), ("中国台湾", "TW"), ("澳门", "MO"),
        ("United States", "US"), ("France", "FR"), ("South Korea", "KR"),
        ("アメリカ合衆国", "US"), ("Vereinigte Staaten", "US"), ("美國", "US"),
        ("Paris, France", "FR"), ("美国 加利福尼亚", "US"), ("US", "US"),
    ],
)
def test_country_names_in_many_scripts_become_iso_codes(text: str, code: str) -> None:
    assert country_code(text) == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Newark, New Jersey", "US"), ("Los Angeles, United States", "US"), ("London, Ontario", "CA"),
        ("Tbilisi, Georgia", "GE"), ("Sydney, Australia", "AU"), ("Los Angeles United States", "US"),
        ("Democratic Republic of the Congo", "CD"), ("DR Congo", "CD"), ("Congo", "CG"),
        ("Turkey", "TR"), ("Türkiye", "TR"), ("Turkiye", "TR"), ("Ivory Coast", "CI"), ("Côte d’Ivoire", "CI"),
        ("UAE", "AE"), ("Burma", "MM"), ("Swaziland", "SZ"), ("Macedonia", "MK"), ("Palestine", "PS"),
        ("Iran", "IR"), ("Tōkyō", "JP"), ("Georgia", "GE"),
        ("Korea, North", "KP"), ("Korea, South", "KR"), ("Bahamas, The", "BS"), ("East Timor", "TL"),
    ],
)
def test_written_locations_name_the_country_of_their_last_or_first_part(text: str, code: str) -> None:
    """Only a whole part counts: "New Jersey" is a US state, never the island of Jersey."""
    assert country_code(text) == code


@pytest.mark.parametrize("text", ["Atlanta, Georgia", "Atlanta Georgia", "Punjab", "NYC | LA", "Brooklyn, NY", "she/her"])
def test_a_place_two_countries_could_mean_is_none(text: str) -> None:
    assert country_code(text) is None


@pytest.mark.parametrize("text", ["火星", "hello world", "la", "in", "somewhere nice", None, ""])
def test_unknown_places_are_none_not_a_guess(text: str | None) -> None:
    assert country_code(text) is None


def test_overseas_means_outside_mainland_china() -> None:
    assert is_overseas("US") is True
    assert is_overseas("HK") is True
    assert is_overseas("CN") is False
    assert is_overseas(None) is None


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Austin, TX", "US"), ("Paris, TX", "US"), ("Houston TX", "US"), ("Chicago, IL", "US"),
        ("Toronto, ON", "CA"), ("Montreal, QC", "CA"), ("Vancouver, BC", "CA"),
        ("Sydney NSW", "AU"), ("Melbourne VIC", "AU"), ("Brisbane QLD", "AU"), ("Perth WA", "AU"),
        ("Los Angeles, CA", "US"), ("Toronto, CA", "CA"), ("Rio de Janeiro, RJ", "BR"),
    ],
)
def test_state_and_province_abbreviations_after_a_city_name_their_country(text: str, code: str) -> None:
    """ISO 3166-2's subdivision parts (US-TX, CA-ON, AU-NSW): one country's abbreviation names it;
    a shared one ("ON": also Namibia's and Nigeria's; "CA": also Canada's own code) only when the
    city is a time-zone city of that country in CLDR."""
    assert country_code(text) == code


@pytest.mark.parametrize(
    "text",
    [
        "Seattle, WA",  # WA: Washington, Western Australia (and Iraq's Wasit); Seattle is no zone city
        "London, ON",  # ON is Canadian, Namibian and Nigerian; London is Europe/London
        "Munich, BY",  # BY: Bavaria, Nigeria's Bayelsa, Belarus's own code
        "Brooklyn NY",  # NY: New York and Hungary's Nyíregyháza
        "Austin, tx", "TX", "NSW",  # lower case is a word; an abbreviation alone names no place
    ],
)
def test_a_shared_or_unplaced_abbreviation_is_none(text: str) -> None:
    assert country_code(text) is None


def test_abbreviations_come_from_the_iso_3166_2_table_not_a_hand_list() -> None:
    import pycountry

    from enrichment.places import _subdivision_abbreviations

    table = _subdivision_abbreviations()
    for code in ("US-TX", "CA-ON", "AU-NSW", "BR-SP"):
        assert pycountry.subdivisions.get(code=code) is not None
        country, part = code.split("-")
        assert country in table[part]
    assert table["TX"] == {"US"} and table["NSW"] == {"AU"} and {"CA", "NA", "NG"} <= table["ON"]
