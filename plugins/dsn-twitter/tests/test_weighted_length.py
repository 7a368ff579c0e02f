"""X's weighted length (twitter-text config v3) and trimming at a word boundary."""

from __future__ import annotations

import string

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from dsn_twitter.weighted_length import ELLIPSIS, find_urls, fit, normalize, weigh

# X's numbers are written out, not imported: a test against the module's own constants
# would pass with any value of them.

ascii_words = st.text(alphabet=string.ascii_letters + string.digits + " ,!?'-\n", max_size=600)
cjk = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
# Pieces, not characters: emoji sequences are several code points.
mixed = st.lists(
    st.one_of(
        st.sampled_from(list(string.ascii_letters + "  .,:/-")),
        cjk,
        st.sampled_from(["é", "ß", "Ж", "—", "“", "…", "👍", "👍🏽", "🇫🇷", "1️⃣", "\u200d"]),
        st.sampled_from(["https://example.com/x", "example.org", "http://a.co/"]),
    ),
    max_size=200,
).map("".join)
url_paths = st.text(alphabet=string.ascii_letters + string.digits + "/-_=&?", max_size=300)


@pytest.mark.parametrize(
    ("text", "weight"),
    [
        ("", 0),
        ("hello world", 11),
        ("é Ж א ع", 7),  # Latin-1, Cyrillic, Hebrew, Arabic: weight 1
        ("你好", 4),  # CJK: 2 each
        ("안녕", 4),  # Hangul: 2 each
        ("こんにちは", 10),
        ("\u2014\u201c\u201d", 3),  # dashes and quotes are in the light ranges
        ("\u2026", 2),  # the ellipsis is not
        ("👍", 2),
        ("👍🏽", 2),  # skin tone: one emoji
        ("👨\u200d👩\u200d👧\u200d👦", 2),  # ZWJ family: one emoji
        ("🇫🇷", 2),  # flag
        ("1\ufe0f\u20e3", 2),  # keycap
        ("©", 1),
        ("https://example.com", 23),
        ("http://a.co", 23),  # shorter than 23, still 23
        ("see example.com/page.", 4 + 23 + 1),  # no scheme; "." is not in it
        ("(https://example.com/a?b=c)", 2 + 23),
        ("mail me@example.com", 19),  # an e-mail address is not a URL
        ("https://例え.jp", 23),  # an internationalised domain name is a URL too
        ("https://bücher.example.de/liste", 23),
        ("見てhttps://example.com", 4 + 23),  # X finds URLs after CJK text
        ("https://example.jpです", 23 + 4),  # ... and before it
    ],
)
def test_weights(text, weight):
    assert weigh(text) == weight


@given(ascii_words)
def test_ascii_without_urls_weighs_its_length(text):
    assume(not find_urls(text))
    assert weigh(text) == len(text)


@given(st.text(alphabet=cjk, max_size=200))
def test_cjk_counts_two(text):
    assert weigh(text) == 2 * len(text)


@given(url_paths, st.sampled_from(["https://", "http://", ""]))
@example("", "https://")
@example("a" * 2000, "https://")
def test_a_url_counts_23_whatever_its_length(path, scheme):
    url = f"{scheme}www.example.org/{path}".rstrip("?")
    assert find_urls(f"read {url} now") == [url]
    assert weigh(f"read {url} now") == 5 + 23 + 4


@given(st.one_of(ascii_words, mixed), st.integers(min_value=1, max_value=280))
@example("word " * 100, 280)
@example("x" * 500, 280)
@example("short", 280)
def test_fit_never_exceeds_the_limit_and_cuts_at_a_word(text, limit):
    text = normalize(text)
    result = fit(text, limit)
    assert weigh(result) <= limit
    if weigh(text) <= limit:
        assert result == text
        return
    if not result:
        return  # nothing but the ellipsis would fit
    assert result.endswith(ELLIPSIS)
    prefix = result[: -len(ELLIPSIS)]
    assert text.startswith(prefix)
    assert prefix == prefix.rstrip()
    assert prefix.strip()
    cut_at_word = text[len(prefix)].isspace()
    single_word = not any(char.isspace() for char in prefix.strip())
    assert cut_at_word or single_word, (text, result)


@given(
    st.lists(
        st.sampled_from(["hello", "world", "你好", "👍🏽", "https://example.com/x"]), min_size=1
    )
)
def test_fit_keeps_as_many_words_as_fit(words):
    text = " ".join(words)
    result = fit(text, 40)
    if result != text and result:
        kept = result[: -len(ELLIPSIS)]
        next_word = text[len(kept) :].split()[0]
        assert weigh(f"{kept} {next_word}{ELLIPSIS}") > 40  # one more word would not fit


def test_fit_never_splits_a_url_or_an_emoji():
    assert fit("https://example.com/" + "a" * 400, 23) == "https://example.com/" + "a" * 400
    assert fit("👍🏽" * 10, 9) == "👍🏽" * 3 + ELLIPSIS


def test_fit_returns_empty_when_only_the_ellipsis_fits():
    assert fit("abcdef", 2) == ""
    assert fit("abcdef", 1) == ""


def test_a_post_may_weigh_280():
    assert fit("x" * 280) == "x" * 280
    assert weigh(fit("x " * 200)) <= 280
    assert fit("x" * 281) == "x" * 278 + ELLIPSIS


def test_an_idn_host_needs_a_scheme_and_a_valid_label():
    assert find_urls("see https://例え.jp now") == ["https://例え.jp"]
    assert find_urls("see 例え.jp now") == []
    # A label longer than 63 characters once punycoded is no host name: X weighs it as text.
    long_label = "例" * 60
    assert find_urls(f"https://{long_label}.jp") == []
    assert weigh(f"https://{long_label}.jp") == 8 + 120 + 3
