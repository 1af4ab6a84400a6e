"""The one count parser: rounded display text, lower bounds, locales, and refusals."""

from __future__ import annotations

import pytest

from enrichment.numbers import Count, parse_count


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (1234, Count(1234)),
        ("1234", Count(1234)),
        ("1,234", Count(1234)),
        ("1.2万", Count(12_000, approximate=True)),
        ("1533.6万", Count(15_336_000, approximate=True)),
        ("87万", Count(870_000, approximate=True)),
        ("3亿", Count(300_000_000, approximate=True)),
        ("10万+", Count(100_000, approximate=True, lower_bound=True)),
        ("1000+", Count(1000, approximate=True, lower_bound=True)),
        ("1.2w", Count(12_000, approximate=True)),
        ("21.5M subscribers", Count(21_500_000, approximate=True)),
        ("25m", Count(25_000_000, approximate=True)),
        ("551K", Count(551_000, approximate=True)),
        ("2120万位订阅者", Count(21_200_000, approximate=True)),
        ("25 Mio. Abonnenten", Count(25_000_000, approximate=True)),
        ("14 lakh", Count(1_400_000, approximate=True)),
        ("\u200e\u206821.5M\u2069 subscribers", Count(21_500_000, approximate=True)),
    ],
)
def test_display_text_becomes_an_integer_with_its_precision(text: object, expected: Count) -> None:
    assert parse_count(text) == expected


@pytest.mark.parametrize("text", [None, "", "   ", "abc", "-", "--", "N/A", True, -5, "-12", float("nan")])
def test_unreadable_text_is_none_never_zero(text: object) -> None:
    assert parse_count(text) is None


def test_zero_is_kept_when_the_platform_says_zero() -> None:
    assert parse_count("0") == Count(0)
    assert parse_count(0) == Count(0)
