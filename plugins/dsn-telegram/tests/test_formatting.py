"""Escaping and splitting: what reaches Telegram is valid HTML of at most 4,096 units."""

from __future__ import annotations

import html
import re

from hypothesis import assume, given
from hypothesis import strategies as st

from dsn_core.messages import RenderedMessage
from dsn_telegram.formatting import chunks_for, message_html, split_html, units


def visible(chunk: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", chunk))


def test_text_part_is_escaped() -> None:
    assert message_html(RenderedMessage({"text": '<b>x</b> & "y"'})) == (
        '&lt;b&gt;x&lt;/b&gt; &amp; "y"'
    )


def test_blank_message_has_no_chunks() -> None:
    assert chunks_for(RenderedMessage({"text": "  \n "}), "split") == []
    assert split_html("<b> </b>") == []


def test_short_message_is_one_chunk() -> None:
    assert split_html("<b>hi</b> there") == ["<b>hi</b> there"]


def test_split_reopens_open_tags() -> None:
    chunks = split_html("<b>" + "a " * 10 + "</b>", limit=8)
    assert all(chunk.startswith("<b>") and chunk.endswith("</b>") for chunk in chunks)
    assert "".join(visible(c) for c in chunks).split() == ["a"] * 10


def test_split_never_cuts_an_entity() -> None:
    chunks = split_html("&amp;" * 10, limit=3)
    assert [visible(c) for c in chunks] == ["&&&", "&&&", "&&&", "&"]
    assert all(c.replace("&amp;", "") == "" for c in chunks)


def test_astral_characters_count_double() -> None:
    assert units("😀") == 2
    chunks = split_html("😀" * 5, limit=4)
    assert [units(visible(c)) for c in chunks] == [4, 4, 2]


@given(st.text(min_size=1, max_size=3000), st.integers(min_value=2, max_value=500))
def test_escaped_text_splits_within_the_limit(text, limit) -> None:
    body = html.escape(text, quote=False)
    chunks = split_html(body, limit)
    assert all(units(visible(chunk)) <= limit for chunk in chunks)
    # Nothing but whitespace at a cut is dropped (a blank chunk is not a message).
    assert "".join("".join(visible(c) for c in chunks).split()) == "".join(text.split())


@given(st.text(min_size=1, max_size=50), st.integers(min_value=1, max_value=400))
def test_truncate_keeps_one_message(piece, repeat) -> None:
    assume(piece.strip())
    text = piece * (4200 // len(piece) + repeat)
    chunks = chunks_for(RenderedMessage({"text": text}), "truncate")
    assert len(chunks) == 1
    assert units(visible(chunks[0])) <= 4096
