"""A DSN plugin for tests with real worker processes (tests/test_workers*.py).

Its messenger leaves one file per message it sends, in the directory named by its
Backend's ``record_to`` option, so a test sees every send of every process, duplicates
included, after the process is gone (even killed): the outbox rows alone cannot tell
"sent once" from "sent twice". Loaded in workers through ``DSN["PLUGINS"]``
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
from dsn_core.messages import Outcome, OutgoingMessage, Sent
from dsn_core.messengers import BaseMessenger

GATE_TIMEOUT = 30.0  # seconds a send waits for its gate before sending anyway


@dataclass(frozen=True)
class RecordedSend:
    """One message as a messenger sent it: the delivery (its pk) and the process."""

    reference: str
    pid: int
    provider_id: str


class RecordingMessenger(BaseMessenger):
    """Writes ``<reference>.<pid>.<random>`` under ``options["record_to"]`` per message.

    Options: ``record_to`` (directory, required); ``delay`` (seconds slept after each
    message, so a test can kill the process mid-batch); ``gate`` (a path: wait until it
    exists before sending, so concurrent workers all hold a claim before any sends).
    """

    id = "dsn_test_recording"
    label = "Test recording (one file per message)"
    channel = "console"

    def send(self, messages: Sequence[OutgoingMessage]) -> Sequence[Outcome]:
        directory = Path(self.options["record_to"])
        delay = float(self.options.get("delay", 0))
        if gate := self.options.get("gate"):
            deadline = time.monotonic() + GATE_TIMEOUT
            while not Path(gate).exists() and time.monotonic() < deadline:
                time.sleep(0.01)
        outcomes: list[Outcome] = []
        for outgoing in messages:
            provider_id = f"rec-{os.getpid()}-{uuid.uuid4().hex[:12]}"
            # A new file per send, created exclusively: a second send of the same
            # delivery adds a file and never overwrites the evidence of the first.
            path = directory / f"{outgoing.reference}.{os.getpid()}.{provider_id}"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            os.close(fd)
            outcomes.append(Sent(provider_id=provider_id))
            if delay:
                time.sleep(delay)
        return outcomes


def recorded_sends(directory: Path) -> list[RecordedSend]:
    """Every send the messenger recorded in ``directory``, by any process."""
    sends = []
    for path in directory.iterdir():
        reference, pid, provider_id = path.name.split(".", 2)
        sends.append(RecordedSend(reference, int(pid), provider_id))
    return sends


@hookimpl
def dsn_register_messengers(register: Callable[[type], None]) -> None:
    register(RecordingMessenger)
