"""Installing dsn-sms is enough: its entry point is loaded, and what it provides shows up
in ``dsn plugins``, the admin and the URLconf, with no INSTALLED_APPS entry."""

from __future__ import annotations

import json
from io import StringIO

from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from dsn_core import registry
from dsn_core.plugins import plugin_manager
from dsn_sms.message_templates import SmsEventTemplate
from dsn_sms.messenger import TwilioSmsMessenger


def test_loaded_through_the_real_entry_point() -> None:
    info = plugin_manager.plugins["sms"]
    assert info.loaded, info.errors
    assert info.errors == []
    assert info.origin == "entry point"
    assert info.distribution == "dsn-sms"
    assert info.module == "dsn_sms.plugin"
    assert info.provides["messengers"] == ["twilio_sms"]
    assert info.provides["message templates"] == ["sms_event"]
    assert info.provides["urls"] == ["status/", "inbound/"]
    assert not any(app.startswith("dsn_sms") for app in settings.INSTALLED_APPS)


def test_registries_hold_its_classes() -> None:
    assert registry.messengers.get("twilio_sms") is TwilioSmsMessenger
    assert registry.message_templates.get("sms_event") is SmsEventTemplate
    assert TwilioSmsMessenger.channel == "sms"


def test_dsn_plugins_command_lists_it() -> None:
    out = StringIO()
    call_command("dsn", "plugins", "--json", stdout=out)
    plugins = {p["name"]: p for p in json.loads(out.getvalue())}
    assert plugins["sms"]["distribution"] == "dsn-sms"
    assert plugins["sms"]["status"] == "loaded"
    assert plugins["sms"]["provides"]["messengers"] == ["twilio_sms"]
    assert plugins["sms"]["provides"]["message_templates"] == ["sms_event"]
    assert plugins["sms"]["provides"]["urls"] == ["status/", "inbound/"]


def test_webhooks_are_mounted_under_dsn_sms() -> None:
    assert reverse("dsn:sms:status") == "/dsn/sms/status/"
    assert reverse("dsn:sms:inbound") == "/dsn/sms/inbound/"


def test_admin_backend_form_offers_messenger_and_template(admin_client) -> None:
    page = admin_client.get("/admin/dsn_core/backend/add/").content.decode()
    assert 'value="twilio_sms"' in page
    assert 'value="sms_event"' in page


def test_template_renders_one_line() -> None:
    message = SmsEventTemplate().render_message(
        None, {"verb": "post_save", "action_object": "Order <12>"}, {}
    )
    assert message.text == "post_save: Order <12>"
