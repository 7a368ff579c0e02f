"""The outbox with real worker processes on the test database: the database queue's
``db_worker`` and RQ's ``rqworker`` on a real redis-server.

The test process matches a signal and commits (``transaction=True``), so the worker,
a separate ``python -m django`` process on tests/worker_settings.py, sees the outbox
rows and the queued task. The recording messenger (tests/testapp/worker_plugin.py)
leaves a file per message sent, so "sent once" is checked against what the processes
did, not only against the rows they wrote.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection, transaction

from dsn_core import tasks
from dsn_core.models import Backend, Delivery, Event, Trigger
from dsn_core.requeue import LOST
from tests.redis_server import require_redis_server, throwaway_redis
from tests.testapp import worker_plugin
from tests.testapp.models import TestModel1
from tests.testapp.worker_plugin import recorded_sends
from tests.worker_settings import DB_QUEUE_APPS, rq_queues_setting, tasks_setting

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 30.0  # seconds any one wait may take before the test fails
TASK_RESULT_MODEL = "django_tasks_database.DBTaskResult"  # django-tasks-db's task rows
DB_WORKER = ["db_worker", "--queue-name", "*", "--no-reload", "--batch", "--no-startup-delay"]

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@dataclass
class Child:
    """A ``python -m django`` process; its stdout and stderr go to ``log``."""

    popen: subprocess.Popen[bytes]
    command: str
    log: Path

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace")


class Processes:
    """Starts ``python -m django`` processes on the test database; kills what is left."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.started: list[Child] = []

    def start(self, *args: str, **env: str) -> Child:
        log = self.workdir / f"process-{len(self.started)}-{args[0]}.log"
        paths = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
        with log.open("wb") as output:
            popen = subprocess.Popen(
                [sys.executable, "-m", "django", *args],
                env={
                    **os.environ,
                    "DJANGO_SETTINGS_MODULE": "tests.worker_settings",
                    "PYTHONPATH": os.pathsep.join(paths),
                    "DSN_TEST_DB_NAME": str(connection.settings_dict["NAME"]),
                    **env,
                },
                cwd=ROOT,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: kill() takes its children
            )
        child = Child(popen, " ".join(args), log)
        self.started.append(child)
        return child

    def run(self, *args: str, **env: str) -> str:
        """Run to the end; return the output, or fail the test with it."""
        child = self.start(*args, **env)
        self.wait(child)
        return child.output

    def wait(self, child: Child) -> None:
        try:
            code = child.popen.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill(child)
            pytest.fail(f"{child.command!r} still ran after {TIMEOUT} s:\n{child.output}")
        assert code == 0, f"{child.command!r} exited {code}:\n{child.output}"

    def kill(self, child: Child) -> None:
        """SIGKILL the process and whatever it started (RQ's scheduler and work horse)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.popen.pid, signal.SIGKILL)
        child.popen.wait(timeout=10)

    def logs(self) -> str:
        return "\n".join(f"--- {child.command}:\n{child.output}" for child in self.started)


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    spawned = Processes(tmp_path)
    try:
        yield spawned
    finally:
        for child in spawned.started:
            spawned.kill(child)


@pytest.fixture
def recording(
    tmp_path: Path, subscribe: Any, dsn_plugin: Any
) -> Callable[..., tuple[Backend, Path]]:
    """``recording(users=3, **options)``: a post_save trigger on TestModel1 whose backend
    uses the recording messenger; returns the backend and the directory of its sends."""
    if not all(apps.is_installed(app) for app in DB_QUEUE_APPS):
        pytest.fail(
            f"tests/settings.py must list {DB_QUEUE_APPS} in INSTALLED_APPS: the database "
            "queue's tables belong in the test database the workers share.",
            pytrace=False,
        )
    dsn_plugin(worker_plugin)  # the test process records deliveries for its messenger
    sends = tmp_path / "sends"
    sends.mkdir()

    def make(users: int = 3, **options: Any) -> tuple[Backend, Path]:
        user_model = get_user_model()
        people = user_model.objects.bulk_create(
            [user_model(username=f"u{n}", email=f"u{n}@example.com") for n in range(users)]
        )
        subscription = subscribe(
            Trigger.save_by_model("post_save", action_object=TestModel1),
            users=people,
            messenger=worker_plugin.RecordingMessenger.id,
            options={"record_to": str(sends), **options},
        )
        return subscription.backends.get(), sends

    return make


def task_results() -> Any:
    """The database queue's task rows (its model, without importing the backend)."""
    return apps.get_model(TASK_RESULT_MODEL).objects


def wait_until(condition: Callable[[], bool], what: str, processes: Processes) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {TIMEOUT} s waiting until {what}\n{processes.logs()}")
        time.sleep(0.02)


def dsn_requeue() -> str:
    """``manage.py dsn requeue``, as cron runs it; enqueues to this process's TASKS."""
    output = StringIO()
    call_command("dsn", "requeue", stdout=output)
    return output.getvalue()


def statuses() -> Counter[str]:
    return Counter(Delivery.objects.values_list("status", flat=True))


def test_database_queue_worker_sends_what_the_test_process_enqueued(settings, recording, processes):
    settings.TASKS = tasks_setting("db")
    _, sends = recording(users=3)

    TestModel1.objects.create(name="queued")  # autocommit: committed, then enqueued

    assert statuses() == {"pending": 3}
    assert list(task_results().values_list("status", flat=True)) == ["READY"]
    processes.run(*DB_WORKER)

    deliveries = list(Delivery.objects.order_by("pk"))
    assert [(d.status, d.attempts) for d in deliveries] == [("sent", 1)] * 3
    sent = recorded_sends(sends)
    assert sorted(s.reference for s in sent) == sorted(str(d.pk) for d in deliveries)
    assert {d.provider_message_id for d in deliveries} == {s.provider_id for s in sent}
    assert {s.pid for s in sent} != {os.getpid()}  # sent by the worker, not by this process
    assert list(task_results().values_list("status", flat=True)) == ["SUCCESSFUL"]


