"""When to try a transient failure again: capped exponential backoff with jitter."""

from __future__ import annotations

import random

from .conf import get_number_setting


def backoff(attempts: int, retry_after: float | None = None) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt.

    Jitter spreads the retries of a batch that failed together (a provider outage) so
    they do not hammer the provider at the same instant when it comes back.
    """
    base = get_number_setting("RETRY_BASE")
    cap = get_number_setting("RETRY_MAX")
    delay = min(cap, base * 2 ** max(0, attempts - 1))
    delay = random.uniform(delay / 2, delay)
    if retry_after is not None:
        delay = max(delay, float(retry_after))
    return delay
