"""A worker process for the benchmark's section 4, on the runner's database. Prints one
JSON line: deliveries sent, messages printed, seconds, queries, peak RSS before/after.

    DSN_BENCH_DB_NAME=<db> python bench/outbox_worker.py direct EVENT_ID BACKEND_ID
    DSN_BENCH_DB_NAME=<db> python bench/outbox_worker.py db_worker TASKS_ALIAS

``direct`` calls ``send_pending`` (what a worker runs per task) with no task framework;
``db_worker`` runs django-tasks-db's worker command until its queue is empty. Either
way the console messenger writes to a null stream that counts messages.

Why a process of its own: its peak RSS before the work is a worker's, not the
benchmark's (which has just enqueued 10,000 recipients), so the growth is the sending's.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from bench.measure import MessageCounter, peak_rss  # noqa: E402
from dsn_core.sending import send_pending  # noqa: E402


def run(work: Callable[[], int | None]) -> dict[str, Any]:
    queries = 0

    def count(execute: Callable[..., Any], *args: Any) -> Any:
        # Counts statements without the debug cursor's SQL formatting, which is not free.
        nonlocal queries
        queries += 1
        return execute(*args)

    connection.ensure_connection()
    sink = MessageCounter()
    rss_before = peak_rss()
    with connection.execute_wrapper(count), contextlib.redirect_stdout(sink):
        start = time.perf_counter()
        sent = work()
        seconds = time.perf_counter() - start
    return {
        "sent": sent,
        "messages": sink.messages,
        "seconds": seconds,
        "queries": queries,
        "rss_before": rss_before,
        "rss_after": peak_rss(),
    }


def db_worker(alias: str) -> None:
    options = ["--queue-name", "*", "--batch", "--no-reload", "--no-startup-delay"]
    call_command("db_worker", "--backend", alias, *options, verbosity=0)


def main(argv: list[str]) -> dict[str, Any]:
    if argv[0] == "direct":
        return run(lambda: send_pending(int(argv[1]), int(argv[2])))
    if argv[0] == "db_worker":
        return run(lambda: db_worker(argv[1]))
    raise SystemExit(f"unknown mode {argv[0]!r}: direct or db_worker")


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
