"""First: the plugin is found through its real entry point, with no INSTALLED_APPS edit."""

from __future__ import annotations

import json

from django.core.management import call_command

from dsn_core import registry
from dsn_core.plugins import plugin_manager


def test_loaded_through_the_entry_point() -> None:
    info = plugin_manager.plugins["telegram"]
    assert info.loaded, info.errors
    assert info.origin == "entry point"
    assert info.distribution == "dsn-telegram"
    assert info.module == "dsn_telegram.plugin"
    assert info.provides["messengers"] == ["telegram", "telegram_broadcast"]
    assert info.provides["message templates"] == ["telegram_event"]
    assert info.commands == ["telegram"]
    assert "telegram" in plugin_manager.urls
    assert "telegram" in registry.messengers
    assert "telegram_event" in registry.message_templates


def test_not_an_installed_app(settings) -> None:
    assert not any("telegram" in app for app in settings.INSTALLED_APPS)


def test_dsn_plugins_lists_it(capsys) -> None:
    call_command("dsn", "plugins", "--json")
    listing = json.loads(capsys.readouterr().out)
    rows = listing if isinstance(listing, list) else listing.get("plugins", listing)
    text = json.dumps(rows)
    assert "dsn-telegram" in text
    assert "telegram_broadcast" in text
    assert "telegram_event" in text


def test_admin_backend_form_offers_the_messenger_and_template(admin_client) -> None:
    page = admin_client.get("/admin/dsn_core/backend/add/").content.decode()
    assert 'value="telegram"' in page
    assert 'value="telegram_broadcast"' in page
    assert 'value="telegram_event"' in page


def test_webhook_is_mounted_under_the_plugin_name() -> None:
    from django.urls import reverse

    assert reverse("dsn:telegram:webhook") == "/dsn/telegram/webhook/"
    assert reverse("dsn:telegram:link") == "/dsn/telegram/link/"
