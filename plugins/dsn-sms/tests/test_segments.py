"""Segment counting (GSM-7 160/153, UCS-2 70/67, extension characters count 2) and
cutting a text to a number of segments, by example and by property."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dsn_sms.segments import GSM7_BASIC, GSM7_EXTENSION, count_segments, is_gsm7, truncate

BASIC = "".join(sorted(GSM7_BASIC))
EXTENSION = "".join(sorted(GSM7_EXTENSION))


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("", "GSM-7", 0, 0),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("€" * 80, "GSM-7", 160, 1),
        ("€" * 81, "GSM-7", 162, 2),
        ("a" * 159 + "€", "GSM-7", 161, 2),
        ("a" * 152 + "[" + "a" * 10, "GSM-7", 164, 2),  # "[" does not straddle segments
        ("ж" * 70, "UCS-2", 70, 1),
        ("ж" * 71, "UCS-2", 71, 2),
        ("ж" * 134, "UCS-2", 134, 2),
        ("ж" * 135, "UCS-2", 135, 3),
        ("a" * 69 + "é", "GSM-7", 70, 1),  # é is GSM-7
        ("a" * 69 + "ú", "UCS-2", 70, 1),  # ú is not
        ("😀" * 35, "UCS-2", 70, 1),  # surrogate pairs: 2 units each
        ("😀" * 36, "UCS-2", 72, 2),
        ("€" * 70 + "ж", "UCS-2", 71, 2),  # one non-GSM character: all UCS-2, € costs 1
    ],
)
def test_examples(text: str, encoding: str, units: int, segments: int) -> None:
    info = count_segments(text)
    assert (info.encoding, info.units, info.segments) == (encoding, units, segments)


def test_extension_pair_never_split() -> None:
    # 152 septets, then "€" (2) moves to segment 2, which then holds 2 + 152 > 153.
    assert count_segments("a" * 152 + "€" + "a" * 152).segments == 3
    assert count_segments("a" * 151 + "€" + "a" * 153).segments == 2


@given(st.text(alphabet=BASIC, max_size=1200))
def test_basic_gsm7_follows_the_formula(text: str) -> None:
    info = count_segments(text)
    assert info.encoding == "GSM-7"
    assert info.units == len(text)
    expected = 0 if not text else 1 if len(text) <= 160 else math.ceil(len(text) / 153)
    assert info.segments == expected


@given(st.text(alphabet=BASIC, max_size=300), st.text(alphabet=EXTENSION, max_size=300))
def test_extension_characters_count_two(basic: str, extension: str) -> None:
    assert count_segments(basic + extension).units == len(basic) + 2 * len(extension)


@given(st.text(alphabet=st.characters(codec="utf-8", max_codepoint=0xFFFF), max_size=600))
def test_ucs2_bmp_follows_the_formula(text: str) -> None:
    info = count_segments(text)
    if is_gsm7(text):
        return
    assert info.encoding == "UCS-2"
    assert info.units == len(text)
    assert info.segments == (1 if len(text) <= 70 else math.ceil(len(text) / 67))


@given(st.text(max_size=800))
def test_units_and_segments_are_consistent(text: str) -> None:
    info = count_segments(text)
    single, per_segment = (160, 153) if info.encoding == "GSM-7" else (70, 67)
    assert info.units >= len(text)
    assert (info.segments == 0) == (text == "")
    if text:
        least = 1 if info.units <= single else math.ceil(info.units / per_segment)
        assert info.segments >= least
    assert count_segments(text + "a").segments >= info.segments


@given(st.text(max_size=1000), st.integers(min_value=1, max_value=5))
def test_truncate_fits_and_keeps_a_prefix(text: str, max_segments: int) -> None:
    cut = truncate(text, max_segments)
    assert count_segments(cut).segments <= max_segments
    if count_segments(text).segments <= max_segments:
        assert cut == text
    else:
        assert cut.endswith(("...", "…"))
        stem = cut[:-3] if cut.endswith("...") else cut[:-1]
        assert text.startswith(stem)
        if is_gsm7(stem):
            assert cut.endswith("...")  # a GSM-7 text stays GSM-7


@given(st.text(alphabet=BASIC + EXTENSION, min_size=100, max_size=1000))
def test_gsm7_truncation_is_the_longest_that_fits(text: str) -> None:
    cut = truncate(text, 1)
    if cut == text:
        return
    stem = cut[:-3]
    assert cut.endswith("...")
    assert count_segments(cut).encoding == "GSM-7"
    # The next non-blank character would not have fitted.
    rest = text[len(stem) :]
    following = len(stem) + len(rest) - len(rest.lstrip())
    if following < len(text):
        assert count_segments(text[: following + 1] + "...").segments > 1


def test_truncate_refuses_zero() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        truncate("text", 0)
