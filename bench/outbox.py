"""Outbox measurements: what the sender pays to write the outbox for N recipients, how
fast one worker sends it, and the memory both take for a 10,000-recipient event.
Imported only after ``django.setup()``; ``bench/outbox_report.py`` prints the results."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext, override_settings

from bench.measure import dsn_disconnected, peak_rss, seconds_per_save
from bench.scenario import Fixture, matched_subscription
from dsn_core.models import Delivery, DeliveryStatus
from dsn_core.tasks import task_backends

ROOT = Path(__file__).resolve().parent.parent
RECIPIENT_COUNTS = (1, 10, 100, 1000, 10_000)
LARGEST = RECIPIENT_COUNTS[-1]
HELD = "bench_held"  # settings.TASKS alias: a DummyBackend, which never runs a task
DB_QUEUE = "bench_db"  # settings.TASKS alias: django-tasks-db, when installed


@dataclass(frozen=True)
class EnqueueResult:
    recipients: int
    saves: int
    ms_per_save: float  # median
    statements: list[tuple[str, int]]  # one save's queries by kind, in order
    rows: int  # Delivery rows one save writes
    tasks: int  # tasks one save enqueues

    @property
    def queries(self) -> int:
        return sum(count for _, count in self.statements)

    @property
    def delivery_inserts(self) -> int:
        return dict(self.statements).get(f"INSERT {Delivery._meta.db_table}", 0)


@dataclass(frozen=True)
class SendResult:
    label: str
    deliveries: int  # sent
    seconds: float  # the sending alone
    queries: int | None = None
    wall_seconds: float | None = None  # the process from start to exit
    rss_growth: int | None = None  # bytes the peak RSS grew by during the sending
    rss_peak: int | None = None  # the process's peak RSS, bytes

    @property
    def per_second(self) -> float:
        return self.deliveries / self.seconds


@dataclass(frozen=True)
class MemoryResult:
    traced_peak: int  # bytes above the start, Python allocations (tracemalloc)
    rss_growth: int  # bytes the process's peak RSS grew by
    rss_peak: int  # the process's peak RSS afterwards, bytes
    seconds: float  # under tracemalloc: slower than untraced


@dataclass(frozen=True)
class OutboxResults:
    bare_ms: float
    bare_queries: int
    enqueue: list[EnqueueResult]
    enqueue_memory: MemoryResult
    send: list[SendResult]  # the direct call; then db_worker, when installed


# --- sender's side -----------------------------------------------------------------


@contextlib.contextmanager
def tasks_held(alias: str = HELD) -> Iterator[None]:
    """Point DSN at another TASKS alias: the held one keeps tasks unrun."""
    with override_settings(DSN={**settings.DSN, "TASK_BACKEND": alias}):
        yield


def held_tasks() -> list[Any]:
    """Tasks the DummyBackend kept, oldest first."""
    results: list[Any] = getattr(task_backends[HELD], "results")  # noqa: B009 (DummyBackend)
    return results


_TABLE = re.compile(r'\bFROM\s+"?(\w+)"?', re.IGNORECASE)


def statement_kind(sql: str) -> str:
    """``INSERT dsn_core_delivery``, ``SELECT auth_user``, ``SAVEPOINT``..."""
    words = [word.strip('"') for word in sql.split(None, 3)]
    verb = words[0].upper()
    if verb == "SAVEPOINT":
        return verb
    if verb in {"RELEASE", "ROLLBACK"}:
        return f"{verb} SAVEPOINT"
    if verb == "INSERT" and len(words) > 2:
        return f"INSERT {words[2]}"
    if verb == "UPDATE":
        return f"UPDATE {words[1]}"
    match = _TABLE.search(sql)
    return f"{verb} {match[1]}" if match else verb


def statements(captured: CaptureQueriesContext) -> list[tuple[str, int]]:
    return list(Counter(statement_kind(q["sql"]) for q in captured.captured_queries).items())


def atomic_save(target: Any) -> Callable[[], None]:
    """The sender's transaction: the save, DSN's outbox rows, the commit, on_commit."""

    def save() -> None:
        with transaction.atomic():
            target.save()

    return save


def time_enqueue(recipients: int, save: Callable[[], None], budget: float) -> EnqueueResult:
    before = len(held_tasks())
    with CaptureQueriesContext(connection) as captured:
        save()  # also the warm-up
    event_id = held_tasks()[before].args[0]
    times: list[float] = []
    deadline = time.perf_counter() + budget
    while len(times) < 100 and (len(times) < 3 or time.perf_counter() < deadline):
        times.append(seconds_per_save(save, 1))
    return EnqueueResult(
        recipients=recipients,
        saves=len(times),
        ms_per_save=statistics.median(times) * 1e3,
        statements=statements(captured),
        rows=Delivery.objects.filter(event_id=event_id).count(),
        tasks=(len(held_tasks()) - before) // (1 + len(times)),
    )


# --- worker's side -------------------------------------------------------------------


def pending(event_id: int, backend_id: int) -> int:
    return Delivery.objects.filter(
        event_id=event_id, backend_id=backend_id, status=DeliveryStatus.PENDING
    ).count()


def pop_held_task() -> tuple[int, int]:
    """The newest held task's arguments, (event_id, backend_id): what a worker gets."""
    event_id, backend_id = held_tasks().pop().args
    return int(event_id), int(backend_id)


