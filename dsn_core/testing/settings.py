"""Django settings for a plugin's test suite: ``from dsn_core.testing.settings import *``.

SQLite in a file by default (tests may start other processes on it); PostgreSQL when
``DSN_TEST_DB=postgres``, addressed by libpq's ``PGHOST``/``PGPORT``/``PGUSER``, which is
how DSN's nox sessions run every suite on both. Installed plugins are loaded through
their real entry points, as on a site, and errors are raised (``STRICT``).
"""

from __future__ import annotations

import os
import tempfile
from importlib.util import find_spec
from pathlib import Path
from typing import Any


def test_databases() -> dict[str, dict[str, Any]]:
    """DATABASES for a test run, chosen by ``DSN_TEST_DB`` ("sqlite" or "postgres")."""
    if os.environ.get("DSN_TEST_DB") == "postgres":
        # Child processes get DSN_TEST_DB_NAME=<the test database> to share it.
        return {
            "default": {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": os.environ.get("DSN_TEST_DB_NAME", "dsn"),
                "HOST": os.environ.get("PGHOST", "127.0.0.1"),
                "PORT": os.environ.get("PGPORT", "5432"),
                "USER": os.environ.get("PGUSER", "postgres"),
                "PASSWORD": os.environ.get("PGPASSWORD", ""),
                "TEST": {"NAME": os.environ.get("DSN_TEST_DB_NAME", "test_dsn")},
            }
        }
    # A file, not :memory:, so tests can start other processes on the same database.
    db_file = os.environ.get("DSN_TEST_DB_NAME") or str(
        Path(tempfile.gettempdir()) / f"dsn-test-{os.getpid()}.sqlite3"
    )
    return {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": db_file,
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
            "TEST": {"NAME": db_file},
        }
    }


SECRET_KEY = "dsn-tests-only"
DEBUG = False
USE_TZ = True
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
ROOT_URLCONF = "dsn_core.testing.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
STATIC_URL = "static/"
DATABASES = test_databases()
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "dsn_core",
    # Django 5.2 runs DSN's tasks on the django-tasks backport.
    *([] if find_spec("django.tasks") else ["django_tasks"]),
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

# Deliveries run in the test's process, right after commit.
TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
if not find_spec("django.tasks"):
    TASKS["default"]["BACKEND"] = "django_tasks.backends.immediate.ImmediateBackend"

DSN: dict[str, Any] = {"STRICT": True}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"null": {"class": "logging.NullHandler"}},
    "root": {"handlers": ["null"], "level": "WARNING"},
}
