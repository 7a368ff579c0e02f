"""A plain-text part from an HTML part, for templates and messages that only have HTML.

Mail clients that show text, and spam filters that compare both parts, need one; a
message with HTML alone is more likely to be marked as spam.
"""

from __future__ import annotations

import html
import re

from django.utils.html import strip_tags

_BREAKS = re.compile(r"<\s*(br|/p|/div|/h[1-6]|/li|/tr|hr)\b[^>]*>", re.IGNORECASE)
_LINKS = re.compile(r"<a\s[^>]*href\s*=\s*[\"']([^\"']+)[\"'][^>]*>(.*?)</a\s*>", re.I | re.S)
_HIDDEN = re.compile(r"<(style|script|head)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def html_to_text(source: str) -> str:
    """Readable text: line breaks kept at block ends, links as "text (url)", tags gone."""
    text = _HIDDEN.sub("", source)
    text = _LINKS.sub(_link, text)
    text = _BREAKS.sub("\n", text)
    text = html.unescape(strip_tags(text))
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def _link(match: re.Match[str]) -> str:
    url, label = match[1], strip_tags(match[2]).strip()
    return f"{label} ({url})" if label and label != url else url
