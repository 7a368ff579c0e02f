"""Settings for the worker processes of tests/test_workers*.py: tests.settings plus a
real task queue, chosen by the environment the test passes to each process.

- ``DSN_TEST_TASKS``: ``db`` (django-tasks-db, the default) or ``rq`` (django-tasks-rq
  on the redis-server at 127.0.0.1:``DSN_TEST_REDIS_PORT``).
- ``DSN_TEST_BATCH_SIZE``: DSN's BATCH_SIZE.
- ``DSN_TEST_DB_NAME`` (tests.settings): the test process's database, shared.

The test process itself runs on tests.settings and switches TASKS with
:func:`tasks_setting`, so both sides of the queue use one definition.
"""

from __future__ import annotations

import os
from importlib.util import find_spec
from typing import Any, cast

from tests.settings import *  # noqa: F403
from tests.settings import DSN, INSTALLED_APPS

#: Django 6 has django.tasks; on Django 5.2 the backport is an app of its own.
DJANGO_TASKS_BUILTIN = find_spec("django.tasks") is not None
DB_QUEUE_APPS = ["django_tasks_db"] if DJANGO_TASKS_BUILTIN else ["django_tasks", "django_tasks_db"]
RQ_APPS = ["django_rq", "django_tasks_rq"]
QUEUE = "default"


def tasks_setting(kind: str) -> dict[str, Any]:
    """``TASKS`` for the database queue (``db``) or RQ (``rq``)."""
    backend = "django_tasks_rq.RQBackend" if kind == "rq" else "django_tasks_db.DatabaseBackend"
    return {"default": {"BACKEND": backend, "QUEUES": [QUEUE]}}


def rq_queues_setting(port: int) -> dict[str, Any]:
    """``RQ_QUEUES``: DSN's queue on the throwaway redis-server (tests/redis_server.py)."""
    return {QUEUE: {"HOST": "127.0.0.1", "PORT": port, "DB": 0, "DEFAULT_TIMEOUT": 60}}


_KIND = os.environ.get("DSN_TEST_TASKS", "db")
# Added only when missing: tests.settings may list the database queue's apps already.
_APPS = [*DB_QUEUE_APPS, *(RQ_APPS if _KIND == "rq" else [])]
INSTALLED_APPS = [*INSTALLED_APPS, *(app for app in _APPS if app not in INSTALLED_APPS)]
TASKS = tasks_setting(_KIND)
RQ_QUEUES = rq_queues_setting(int(os.environ.get("DSN_TEST_REDIS_PORT", "6379")))
DSN = cast(
    "dict[str, Any]",
    {
        **DSN,
        "PLUGINS": ["tests.testapp.worker_plugin"],
        "QUEUE": QUEUE,
        "BATCH_SIZE": int(os.environ.get("DSN_TEST_BATCH_SIZE", "500")),
        # Retries within a second, so a test can watch a worker retry (or a provider's
        # retry-after, which wins when longer).
        "RETRY_BASE": 0.2,
        "RETRY_MAX": 0.5,
    },
)
# A worker's errors go to its stderr, which the test shows when the worker fails.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["stderr"], "level": "WARNING"},
}
