"""Timing helpers: alternating bare/DSN rounds for the hot path, and per-save cost of a
matched trigger. Imported only after ``django.setup()``."""

from __future__ import annotations

import contextlib
import gc
import io
import resource
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from dsn_core.receivers import connect, disconnect
from dsn_core.signals import registry as signal_registry

Save = Callable[[], None]
#: Opens around each timed round: ``nullcontext`` (autocommit) or ``transaction.atomic``.
RoundContext = Callable[[], AbstractContextManager[Any]]


@contextlib.contextmanager
def dsn_disconnected() -> Iterator[None]:
    """Remove DSN's one receiver per registered signal: what a site without DSN runs."""
    specs = list(signal_registry)
    for spec in specs:
        disconnect(spec)
    try:
        yield
    finally:
        for spec in specs:
            connect(spec)


def peak_rss() -> int:
    """This process's peak resident set size, in bytes.

    VmHWM belongs to the process's current memory map, which starts afresh at exec;
    ru_maxrss does not (a child started with vfork/exec reports its parent's peak).
    """
    with contextlib.suppress(OSError), open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def seconds_per_save(save: Save, count: int, context: RoundContext = nullcontext) -> float:
    # The collector is off inside a round so a full collection of Django's heap, which
    # lands on whichever round happens to be running, does not decide a pair's ratio.
    gc.disable()
    try:
        start = time.perf_counter()
        with context():
            for _ in range(count):
                save()
        return (time.perf_counter() - start) / count
    finally:
        gc.enable()


def queries_per_save(save: Save, count: int, context: RoundContext = nullcontext) -> float:
    with CaptureQueriesContext(connection) as captured, context():
        for _ in range(count):
            save()
    return len(captured.captured_queries) / count


def calibrate(save: Save, round_seconds: float, context: RoundContext, most: int) -> int:
    """Saves per round so that one round lasts about ``round_seconds``."""
    seconds_per_save(save, 50, context)  # warm caches (statements, signal receivers)
    each = seconds_per_save(save, 200, context)
    return max(50, min(most, int(round_seconds / each)))


@dataclass(frozen=True)
class HotPathResult:
    name: str
    bare_us: float  # median microseconds per save, DSN disconnected
    dsn_us: float  # median microseconds per save, DSN connected
    ratios: list[float]  # one per bare/DSN pair
    min_ratio: float  # fastest DSN round / fastest bare round: robust to a busy machine
    bare_queries: float
    dsn_queries: float
    saves_per_round: int

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)

    def quantiles(self) -> tuple[float, float, float, float]:
        """p10, p25, p75, p90 of the pair ratios."""
        deciles = statistics.quantiles(self.ratios, n=20, method="inclusive")
        return deciles[1], deciles[4], deciles[14], deciles[17]

    @property
    def extra_queries(self) -> float:
        return self.dsn_queries - self.bare_queries


def alternate(
    name: str,
    save: Save,
    *,
    pairs: int,
    round_seconds: float,
    query_saves: int,
    context: RoundContext = nullcontext,
    most_per_round: int = 5000,
) -> HotPathResult:
    """Time ``pairs`` bare/DSN pairs, alternating which goes first (ABBA), so drift in
    the machine or the database (cache warm-up, table growth) falls on both sides."""
    with dsn_disconnected():
        per_round = calibrate(save, round_seconds, context, most_per_round)
        bare_queries = queries_per_save(save, query_saves, context)
    calibrate(save, round_seconds / 4, context, most_per_round)  # warm DSN's side too
    dsn_queries = queries_per_save(save, query_saves, context)
    bare: list[float] = []
    dsn: list[float] = []
    for pair in range(pairs):
        for dsn_side in (False, True) if pair % 2 == 0 else (True, False):
            if dsn_side:
                seconds_per_save(save, 5)  # refill Django's per-sender receiver cache
                dsn.append(seconds_per_save(save, per_round, context))
            else:
                with dsn_disconnected():
                    seconds_per_save(save, 5)
                    bare.append(seconds_per_save(save, per_round, context))
    return HotPathResult(
        name=name,
        bare_us=statistics.median(bare) * 1e6,
        dsn_us=statistics.median(dsn) * 1e6,
        ratios=[d / b for d, b in zip(dsn, bare, strict=True)],
        min_ratio=min(dsn) / min(bare),
        bare_queries=bare_queries,
        dsn_queries=dsn_queries,
        saves_per_round=per_round,
    )


@dataclass(frozen=True)
class MatchedResult:
    recipients: int
    saves: int
    ms_per_save: float  # median
    queries_per_save: float
    messages_per_save: float


class MessageCounter(io.TextIOBase):
    """A null stream that counts the console messenger's messages as they go by."""

    def __init__(self) -> None:
        super().__init__()
        self.messages = 0

    def write(self, text: str) -> int:
        # ConsoleMessenger.format() opens each message so; if that changes, the report's
        # messages/save column drops to 0 and shows it.
        self.messages += text.startswith("-- DSN message to ")
        return len(text)


def time_matched(
    recipients: int, save: Save, *, budget_seconds: float, max_saves: int
) -> MatchedResult:
    """Median wall time of one save that matches, renders and delivers to everyone."""
    sink = MessageCounter()
    with contextlib.redirect_stdout(sink):
        save()  # warm-up: fills the ORM's and the template engine's caches
        sink.messages = 0
        counted = 1 if recipients >= 1000 else 3
        queries = queries_per_save(save, counted)
        times: list[float] = []
        deadline = time.perf_counter() + budget_seconds
        while len(times) < max_saves and (len(times) < 3 or time.perf_counter() < deadline):
            times.append(seconds_per_save(save, 1))
    return MatchedResult(
        recipients=recipients,
        saves=len(times),
        ms_per_save=statistics.median(times) * 1e3,
        queries_per_save=queries,
        messages_per_save=sink.messages / (counted + len(times)),
    )
