"""Every saved response under tests/fixtures/<platform>/<case>/ parses to its expected.json.

A case folder holds the payload (``response.*``), ``meta.json`` (``url``, ``status``,
``provenance``, ``synthetic``) and ``expected.json``: what ``wangzi parse`` must print.
Adding a real sample is adding a folder, not code (see tests/fixtures/README.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from records import Failure
from spiders.pages.registry import parser_for

FIXTURES = Path(__file__).parent / "fixtures"
PROFILE_KEYS = {
    "platform", "platform_user_id", "handle", "display_name", "followers", "following", "posts",
    "likes", "views", "verified", "verified_reason", "bio", "ip_location", "country", "joined_at", "approximate",
}


def _cases() -> list[Path]:
    return sorted(p.parent for p in FIXTURES.glob("*/*/meta.json"))


def _payload(case: Path) -> bytes:
    (response,) = [p for p in case.iterdir() if p.name.startswith("response.")]
    return response.read_bytes()


@pytest.mark.parametrize("case", _cases(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture_parses_to_expected(case: Path) -> None:
    meta = json.loads((case / "meta.json").read_text(encoding="utf-8"))
    expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    assert meta.get("provenance"), f"{case}: meta.json must carry its provenance line"
    assert "synthetic" in meta, f"{case}: meta.json must say whether the payload is synthetic"

    result = parser_for(case.parent.name)(_payload(case), meta.get("url"), meta.get("status", 200))
    actual = result.to_json()

    if isinstance(result, Failure):
        assert "error" in expected, f"{case}: parser failed with {actual}"
    elif "followers" in actual:
        missing = PROFILE_KEYS - expected.keys()
        assert not missing, f"{case}: expected.json must pin every profile key; missing {sorted(missing)}"
    for key, value in expected.items():
        assert actual.get(key) == value, f"{case}: {key}: {actual.get(key)!r} != {value!r}"
