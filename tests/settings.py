"""Settings for DSN's own test suite: SQLite by default, PostgreSQL when DSN_TEST_DB=postgres."""

from __future__ import annotations

import os
from importlib.util import find_spec
from pathlib import Path

from dsn_core.testing.settings import test_databases

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = "dsn-tests-only"
DEBUG = False
USE_TZ = True
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
ROOT_URLCONF = "tests.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
STATIC_URL = "static/"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "dsn_core",
    "tests.testapp",
    # The database task queue of tests/test_workers.py: its tables belong in the test
    # database the worker processes share. Django 5.2 runs the django-tasks backport.
    *([] if find_spec("django.tasks") else ["django_tasks"]),
    "django_tasks_db",
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
        "DIRS": [BASE_DIR / "templates"],
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

DATABASES = test_databases()

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

DSN = {
    # Core's tests never load installed plugins: each test registers what it needs.
    "LOAD_ENTRY_POINTS": False,
    "STRICT": True,
    "REFRESH_INTERVAL": float(os.environ.get("DSN_TEST_REFRESH_INTERVAL", "5")),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"null": {"class": "logging.NullHandler"}},
    "root": {"handlers": ["null"], "level": "WARNING"},
}
