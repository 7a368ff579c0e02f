"""The message template this plugin ships: Telegram HTML, every value escaped."""

from __future__ import annotations

from dsn_core.message_templates import BaseMessageTemplate


class TelegramEventTemplate(BaseMessageTemplate):
    """A bold verb and the event's objects; works with any signal.

    ``telegram_html`` is sent with ``parse_mode="HTML"``; its file wraps everything in
    ``{% autoescape on %}`` (only core's ``html`` part is escaped by default), so a
    value's ``<``, ``>`` and ``&`` reach Telegram as entities, never as markup. The plain
    ``text`` part serves other channels and logs.
    """

    id = "telegram_event"
    label = "Telegram: event summary (HTML)"
    part_files = {"telegram_html": "dsn_telegram/event.html"}
    template_string = (
        "{{ verb }}{% if action_object %}: {{ action_object }}{% endif %}"
        "{% if actor_object %} by {{ actor_object }}{% endif %}"
        "{% if target %} ({{ target }}){% endif %}"
    )
