"""How long a post is for X: twitter-text's weighted length (configuration v3), and trimming.

X does not count characters. It counts code points of the NFC-normalised text, each
weighing 1 when it falls in one of the ranges of twitter-text's ``config/v3.json``
(Latin, Greek, Cyrillic, Hebrew, Arabic, Devanagari... up to U+10FF, and some
punctuation) and 2 otherwise (CJK, Hangul, emoji...). An emoji sequence (skin tone,
ZWJ family, flag, keycap) weighs 2 in all, and every URL weighs 23 however long it is.

Why not the ``twitter-text-parser`` package, which implements the same thing? It
imports ``pkg_resources`` and so needs ``setuptools<81`` at run time: a constraint on
every site that installs DSN, for a table of four ranges. The price of our own copy is
approximation where twitter-text is elaborate: URLs are found by a simple pattern
(a host with a TLD of 2+ ASCII letters, with or without a scheme, ASCII path; host
labels may be non-ASCII, as in ``https://例え.jp``, when there is a scheme, as
twitter-text requires) rather than its TLD list, and emoji by the Extended_Pictographic
blocks rather than its emoji list.
Every approximation errs towards *more* weight, so a post we accept is never too long
for X; at worst we trim a few characters more than needed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

#: twitter-text config v3: ``maxWeightedTweetLength``.
MAX_POST_WEIGHT = 280
#: twitter-text config v3: ``transformedURLLength``.
URL_WEIGHT = 23
#: ``defaultWeight`` / ``scale``: a code point outside :data:`LIGHT_RANGES`, an emoji.
HEAVY_WEIGHT = 2
#: twitter-text config v3 ``ranges`` (inclusive), all with weight 100 / scale 100 = 1.
LIGHT_RANGES: tuple[tuple[int, int], ...] = (
    (0, 4351),
    (8192, 8205),
    (8208, 8223),
    (8242, 8247),
)
ELLIPSIS = "\u2026"

# Pictographic code points (Unicode's Extended_Pictographic, by block). Those below
# U+1100 (© ®) weigh 1 as text and are taken as emoji only with the emoji selector.
_PICTOGRAPH = (
    "\u203c\u2049\u2122\u2139\u2194-\u2199\u21a9\u21aa\u231a-\u23ff\u24c2\u25aa-\u27bf"
    "\u2934\u2935\u2b05-\u2b55\u3030\u303d\u3297\u3299\U0001f000-\U0001faff"
)
_MODIFIERS = "\ufe0f\U0001f3fb-\U0001f3ff"  # emoji presentation selector, skin tones
_ELEMENT = rf"(?:[{_PICTOGRAPH}][{_MODIFIERS}]*|[\u00a9\u00ae]\ufe0f[{_MODIFIERS}]*)"
_EMOJI = re.compile(
    r"[\U0001f1e6-\U0001f1ff]{2}"  # a flag: two regional indicators
    r"|[0-9#*]\ufe0f?\u20e3"  # a keycap
    rf"|{_ELEMENT}(?:\u200d{_ELEMENT})*[\U000e0020-\U000e007f]*"  # ZWJ sequence, tags
)
_ASCII_HOST = r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
# Internationalised labels (letters and digits of any script); their punycode length is
# checked by _valid_host, which a regular expression cannot do.
_IDN_HOST = r"(?:[^\W_][\w-]*\.)+[a-z]{2,63}"
_URL = re.compile(
    # Not inside an ASCII word, a handle, a hashtag, an e-mail or another URL; after CJK
    # text is fine ("見てhttps://..."), as for twitter-text.
    r"(?<![a-z0-9_@\uff20$#\uff03.\-/:])"
    rf"(?:https?://(?:{_ASCII_HOST}|(?P<idn>{_IDN_HOST}))|{_ASCII_HOST})"
    r"(?![a-z0-9_@+-])"  # the TLD ends here (CJK text may follow)
    r"(?::[0-9]{1,5})?"
    r"(?:[/?#][!-~]*?)?"  # path, query, fragment: printable ASCII
    r"(?=[.,;:!?'\")\]]*(?:[^!-~]|$))",  # trailing punctuation is not part of it
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Token:
    """A piece of text that X weighs as a whole: a URL, an emoji sequence, a code point."""

    start: int
    end: int
    weight: int
    kind: str  # "url", "emoji" or "char"


def code_point_weight(char: str) -> int:
    """1 for a code point in :data:`LIGHT_RANGES`, else 2."""
    value = ord(char)
    return 1 if any(low <= value <= high for low, high in LIGHT_RANGES) else HEAVY_WEIGHT


def find_urls(text: str) -> list[str]:
    """What :func:`weigh` counts as URLs in ``text``."""
    return [text[token.start : token.end] for token in tokens(text) if token.kind == "url"]


def _url_at(text: str, position: int) -> re.Match[str] | None:
    url = _URL.match(text, position)
    if url is None or url.end() == position:
        return None
    idn = url.group("idn")
    if idn:
        try:
            idn.encode("idna")  # every label 1-63 characters once punycoded
        except UnicodeError:
            return None
    return url


def tokens(text: str) -> list[Token]:
    """``text`` cut into the pieces X weighs, in order and covering all of it."""
    result: list[Token] = []
    position = 0
    while position < len(text):
        url = _url_at(text, position)
        if url:
            result.append(Token(position, url.end(), URL_WEIGHT, "url"))
            position = url.end()
            continue
        emoji = _EMOJI.match(text, position)
        if emoji:
            result.append(Token(position, emoji.end(), HEAVY_WEIGHT, "emoji"))
            position = emoji.end()
            continue
        result.append(Token(position, position + 1, code_point_weight(text[position]), "char"))
        position += 1
    return result


def normalize(text: str) -> str:
    """X weighs (and stores) text in Unicode NFC."""
    return unicodedata.normalize("NFC", text)


def weigh(text: str) -> int:
    """The weighted length of ``text`` (already NFC: see :func:`normalize`)."""
    return sum(token.weight for token in tokens(text))


def fit(text: str, limit: int = MAX_POST_WEIGHT, ellipsis: str = ELLIPSIS) -> str:
    """``text`` when it weighs at most ``limit``; else its longest prefix that ends at a
    word boundary and, followed by ``ellipsis``, weighs at most ``limit``.

    When the first word alone is too long the cut falls between two tokens, never
    inside a URL or an emoji sequence. Returns "" when nothing but the ellipsis fits.
    """
    pieces = tokens(text)
    if sum(token.weight for token in pieces) <= limit:
        return text
    budget = limit - weigh(ellipsis)
    word_ends: list[int] = []  # prefixes ending just before whitespace
    token_ends: list[int] = []  # prefixes ending between two tokens
    used = 0
    for token in pieces:
        used += token.weight
        if used > budget:
            break
        token_ends.append(token.end)
        if text[token.end : token.end + 1].isspace() and not text[token.start].isspace():
            word_ends.append(token.end)
    # A cut between tokens can make a new URL ("example.co" from "example.com"): weigh
    # each candidate whole, longest first.
    for end in [*reversed(word_ends), *reversed(token_ends)]:
        prefix = text[:end].rstrip()
        if prefix and weigh(prefix + ellipsis) <= limit:
            return prefix + ellipsis
    return ""
