"""Turning a rendered message into Telegram HTML chunks of at most 4,096 characters.

What is sent (``parse_mode="HTML"``):

- the ``telegram_html`` part when the message template has one; its file must escape the
  values it renders (``{% autoescape on %}``, as :mod:`dsn_telegram.message_templates`
  does) and use only the tags Telegram supports (b, i, u, s, a, code, pre, blockquote...);
- otherwise the ``text`` part, HTML-escaped here, so ``<`` and ``&`` in a value show as
  typed and can never be taken for markup.

Telegram counts the length after parsing entities, in UTF-16 code units; a longer message
is split (Backend option ``long_messages: "split"``, the default) at a line break or space
where possible, each chunk closing and reopening the tags open across the cut, into at
most ``max_parts`` messages (default 5; the last one cut with an ellipsis); or cut once
with an ellipsis (``"truncate"``).
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

from dsn_core.messages import RenderedMessage

MAX_LENGTH = 4096
_TAG = re.compile(r"<[^>]*>")
HTML_PART = "telegram_html"


def message_html(message: RenderedMessage) -> str:
    """The Telegram-HTML body of ``message`` (see the module docstring)."""
    if message.parts.get(HTML_PART, "").strip():
        return message.parts[HTML_PART].strip()
    return html.escape(message.text or message.subject, quote=False)


def units(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji outside the BMP is 2)."""
    return len(text.encode("utf-16-le")) // 2


class _Tokenizer(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tokens: list[tuple[str, str, str]] = []  # (kind, tag or text, raw markup)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tokens.append(("start", tag, self.get_starttag_text() or f"<{tag}>"))

    def handle_endtag(self, tag: str) -> None:
        self.tokens.append(("end", tag, f"</{tag}>"))

    def handle_data(self, data: str) -> None:
        self.tokens.append(("text", data, ""))


def _cut(text: str, room: int) -> int:
    """How many characters of ``text`` fit in ``room`` units, preferring a line or word end."""
    fit = 0
    used = 0
    for char in text:
        used += 2 if ord(char) > 0xFFFF else 1
        if used > room:
            break
        fit += 1
    if fit == len(text):
        return fit
    for separator in ("\n", " "):
        at = text.rfind(separator, 0, fit)
        if at >= fit // 2 and at > 0:
            return at + 1
    return fit


def split_html(body: str, limit: int = MAX_LENGTH) -> list[str]:
    """``body`` in chunks whose visible text is at most ``limit`` units, tags balanced."""
    parser = _Tokenizer()
    parser.feed(body)
    parser.close()
    chunks: list[str] = []
    open_tags: list[tuple[str, str]] = []
    current: list[str] = []
    length = 0

    def flush() -> None:
        nonlocal current, length
        chunks.append("".join(current + [f"</{tag}>" for tag, _ in reversed(open_tags)]))
        current, length = [raw for _, raw in open_tags], 0

    for kind, value, raw in parser.tokens:
        if kind == "start":
            current.append(raw)
            open_tags.append((value, raw))
        elif kind == "end":
            current.append(raw)
            for index in range(len(open_tags) - 1, -1, -1):
                if open_tags[index][0] == value:
                    del open_tags[index]
                    break
        else:
            text = value
            while text:
                taken = _cut(text, limit - length)
                if taken == 0:
                    flush()
                    continue
                current.append(html.escape(text[:taken], quote=False))
                length += units(text[:taken])
                text = text[taken:]
                if text:
                    flush()
                    text = text.lstrip("\n") if length == 0 else text
    if length or not chunks:
        chunks.append("".join(current))
    # A chunk with nothing visible is not a message (Telegram: "message text is empty").
    return [chunk for chunk in chunks if _TAG.sub("", chunk).strip()]


def chunks_for(message: RenderedMessage, long_messages: str, max_parts: int = 5) -> list[str]:
    """The HTML texts to send for ``message``: one, several when split (at most
    ``max_parts``, the last then cut and ending with "…"), none when blank."""
    body = message_html(message)
    limit = 1 if long_messages == "truncate" else max_parts
    parts = split_html(body)
    if len(parts) <= limit:
        return parts
    return [*parts[: limit - 1], split_html(parts[limit - 1], MAX_LENGTH - 1)[0] + "…"]
