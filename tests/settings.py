"""Settings for DSN's own test suite: the plugin test settings core publishes (SQLite
by default, PostgreSQL when DSN_TEST_DB=postgres), plus the test app and a task queue."""

from __future__ import annotations

import os
from pathlib import Path

from dsn_core.testing.settings import *  # noqa: F403
from dsn_core.testing.settings import INSTALLED_APPS, TEMPLATES

BASE_DIR = Path(__file__).resolve().parent

INSTALLED_APPS = [
    *INSTALLED_APPS,
    "tests.testapp",
    # The database task queue of tests/test_workers.py: its tables belong in the test
    # database the worker processes share.
    "django_tasks_db",
]

TEMPLATES = [{**TEMPLATES[0], "DIRS": [BASE_DIR / "templates"]}]

# Django's default: deliveries run in the test's process, right after commit.
del TASKS  # noqa: F821

DSN = {
    # Core's tests never load installed plugins: each test registers what it needs.
    "LOAD_ENTRY_POINTS": False,
    "STRICT": True,
    "REFRESH_INTERVAL": float(os.environ.get("DSN_TEST_REFRESH_INTERVAL", "5")),
}