def run_worker(*arguments: str) -> tuple[dict[str, Any], float]:
    """bench/outbox_worker.py in a fresh process on this benchmark's database: its
    JSON report and wall seconds (start to exit)."""
    command = [sys.executable, str(ROOT / "bench" / "outbox_worker.py"), *arguments]
    environment = {**os.environ, "DSN_BENCH_DB_NAME": str(connection.settings_dict["NAME"])}
    connection.close()  # SQLite: no lock of ours in the worker's way
    start = time.perf_counter()
    worker = subprocess.run(
        command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=600
    )
    wall = time.perf_counter() - start
    if worker.returncode:
        raise RuntimeError(f"{arguments} exited {worker.returncode}:\n{worker.stderr}")
    report: dict[str, Any] = json.loads(worker.stdout.splitlines()[-1])
    return report, wall


def time_send(event_id: int, backend_id: int, expected: int) -> SendResult:
    """``send_pending`` called directly in a fresh process."""
    report, wall = run_worker("direct", str(event_id), str(backend_id))
    if not report["sent"] == report["messages"] == expected or pending(event_id, backend_id):
        raise RuntimeError(f"the worker sent {report}, expected {expected}")
    return SendResult(
        label="send_pending() called directly",
        deliveries=expected,
        seconds=report["seconds"],
        queries=report["queries"],
        wall_seconds=wall,
        rss_growth=report["rss_after"] - report["rss_before"],
        rss_peak=report["rss_after"],
    )


def db_worker_available() -> bool:
    return DB_QUEUE in settings.TASKS


def time_db_worker(event_id: int, backend_id: int, expected: int) -> SendResult:
    """django-tasks-db's ``db_worker`` command, in a fresh process, runs the task that a
    save queued in the database queue, then exits (its queue is empty)."""
    from django_tasks_db.models import DBTaskResult  # installed: db_worker_available()

    report, wall = run_worker("db_worker", DB_QUEUE)
    task = DBTaskResult.objects.get(backend_name=DB_QUEUE)
    if report["messages"] != expected or task.return_value != expected:
        raise RuntimeError(f"db_worker: {report}, task {task.status} {task.return_value}")
    if task.started_at is None or task.finished_at is None or pending(event_id, backend_id):
        raise RuntimeError(f"db_worker left the task {task.status}")
    return SendResult(
        label="db_worker command, task run",
        deliveries=expected,
        seconds=(task.finished_at - task.started_at).total_seconds(),
        queries=report["queries"],
        wall_seconds=wall,
        rss_growth=report["rss_after"] - report["rss_before"],
        rss_peak=report["rss_after"],
    )


# --- memory --------------------------------------------------------------------------


def traced(run: Callable[[], object]) -> MemoryResult:
    """Peak Python allocations during ``run`` above those before it, and RSS growth."""
    rss_before = peak_rss()
    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        start = time.perf_counter()
        run()
        seconds = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()
    rss_after = peak_rss()
    return MemoryResult(peak, rss_after - rss_before, rss_after, seconds)


# --- the whole section ---------------------------------------------------------------


def add_users(fixture: Fixture, total: int) -> Fixture:
    """Top the fixture's users up to ``total`` (bulk: no signal fires, nothing matches)."""
    user_model = get_user_model()
    more = user_model.objects.bulk_create(
        user_model(username=f"reader{n:05d}", email=f"reader{n:05d}@example.com", password="!")
        for n in range(len(fixture.users), total)
    )
    return dataclasses.replace(fixture, users=[*fixture.users, *more])


def measure_outbox(fixture: Fixture, budget_seconds: float) -> OutboxResults:
    fixture = add_users(fixture, LARGEST)
    save = atomic_save(fixture.matched_object)
    with dsn_disconnected():
        seconds_per_save(save, 20)
        bare_ms = seconds_per_save(save, 200) * 1e3
        with CaptureQueriesContext(connection) as bare:
            save()
    with matched_subscription(fixture) as set_recipients, tasks_held():
        enqueue = []
        for count in RECIPIENT_COUNTS:
            set_recipients(count)
            if count == LARGEST:
                # Before any other save this large: the process's peak RSS is still the
                # smaller counts', so its growth belongs to this save.
                enqueue_memory = traced(save)
                largest_event = pop_held_task()
            enqueue.append(time_enqueue(count, save, budget_seconds))
        held_tasks().clear()  # their rows stay pending: no worker is told about them
        send = [time_send(*largest_event, LARGEST)]
        if db_worker_available():
            with tasks_held(DB_QUEUE):
                save()  # on commit, enqueues into the database queue
            event_id, backend_id = Delivery.objects.values_list("event_id", "backend_id").latest(
                "pk"
            )
            send.append(time_db_worker(event_id, backend_id, LARGEST))
    return OutboxResults(
        bare_ms=bare_ms,
        bare_queries=len(bare.captured_queries),
        enqueue=enqueue,
        enqueue_memory=enqueue_memory,
        send=send,
    )
