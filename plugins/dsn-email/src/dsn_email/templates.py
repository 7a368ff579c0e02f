"""Email message templates: subject, text and HTML parts.

:class:`EmailTemplate` is the base to copy: give it ``part_files`` (or ``parts``) with
``subject`` and ``html``, and ``text`` when you want to word it yourself; otherwise the
text part is derived from the HTML. Only ``html`` is auto-escaped (core's rule), so a
value such as an order's name shows as typed in every part and never as markup.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin

from dsn_core.message_templates import BaseMessageTemplate
from dsn_core.messages import RenderedMessage

from .settings import setting
from .text import html_to_text


class EmailTemplate(BaseMessageTemplate):
    """Base class: derives the ``text`` part from ``html`` when a template has no text,
    and adds ``object_url``: the action object's absolute URL when ``DSN["EMAIL"]
    ["SITE_URL"]`` is set and the object has ``get_absolute_url()``."""

    def get_template_context(self, context: dict[str, Any]) -> dict[str, Any]:
        context = super().get_template_context(context)
        obj = context.get("action_object")  # a snapshot: a dict of the object's values
        path = obj.get("get_absolute_url") if isinstance(obj, Mapping) else None
        site = setting("SITE_URL")
        if path and site and "object_url" not in context:
            context["object_url"] = urljoin(str(site), str(path))
        return context

    def render_message(
        self, user: Any, trigger_context: Any, signal_kwargs: Any
    ) -> RenderedMessage:
        message = super().render_message(user, trigger_context, signal_kwargs)
        parts = {name: value.strip() for name, value in message.parts.items()}
        if "subject" in parts:  # a header: one line
            parts["subject"] = " ".join(parts["subject"].split())
        if not parts.get("text") and parts.get("html"):
            parts["text"] = html_to_text(parts["html"])
        return RenderedMessage(parts)


class PlainEmailTemplate(EmailTemplate):
    """What happened, to whom, and a link to the object when it has one."""

    id = "email_plain"
    label = "Email: event summary (subject, text and HTML)"
    part_files = {
        "subject": "dsn_email/plain/subject.txt",
        "text": "dsn_email/plain/body.txt",
        "html": "dsn_email/plain/body.html",
    }
