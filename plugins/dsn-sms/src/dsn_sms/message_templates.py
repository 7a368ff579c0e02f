"""The SMS message template: one short plain-text line, no subject (SMS has none)."""

from __future__ import annotations

from dsn_core.message_templates import BaseMessageTemplate


class SmsEventTemplate(BaseMessageTemplate):
    """``post_save: Order #12 by alice``: short, because every 160 characters (70 outside
    GSM-7) is another billed segment. Pair it with the ``max_segments`` option."""

    id = "sms_event"
    label = "SMS: one-line event summary"
    file_name = "dsn_sms/event.txt"
