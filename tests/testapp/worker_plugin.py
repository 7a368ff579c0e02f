"""A DSN plugin for tests with real worker processes (tests/test_workers.py).

Its messenger leaves one file per message it handles, in the directory named by its
Backend's ``record_to`` option, so a test sees every send of every process, duplicates
included, even after the process was killed: the outbox rows alone cannot tell "sent
once" from "sent twice". Loaded in workers through ``DSN["PLUGINS"]``
(tests/worker_settings.py) and in the test process with the ``dsn_plugin`` fixture.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from dsn_core import hookimpl
from dsn_core.messages import Outcome, OutgoingMessage, Sent, TransientFailure
from dsn_core.messengers import BaseMessenger

GATE_TIMEOUT = 30.0  # seconds a send waits for its gate before sending anyway


@dataclass(frozen=True)
class RecordedSend:
    """One message handled by the messenger: the delivery (its pk), the process, and
    what it answered (``sent`` or ``transient``)."""

    reference: str
    pid: int
    outcome: str
    provider_id: str


class RecordingMessenger(BaseMessenger):
    """Creates ``<reference>.<pid>.<outcome>.<provider id>`` under ``record_to`` per message.

    Options: ``record_to`` (directory, required); ``delay`` (seconds slept after each
    message, so a test can kill the process mid-batch); ``gate`` (a path: touch
    ``<gate>.<pid>.waiting``, then wait until the gate exists before sending, so a test
    lets concurrent workers go only once each holds a claimed batch); ``fail_first``
    (retry-after seconds: each delivery's first send is a transient failure).
    """

    id = "dsn_test_recording"
    label = "Test recording (one file per message)"
    channel = "console"

    def send(self, messages: Sequence[OutgoingMessage]) -> Sequence[Outcome]:
        directory = Path(self.options["record_to"])
        delay = float(self.options.get("delay", 0))
        fail_first = self.options.get("fail_first")
        if gate := self.options.get("gate"):
            Path(f"{gate}.{os.getpid()}.waiting").touch()
            deadline = time.monotonic() + GATE_TIMEOUT
            while not Path(gate).exists() and time.monotonic() < deadline:
                time.sleep(0.01)
        outcomes: list[Outcome] = []
        for outgoing in messages:
            provider_id = f"rec-{os.getpid()}-{uuid.uuid4().hex[:12]}"
            failed_before = any(directory.glob(f"{outgoing.reference}.*.transient.*"))
            outcome: Outcome
            if fail_first is not None and not failed_before:
                outcome = TransientFailure("scripted first failure", float(fail_first))
            else:
                outcome = Sent(provider_id=provider_id)
            # A new file per send, created exclusively: a second send of the same
            # delivery adds a file and never overwrites the evidence of the first.
            name = f"{outgoing.reference}.{os.getpid()}.{outcome.status}.{provider_id}"
            os.close(os.open(directory / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
            outcomes.append(outcome)
            if delay:
                time.sleep(delay)
        return outcomes


def recorded_sends(directory: Path, outcome: str = "sent") -> list[RecordedSend]:
    """What the messenger recorded in ``directory``, by any process, with that outcome."""
    records = []
    for path in directory.iterdir():
        reference, pid, status, provider_id = path.name.split(".", 3)
        if status == outcome:
            records.append(RecordedSend(reference, int(pid), status, provider_id))
    return records


@hookimpl
def dsn_register_messengers(register: Callable[[type], None]) -> None:
    register(RecordingMessenger)
