"""Benchmark settings: the test suite's apps and database choice (SQLite, or PostgreSQL
when ``DSN_TEST_DB=postgres``), a database of the benchmark's own, task backends for
the outbox sections, and a DSN configuration that never checks the configuration
version while timing."""

from __future__ import annotations

import copy
import importlib.util
import os
import tempfile
from pathlib import Path
from typing import Any

from tests import settings as test_settings

# Every setting of the test suite (apps, templates, logging at WARNING to nowhere, the
# database choice); the overrides below replace the database name and DSN.
globals().update(
    {name: getattr(test_settings, name) for name in dir(test_settings) if name.isupper()}
)

DATABASES: dict[str, dict[str, Any]] = copy.deepcopy(test_settings.DATABASES)
_default = DATABASES["default"]
if _given := os.environ.get("DSN_BENCH_DB_NAME"):
    # A worker process started by the benchmark joins the database the runner created.
    _default["NAME"] = _given
    _default["TEST"] = {"NAME": _given}
elif str(_default["ENGINE"]).endswith("sqlite3"):
    # A fresh file per run: the runner deletes it, and never touches the tests' file.
    _db_file = str(Path(tempfile.gettempdir()) / f"dsn-bench-{os.getpid()}.sqlite3")
    _default["NAME"] = _db_file
    _default["TEST"] = {"NAME": _db_file}
else:
    # Django's test-database machinery creates, migrates and drops this one.
    _default["TEST"] = {"NAME": f"dsn_bench_{os.getpid()}"}

DSN = {
    # No plugin discovery: the benchmark measures core with its built-in console messenger.
    "LOAD_ENTRY_POINTS": False,
    # An hour: the trigger index is built once before timing and the configuration
    # version is never re-read inside a measurement (production's default is 5 s, which
    # adds one tiny query per process every 5 s, not per save).
    "REFRESH_INTERVAL": 3600,
    # Raise instead of logging: a benchmark that silently timed an error path would lie.
    "STRICT": True,
}

# Django 6 ships the framework; Django 5.2 has the backport.
_tasks = "django.tasks" if importlib.util.find_spec("django.tasks") else "django_tasks"
TASKS: dict[str, dict[str, Any]] = {
    # What a site without TASKS gets: the task runs inside enqueue(), so a matched save
    # also sends (section 2 measures that).
    "default": {"BACKEND": f"{_tasks}.backends.immediate.ImmediateBackend"},
    # Keeps enqueued tasks in memory without running them: the outbox sections time the
    # sender's side alone, then run the worker's side themselves.
    "bench_held": {"BACKEND": f"{_tasks}.backends.dummy.DummyBackend"},
}

# The production default, when installed: a real db_worker process is timed too. The
# tests' settings list its apps; without the package (`nox -s bench` installs only
# dsn-core) they must go, or django.setup() fails.
_QUEUE_APPS = ("django_tasks", "django_tasks_db")
INSTALLED_APPS = [app for app in test_settings.INSTALLED_APPS if app not in _QUEUE_APPS]
if importlib.util.find_spec("django_tasks_db") is not None:
    # Django 5.2 runs the django-tasks backport, whose app django-tasks-db expects.
    INSTALLED_APPS += [*([] if _tasks == "django.tasks" else ["django_tasks"]), "django_tasks_db"]
    TASKS["bench_db"] = {"BACKEND": "django_tasks_db.DatabaseBackend"}
