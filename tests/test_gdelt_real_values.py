"""GDELT's own value formats, checked against the only real DOC API output we have.

No raw GDELT DOC JSON exists in the shared samples (the JSON fixtures in tests/fixtures/gdelt
are synthetic). The real print-out of gdeltdoc's DataFrame
(tests/fixtures/samples_reference/gdeltdoc-artlist-dataframe-outputs-2023-09-18-notebook.txt)
does show GDELT's real ``language`` names, ``sourcecountry`` names and ``seendate`` strings:
every one of them must map to an ISO code / a UTC time, or outlets would silently lose their
country and language.
"""

from __future__ import annotations

import re
from datetime import timezone
from pathlib import Path

from enrichment.outlets import outlet_for
from spiders.pages.gdelt import _seendate, language_code

NOTEBOOK = Path(__file__).parent / "fixtures" / "samples_reference" / "gdeltdoc-artlist-dataframe-outputs-2023-09-18-notebook.txt"
ROW = re.compile(r"^\d+\s+(\S+)\s+([A-Z][a-z]+)\s+([A-Z][A-Za-z ]+?)\s*$")


def _rows() -> list[tuple[str, str, str]]:
    """(domain, language, sourcecountry) rows of the print-out's last column block."""
    rows = []
    for line in NOTEBOOK.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            rows.append((match.group(1), match.group(2), match.group(3)))
    return rows


def test_the_print_out_is_read() -> None:
    rows = _rows()
    assert len(rows) >= 30  # two printed blocks: 20 rows, then the first and last 5 of 250
    assert ("jang.com.pk", "Urdu", "Pakistan") in rows
    assert ("finance.sina.com.cn", "Chinese", "China") in rows


def test_every_real_language_name_maps_to_an_iso_639_1_code() -> None:
    names = sorted({language for _, language, _ in _rows()})
    codes = {name: language_code(name) for name in names}
    assert all(codes.values()), {n: c for n, c in codes.items() if not c}
    assert (codes["Spanish"], codes["Urdu"], codes["Chinese"], codes["Punjabi"]) == ("es", "ur", "zh", "pa")


def test_every_real_source_country_name_gives_the_outlet_an_iso_country() -> None:
    for domain, _, country in _rows():
        outlet = outlet_for(f"https://{domain}/story", source_country=country)
        assert outlet.country and len(outlet.country) == 2, (domain, country, outlet.country)
    assert outlet_for("https://tribune.com.pk/x", source_country="Pakistan").country == "PK"
    assert outlet_for("https://finance.sina.com.cn/x", source_country="China").country == "CN"


def test_real_seendates_are_utc() -> None:
    dates = set(re.findall(r"\b(20\d{6}T\d{6}Z)\b", NOTEBOOK.read_text(encoding="utf-8")))
    assert dates
    for value in dates:
        parsed = _seendate(value)
        assert parsed is not None and parsed.tzinfo is timezone.utc
