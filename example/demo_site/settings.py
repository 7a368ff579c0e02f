"""Settings of the DSN demo site: a shop whose order events print notifications.

For local demonstration only. Every value that would be secret or machine-specific in
a real site is read from the environment, with a development default:

- ``DSN_DEMO_SECRET_KEY``: Django's SECRET_KEY.
- ``DSN_DEMO_DB``: the SQLite file (default ``example/db.sqlite3``; tests use a temp file).
- ``DSN_DEMO_DEBUG``: ``0`` turns DEBUG off (then serve with ``runserver --insecure``).
- ``DSN_DEMO_ALLOWED_HOSTS``: comma-separated, for serving beyond 127.0.0.1.
- ``DSN_DEMO_QUEUE``: ``db`` delivers through the database queue of django-tasks-db
  (``rundemo`` then starts a ``db_worker`` beside the server) instead of Django's
  ImmediateBackend, which sends right after each commit in the process that saved.
"""

from __future__ import annotations

import os
from importlib import import_module
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("DSN_DEMO_SECRET_KEY", "django-insecure-dsn-demo-only-never-deploy")
DEBUG = os.environ.get("DSN_DEMO_DEBUG", "1") != "0"
ALLOWED_HOSTS = os.environ.get("DSN_DEMO_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # dsn_core before shop: its ready() loads the plugins, so the shop's templates and
    # the signal registry exist when ShopConfig.ready() adds to them.
    "dsn_core",
    "shop",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "demo_site.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DSN_DEMO_DB") or str(BASE_DIR / "db.sqlite3"),
        # The dev server is threaded: wait for a lock instead of failing at once.
        # IMMEDIATE: the server and the db_worker write at once without "database is
        # locked" errors on a read that turns into a write.
        "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
    }
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-us"
STATIC_URL = "static/"

# --- Delivery --------------------------------------------------------------------------
# With no TASKS setting, Django's ImmediateBackend runs DSN's delivery task right after
# each commit, in the process that saved: nothing else to start. The production default
# is a database queue worked by `manage.py db_worker`:
if os.environ.get("DSN_DEMO_QUEUE") == "db":
    INSTALLED_APPS.append("django_tasks_db")
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

# --- DSN -----------------------------------------------------------------------------
# Every key is optional; the values below are the defaults except PLUGINS.
DSN: dict[str, Any] = {
    # Load channel plugins installed in this environment (dsn-email, dsn-telegram...):
    # each announces itself in the "dsn" entry-point group; a broken one is skipped and
    # reported by `manage.py check` (dsn.W001), never stops the site.
    "LOAD_ENTRY_POINTS": True,
    # Plugin modules kept inside this project, by dotted path: the shop registers its
    # message templates through the same hook an installed plugin uses.
    "PLUGINS": ["shop.dsn_plugin"],
    # Entry-point names, distribution names or module paths never to load.
    "BLOCKED_PLUGINS": [],
    # The console messenger prints each message to this process's stdout: the terminal
    # that runs the demo.
    "CONSOLE_STREAM": "stdout",
    # Seconds another process (a second server, a worker) may miss a trigger changed in
    # the admin; the process that saved the change sees it at once.
    "REFRESH_INTERVAL": 5.0,
    # False: a notification error is logged and the order still saves.
    "STRICT": False,
    # A channel plugin reads its own section; secrets come from the environment, e.g.
    # "SENDGRID_API_KEY": os.environ.get("SENDGRID_API_KEY") in "EMAIL". dsn-email's
    # Django email messenger needs no account: mail goes to the console backend below.
    "EMAIL": {
        "FROM_EMAIL": "DSN demo shop <shop@example.com>",
        "SITE_URL": "http://127.0.0.1:8000",
    },
}

# Email is printed to this terminal, not sent (Django 6.1 configures mailers in MAILERS).
if hasattr(import_module("django.core.mail"), "mailers"):
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# Show what DSN decides (sent, skipped and why) next to the printed messages.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"dsn_core": {"handlers": ["console"], "level": "INFO"}},
}
