"""dsn-email is found through its real entry point, with no INSTALLED_APPS entry."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

import dsn_email
from dsn_core.models import Backend
from dsn_core.plugins import plugin_manager

HERE = Path(__file__).resolve().parent


def test_plugin_is_loaded_from_its_entry_point() -> None:
    info = plugin_manager.plugins["email"]
    assert (info.origin, info.module, info.loaded) == ("entry point", "dsn_email.plugin", True)
    assert (info.distribution, info.version) == ("dsn-email", dsn_email.__version__)
    assert info.provides["messengers"] == ["sendgrid", "django_email"]
    assert info.provides["message templates"] == ["email_plain"]
    assert info.provides["urls"] == ["sendgrid/events/"]
    assert info.errors == []
    assert not any(app.startswith("dsn_email") for app in settings.INSTALLED_APPS)


def test_dsn_plugins_lists_it() -> None:
    out = StringIO()
    call_command("dsn", "plugins", "--json", stdout=out)
    plugin = {p["name"]: p for p in json.loads(out.getvalue())}["email"]
    assert plugin["distribution"] == "dsn-email"
    assert plugin["provides"]["messengers"] == ["sendgrid", "django_email"]


def test_webhook_is_mounted_under_the_plugin_name() -> None:
    assert reverse("dsn:email:sendgrid-events") == "/dsn/email/sendgrid/events/"


def test_admin_backend_form_offers_its_messengers_and_template(admin_client) -> None:
    page = admin_client.get("/admin/dsn_core/backend/add/").content.decode()
    for value in ("sendgrid", "django_email", "email_plain"):
        assert f'value="{value}"' in page
    assert "Email via SendGrid" in page


@pytest.mark.django_db(transaction=True)
def test_uninstalled_plugin_leaves_its_backends_reported_by_a_check_not_a_crash() -> None:
    """`pip uninstall dsn-email` is simulated by blocking it: it is then never imported."""
    Backend.objects.create(name="Mail", messenger="sendgrid", message_template="email_plain")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DSN_TEST_DB_NAME": str(connection.settings_dict["NAME"]),
        "DSN_EMAIL_TEST_BLOCKED": "1",
        "PYTHONPATH": str(HERE.parent),
    }
    result = subprocess.run(
        [sys.executable, "-m", "django", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "dsn.W003" in result.stderr
    assert "Backend Mail uses messenger 'sendgrid', which no loaded plugin provides" in (
        " ".join(result.stderr.split())
    )
