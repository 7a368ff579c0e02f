"""The admin in a real headless Chromium: log in, add a trigger with a subscription inline.

Needs Debian's ``chromium`` (/usr/bin/chromium) and the ``playwright`` package; Playwright
drives the system browser (never ``playwright install``, which downloads its own). The
browser talks only to pytest-django's live server on the loopback interface.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType

from dsn_core.models import Backend, Trigger
from tests.testapp.models import Movie

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# On CI a missing browser is an error, not a skip: .ci/run installs it, and a skipped
# browser test would pass silently.
if os.environ.get("CI") and not os.access(CHROMIUM, os.X_OK):
    raise RuntimeError(f"{CHROMIUM} is missing on CI: apt-get install chromium")
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install playwright)"
)
pytestmark = [
    pytest.mark.skipif(
        not os.access(CHROMIUM, os.X_OK), reason=f"{CHROMIUM} missing (apt-get install chromium)"
    ),
    pytest.mark.slow,
]


def test_admin_creates_trigger_with_subscription_in_browser(
    live_server: Any, admin_user: Any, tmp_path: Path
) -> None:
    assert settings.STATIC_URL, (
        "The live server serves nothing without STATIC_URL: tests/settings.py needs "
        "STATIC_URL and django.contrib.staticfiles (the admin's CSS and JavaScript)."
    )
    # Every database access happens outside the Playwright block: its sync API runs an
    # event loop, and Django refuses ORM calls from a thread with a running loop.
    backend = Backend.objects.create(
        name="Console", messenger="console", message_template="event_summary"
    )
    movie_type = ContentType.objects.get_for_model(Movie)
    screenshot = tmp_path / "trigger-added.png"

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.set_default_timeout(15_000)
            page.goto(f"{live_server.url}/admin/login/?next=/admin/dsn_core/trigger/add/")
            page.fill("#id_username", admin_user.username)
            page.fill("#id_password", "password")
            page.click("input[type=submit]")
            page.wait_for_url("**/admin/dsn_core/trigger/add/")

            page.select_option("#id_verb", "post_save")
            page.select_option("#id_action_object_content_type", str(movie_type.pk))
            page.fill("#id_subscriptions-0-name", "Movie news to the admin")
            _choose(page, "id_subscriptions-0-backends", str(backend.pk))
            _choose(page, "id_subscriptions-0-receiver_users", str(admin_user.pk))
            page.click("input[name=_save]")

            success = page.locator(".messagelist .success")
            success.wait_for()
            message = success.inner_text()
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()

    assert "was added successfully" in message
    assert screenshot.stat().st_size > 0
    if os.environ.get("DSN_KEEP_SCREENSHOT"):  # to look at it: DSN_KEEP_SCREENSHOT=/tmp/x.png
        shutil.copy(screenshot, os.environ["DSN_KEEP_SCREENSHOT"])
    trigger = Trigger.objects.get()
    assert trigger.action_object_content_type == movie_type
    subscription = trigger.subscriptions.get()
    assert list(subscription.backends.all()) == [backend]
    assert list(subscription.receiver_users.all()) == [admin_user]


def _choose(page: Any, select_id: str, value: str) -> None:
    """Pick ``value`` in a filter_horizontal field, with or without the admin's JavaScript.

    With static files served, SelectFilter2.js replaces the select by two lists and an
    arrow; without them the plain multiple select is left.
    """
    available = page.locator(f"#{select_id}_from")
    if available.count():
        available.select_option(value)
        page.click(f"#{select_id}_add")
    else:
        page.select_option(f"#{select_id}", value)
