"""The API calls of one SendGrid batch, and each message's outcome.

Rules that keep one call's trouble from costing the others:

- An answer that would repeat (429, 5xx, unreachable, a refused key or sender) stops
  the batch: the calls not made get the same outcome.
- An unexpected exception fails that call's messages only (transient, logged); the calls
  before it keep their ``Sent``, so the retry does not send them again.
- A 413 splits the call in halves, each sent on its own; only a single message that is
  too large fails (permanently).
- A 400 that names personalizations fails those; the others are resent at once.
- Calls are made only within a time budget, half of core's ``CLAIM_TIMEOUT``: past it
  core may think the worker lost and give the batch to another, which would send again
  what this one is still sending. The calls not made are transient, retried by core
  with its usual backoff (``retry_after=0`` asks for no extra wait).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from dsn_core.conf import get_number_setting
from dsn_core.messages import Outcome, TransientFailure

from . import sendgrid_outcomes

logger = logging.getLogger(__name__)

OUT_OF_TIME = TransientFailure("not sent: the batch ran out of time (CLAIM_TIMEOUT)", retry_after=0)
#: 1,000 personalizations halve to one in 10 steps; the resends of a 400 add a few.
MAX_DEPTH = 12


class BatchCalls:
    """Makes the calls of one ``send()``; ``body(indexes)`` builds a call's JSON."""

    def __init__(self, client: Any, body: Callable[[list[int]], dict[str, Any]]) -> None:
        self.client = client
        self.body = body
        self.deadline = time.monotonic() + get_number_setting("CLAIM_TIMEOUT") / 2
        self.calls = 0
        self.stopped: Outcome | None = None

    def send(self, indexes: list[int], depth: int = 0) -> dict[int, Outcome]:
        """The outcome of each message of ``indexes`` (positions in the batch)."""
        if self.stopped is None and self.calls and time.monotonic() > self.deadline:
            self.stopped = OUT_OF_TIME  # the first call is always made: progress
        if self.stopped is not None:
            return dict.fromkeys(indexes, self.stopped)
        self.calls += 1
        try:
            answer = sendgrid_outcomes.call(self.client, self.body(indexes))
        except Exception as exc:
            logger.exception(
                "A SendGrid call raised; its %d message(s) will be retried.", len(indexes)
            )
            return dict.fromkeys(indexes, TransientFailure(f"{type(exc).__name__}: {exc}"))
        if answer.stop:
            self.stopped = answer.outcome
            if answer.alarm:
                logger.error("SendGrid refused the batch: %s", answer.alarm)
        if answer.status == 413 and len(indexes) > 1 and depth < MAX_DEPTH:
            half = len(indexes) // 2
            return {
                **self.send(indexes[:half], depth + 1),
                **self.send(indexes[half:], depth + 1),
            }
        results = dict.fromkeys(indexes, answer.outcome)
        rest = [i for n, i in enumerate(indexes) if n not in answer.blamed]
        if answer.blamed and rest and depth < MAX_DEPTH:
            results.update(self.send(rest, depth + 1))
        return results


def run(batch: BatchCalls, calls: Sequence[list[int]], size: int) -> list[Outcome]:
    """Every call of the batch in turn; one outcome per message, in order."""
    outcomes: dict[int, Outcome] = {}
    for indexes in calls:
        outcomes.update(batch.send(indexes))
    return [outcomes[index] for index in range(size)]