def test_a_worker_killed_mid_batch_loses_nothing_after_requeue(settings, recording, processes):
    settings.TASKS = tasks_setting("db")
    backend, sends = recording(users=4, delay=30)  # the worker sleeps after each message

    TestModel1.objects.create(name="interrupted")
    worker = processes.start(*DB_WORKER)
    wait_until(lambda: any(sends.iterdir()), "the worker sent its first message", processes)
    assert statuses() == {"sending": 4}, worker.output
    processes.kill(worker)
    killed = recorded_sends(sends)
    assert len(killed) == 1  # killed mid-batch: one of four sent
    # The dead worker's task stays RUNNING in the database queue: nothing there recovers it.
    assert list(task_results().values_list("status", flat=True)) == ["RUNNING"]

    # A claim younger than CLAIM_TIMEOUT belongs to a worker that may still be sending.
    assert "released 0 lost deliveries" in dsn_requeue()
    assert statuses() == {"sending": 4}
    settings.DSN = {**settings.DSN, "CLAIM_TIMEOUT": 0.001}
    report = dsn_requeue()
    assert "released 4 lost deliveries, failed 0, enqueued 1 tasks" in report
    assert statuses() == {"pending": 4}
    assert Delivery.objects.filter(last_error__startswith=LOST).count() == 4

    Backend.objects.filter(pk=backend.pk).update(options={"record_to": str(sends)})  # no delay
    processes.run(*DB_WORKER)

    deliveries = list(Delivery.objects.order_by("pk"))
    assert [(d.status, d.attempts) for d in deliveries] == [("sent", 2)] * 4
    resent = [s for s in recorded_sends(sends) if s not in killed]
    assert sorted(s.reference for s in resent) == sorted(str(d.pk) for d in deliveries)
    assert {d.provider_message_id for d in deliveries} == {s.provider_id for s in resent}
    assert len({s.pid for s in resent} | {s.pid for s in killed}) == 2


@pytest.mark.skipif(
    os.environ.get("DSN_TEST_DB") != "postgres",
    reason="concurrent claims need PostgreSQL (row locks, SKIP LOCKED); SQLite runs one "
    "writer at a time, so concurrent workers there prove nothing about the claim",
)
def test_concurrent_workers_send_each_delivery_exactly_once(settings, recording, processes):
    settings.TASKS = tasks_setting("db")
    workers, recipients, batch = 3, 300, 10
    gate = processes.workdir / "gate"
    backend, sends = recording(users=recipients, gate=str(gate), delay=0.002)

    TestModel1.objects.create(name="crowd")
    event = Event.objects.get()
    for _ in range(workers - 1):  # one task per worker, all for the same event and backend
        tasks.enqueue(event.pk, backend.pk)
    assert task_results().filter(status="READY").count() == workers
    for _ in range(workers):
        processes.start(*DB_WORKER, DSN_TEST_BATCH_SIZE=str(batch))
    # Every worker holds a claimed batch before any of them sends.
    wait_until(
        lambda: len(list(gate.parent.glob(f"{gate.name}.*.waiting"))) == workers,
        f"{workers} workers hold a batch",
        processes,
    )
    gate.touch()
    for child in processes.started:
        processes.wait(child)

    sent = recorded_sends(sends)
    duplicates = sorted(ref for ref, n in Counter(s.reference for s in sent).items() if n > 1)
    assert duplicates == [], f"{len(duplicates)} deliveries sent more than once"
    assert len(sent) == recipients
    assert len({s.pid for s in sent}) == workers  # all three sent: they ran side by side
    assert statuses() == {"sent": recipients}
    assert set(Delivery.objects.values_list("attempts", flat=True)) == {1}


@pytest.fixture(scope="module")
def redis_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    executable = require_redis_server()
    with throwaway_redis(executable, tmp_path_factory.mktemp("redis")) as port:
        yield port


def test_rq_worker_sends_after_commit_and_retries_through_the_scheduler(
    settings, recording, processes, redis_port
):
    """A live RQ worker: the task reaches Redis only once the rows are committed, and a
    transient failure comes back through RQ's scheduler (``run_after``)."""
    settings.TASKS = tasks_setting("rq")
    settings.RQ_QUEUES = rq_queues_setting(redis_port)
    _, sends = recording(users=3, fail_first=0.5)  # each first send fails
    worker = processes.start(
        "rqworker",
        "default",
        "--job-class",
        "django_tasks_rq.Job",
        "--with-scheduler",
        DSN_TEST_TASKS="rq",
        DSN_TEST_REDIS_PORT=str(redis_port),
    )
    wait_until(lambda: "Listening on" in worker.output, "the worker listens", processes)

    with transaction.atomic():
        TestModel1.objects.create(name="via redis")
        # Had the task gone to Redis now, the worker would run it at once, find no
        # event yet, and the deliveries would never be sent.
        time.sleep(0.5)
    wait_until(lambda: statuses() == {"sent": 3}, "the deliveries were sent", processes)
    processes.kill(worker)

    deliveries = list(Delivery.objects.order_by("pk"))
    assert [(d.attempts, d.last_error) for d in deliveries] == [(2, "")] * 3
    references = sorted(str(d.pk) for d in deliveries)
    assert sorted(s.reference for s in recorded_sends(sends, "transient")) == references
    sent = recorded_sends(sends)
    assert sorted(s.reference for s in sent) == references
    assert {d.provider_message_id for d in deliveries} == {s.provider_id for s in sent}
    assert {s.pid for s in sent} != {os.getpid()}
