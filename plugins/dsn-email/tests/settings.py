"""dsn-email's test settings: DSN's plugin test settings, plus this plugin's section."""

from __future__ import annotations

import os
from importlib import import_module

from dsn_core.testing.settings import *  # noqa: F403
from dsn_core.testing.settings import DSN

DSN = {
    **DSN,
    "EMAIL": {
        "FROM_EMAIL": "DSN Shop <shop@example.com>",
        # Tests point SendGrid at a fake API on 127.0.0.1 (see conftest.py).
        "SENDGRID_API_KEY": "SG.test-key",
    },
}
# Django 6.1 deprecates EMAIL_BACKEND for MAILERS; either way, mail stays in memory.
if hasattr(import_module("django.core.mail"), "mailers"):
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
else:
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

if os.environ.get("DSN_EMAIL_TEST_BLOCKED"):  # test_discovery: as if uninstalled
    DSN["BLOCKED_PLUGINS"] = ["dsn-email"]
