"""The plugin is found through its real entry point, with no INSTALLED_APPS entry."""

from __future__ import annotations

import json
from io import StringIO

from django.conf import settings
from django.core.management import call_command

from dsn_core import registry
from dsn_core.plugins import plugin_manager
from dsn_twitter.messengers import TwitterDirectMessenger, TwitterPostMessenger


def test_loaded_through_the_entry_point():
    info = plugin_manager.plugins["twitter"]
    assert info.loaded
    assert info.errors == []
    assert info.origin == "entry point"
    assert info.distribution == "dsn-twitter"
    assert info.module == "dsn_twitter.plugin"
    assert sorted(info.provides["messengers"]) == ["twitter_dm", "twitter_post"]
    assert info.provides["message templates"] == ["twitter_post"]
    assert not any("twitter" in app for app in settings.INSTALLED_APPS)


def test_registry_holds_the_classes():
    assert registry.messengers.get("twitter_post") is TwitterPostMessenger
    assert registry.messengers.get("twitter_dm") is TwitterDirectMessenger
    assert TwitterPostMessenger.broadcast is True
    assert TwitterDirectMessenger.broadcast is False
    assert TwitterPostMessenger.channel == TwitterDirectMessenger.channel == "twitter"


def test_dsn_plugins_command_lists_it():
    out = StringIO()
    call_command("dsn", "plugins", "--json", stdout=out)
    (entry,) = [p for p in json.loads(out.getvalue()) if p["name"] == "twitter"]
    assert entry["distribution"] == "dsn-twitter"
    assert entry["version"] == "0.1.0"
    assert entry["origin"] == "entry point"
    assert entry["errors"] == []
    assert sorted(entry["provides"]["messengers"]) == ["twitter_dm", "twitter_post"]
    assert entry["provides"]["message_templates"] == ["twitter_post"]


def test_admin_backend_form_offers_the_messengers_and_template(admin_client):
    page = admin_client.get("/admin/dsn_core/backend/add/").content.decode()
    assert 'value="twitter_post"' in page
    assert 'value="twitter_dm"' in page
    assert "X (Twitter) post" in page
    assert "broadcast" in page
    assert page.count('value="twitter_post"') == 2  # the messenger and the template
