"""How many SMS segments a text costs, and cutting a text to a number of segments.

A single SMS holds 160 GSM-7 septets or 70 UCS-2 code units; a concatenated one spends
7 septets (3 UCS-2 units) per segment on its header, leaving 153 or 67. One character
outside GSM-7 turns the whole message into UCS-2. The GSM-7 extension table (``€``,
``[``, ``{``...) costs two septets (escape + character), and a pair is never split
across segments, nor a UTF-16 surrogate pair (emoji) in UCS-2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

Encoding = Literal["GSM-7", "UCS-2"]

#: (units in a single-segment message, units per segment of a concatenated one)
CAPACITY: dict[Encoding, tuple[int, int]] = {"GSM-7": (160, 153), "UCS-2": (70, 67)}


@dataclass(frozen=True)
class SegmentInfo:
    """``units`` are septets (GSM-7) or UTF-16 code units (UCS-2)."""

    encoding: Encoding
    units: int
    segments: int


def is_gsm7(text: str) -> bool:
    return all(char in GSM7_BASIC or char in GSM7_EXTENSION for char in text)


def _cost(char: str, encoding: Encoding) -> int:
    if encoding == "GSM-7":
        return 2 if char in GSM7_EXTENSION else 1
    return 2 if ord(char) > 0xFFFF else 1


def count_segments(text: str) -> SegmentInfo:
    """The encoding, size and segment count of ``text`` (0 segments for "")."""
    encoding: Encoding = "GSM-7" if is_gsm7(text) else "UCS-2"
    costs = [_cost(char, encoding) for char in text]
    units = sum(costs)
    single, per_segment = CAPACITY[encoding]
    if units == 0:
        return SegmentInfo(encoding, 0, 0)
    if units <= single:
        return SegmentInfo(encoding, units, 1)
    segments, used = 1, 0
    for cost in costs:  # greedy: a two-unit character never straddles two segments
        if used + cost > per_segment:
            segments, used = segments + 1, 0
        used += cost
    return SegmentInfo(encoding, units, segments)


def ellipsis_for(text: str) -> str:
    """The ellipsis to append: "…" is not GSM-7, so a GSM-7 text gets "..." instead
    (else the cut would turn it into UCS-2 and cost more segments)."""
    return "..." if is_gsm7(text) else "…"


def truncate(text: str, max_segments: int) -> str:
    """``text`` unchanged when it fits in ``max_segments``, else its longest prefix that
    fits with an ellipsis appended."""
    if max_segments < 1:
        raise ValueError(f"max_segments must be at least 1, not {max_segments!r}")
    if count_segments(text).segments <= max_segments:
        return text

    def cut(length: int) -> str:
        prefix = text[:length].rstrip()
        return prefix + ellipsis_for(prefix)

    low, high = 0, len(text) - 1  # cut(0) == "..." always fits; find the longest cut
    while low < high:
        middle = (low + high + 1) // 2
        if count_segments(cut(middle)).segments <= max_segments:
            low = middle
        else:
            high = middle - 1
    return cut(low)
