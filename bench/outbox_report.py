"""Printing the outbox sections (3 to 5) of the benchmark report."""

from __future__ import annotations

import itertools
import sqlite3
import textwrap
from collections.abc import Sequence

from django.db import connection
from django.db.models import AutoField

from bench.outbox import HELD, LARGEST, EnqueueResult, OutboxResults, db_worker_available
from dsn_core.conf import get_setting
from dsn_core.models import Delivery

MIB = 1024 * 1024
UNLIMITED = 10**12  # more rows than any bulk_create: bulk_batch_size returns all


def rows_per_insert() -> int:
    """The most Delivery rows Django puts in one INSERT on this database (UNLIMITED: no cap)."""
    fields = [f for f in Delivery._meta.concrete_fields if not isinstance(f, AutoField)]
    return int(connection.ops.bulk_batch_size(fields, range(UNLIMITED)))


def insert_columns() -> int:
    return sum(1 for f in Delivery._meta.concrete_fields if not isinstance(f, AutoField))


def slopes(results: Sequence[EnqueueResult]) -> list[str]:
    """Microseconds per extra recipient, from the row above."""
    cells = ["-"]
    for previous, current in itertools.pairwise(results):
        step = (current.ms_per_save - previous.ms_per_save) * 1e3
        cells.append(f"{step / (current.recipients - previous.recipients):.1f}")
    return cells


def print_enqueue(label: str, results: OutboxResults) -> None:
    print()
    print(f"3. Outbox enqueue: {label}.save() inside transaction.atomic(), post_save watched")
    print(
        "   The sender's side of one matched event, in the sender's transaction: the save,\n"
        "   matching, planning (one users query), one Event row and one Delivery row per\n"
        "   recipient (one bulk_create), the commit, then on_commit enqueues one task per\n"
        f"   backend. DSN['TASK_BACKEND'] is {HELD!r}, a DummyBackend: it keeps the task and\n"
        "   never runs it, so nothing is rendered or sent here (section 4 sends). One\n"
        "   trigger, one subscription, one backend (console). Queries are those of one save.\n"
        f"   The same save with DSN disconnected: {results.bare_ms:.3f} ms, "
        f"{results.bare_queries} queries."
    )
    print()
    head = (
        f"   {'recipients':>10}{'saves':>7}{'ms/save':>10}{'+ms vs bare':>13}"
        f"{'us/extra recipient':>20}{'queries':>9}{'Delivery INSERTs':>18}{'other':>7}"
        f"{'rows':>8}{'tasks':>7}"
    )
    print(head)
    print("   " + "-" * (len(head) - 3))
    for r, slope in zip(results.enqueue, slopes(results.enqueue), strict=True):
        print(
            f"   {r.recipients:>10,}{r.saves:>7}{r.ms_per_save:>10.2f}"
            f"{r.ms_per_save - results.bare_ms:>13.2f}{slope:>20}{r.queries:>9}"
            f"{r.delivery_inserts:>18}{r.queries - r.delivery_inserts:>7}{r.rows:>8,}{r.tasks:>7}"
        )
    largest = results.enqueue[-1]
    print(
        "   ms/save is the median; us/extra recipient is the slope from the row above (at\n"
        "   1 and 10 recipients the difference is within the noise)."
    )
    listing = ", ".join(kind + (f" x{n}" if n > 1 else "") for kind, n in largest.statements)
    print(
        textwrap.fill(
            f"The {largest.recipients:,}-recipient save's queries, in order: {listing}.",
            width=88,
            initial_indent="   ",
            subsequent_indent="     ",
        )
    )
    others = sorted({r.queries - r.delivery_inserts for r in results.enqueue})
    totals = {r.queries for r in results.enqueue}
    per_insert = rows_per_insert()
    predicted = all(r.delivery_inserts == -(-r.rows // per_insert) for r in results.enqueue)
    if len(totals) == 1:
        verdict = f"PASS: {totals.pop()} queries at every count."
    elif len(others) == 1 and predicted:
        verdict = (
            f"Every query but the Delivery INSERTs is constant ({others[0]} at every"
            f" count): PASS; the INSERTs are bulk_create's own batches of {per_insert} rows,"
            " below."
        )
    else:
        verdict = (
            f"FAIL: {len(others)} different counts of other queries, or INSERTs not"
            f" one per {per_insert} rows."
        )
    text = f"Target: queries do not grow with recipients. {verdict}"
    print(textwrap.fill(text, width=88, initial_indent="   ", subsequent_indent="   "))
    print_insert_batches(per_insert)


def sqlite_variable_limit() -> int | None:
    """This SQLite build's real limit of parameters per statement (Python 3.11+)."""
    connection.ensure_connection()
    getlimit = getattr(connection.connection, "getlimit", None)
    return None if getlimit is None else int(getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))


def print_insert_batches(per_insert: int) -> None:
    name = connection.display_name
    if per_insert >= UNLIMITED:
        print(
            f"   {name}: Django sets no parameter limit per INSERT, so bulk_create writes"
            " any count's\n   rows in one statement."
        )
        return
    columns = insert_columns()
    limit = connection.features.max_query_params or 0  # set: the rows are split
    if per_insert >= LARGEST:
        print(
            f"   {name}: one INSERT holds up to {per_insert:,} rows ({limit:,} parameters,"
            f" {columns} columns a row),\n   so every count here takes one statement."
        )
        return
    print(
        f"   {name}: bulk_create splits the rows itself at {limit:,} parameters per"
        f" statement, i.e.\n   {per_insert} rows of {columns} columns, so the statement count"
        f" grows by one per {per_insert} recipients:\n"
        "   Django's batching of one bulk insert, not a query per recipient; on SQLite a\n"
        "   statement is a library call, not a round trip."
    )
    real = sqlite_variable_limit() if connection.vendor == "sqlite" else None
    if real is not None and real > limit:
        print(
            "   Django 5.2 assumes SQLite's old compile-time default (999); Django 6.0 reads"
            f" the\n   connection's limit, {real:,} on this build: one statement up to"
            f" {real // columns:,} rows."
        )


def print_send(results: OutboxResults) -> None:
    batch = int(get_setting("BATCH_SIZE"))
    print()
    print(f"4. Worker: one task, send_pending(event, backend), {LARGEST:,} pending deliveries")
    print(
        f"   What a worker runs per task: claim up to BATCH_SIZE ({batch}) due rows, render\n"
        "   each (event_summary), one console messenger call per batch (writing to a null\n"
        "   stream), write the outcomes, report each finished delivery (dsn_delivery_finished),\n"
        "   until no row is due. Each row sends a fresh event written by section 3's save,\n"
        "   in a fresh process, with one thread.\n"
        "   - 'send_pending() called directly': bench/outbox_worker.py calls it with the\n"
        "     (event_id, backend_id) of the task the save enqueued, and no task framework;\n"
        "     seconds = the call alone.\n"
        "   - 'db_worker command': django-tasks-db's worker runs the task the save queued in\n"
        "     the database queue, then exits (--batch: the queue is empty); seconds = the\n"
        "     task's started_at to finished_at.\n"
        "   wall = process start to exit (interpreter and Django start-up included)."
    )
    print()
    head = (
        f"   {'worker':<32}{'deliveries':>11}{'seconds':>9}{'deliveries/s':>14}"
        f"{'ms/delivery':>13}{'queries':>9}{'wall s':>8}"
    )
    print(head)
    print("   " + "-" * (len(head) - 3))
    for r in results.send:
        queries = "-" if r.queries is None else str(r.queries)
        wall = "-" if r.wall_seconds is None else f"{r.wall_seconds:.2f}"
        print(
            f"   {r.label:<32}{r.deliveries:>11,}{r.seconds:>9.2f}{r.per_second:>14,.0f}"
            f"{r.seconds * 1e3 / r.deliveries:>13.3f}{queries:>9}{wall:>8}"
        )
    if not db_worker_available():
        print("   db_worker: skipped, django-tasks-db is not installed.")


def print_memory(results: OutboxResults) -> None:
    enqueue = results.enqueue_memory
    batch = int(get_setting("BATCH_SIZE"))
    print()
    print(f"5. Memory for the {LARGEST:,}-recipient event")
    print(
        "   tracemalloc peak: Python allocations above those before the work, at their\n"
        "   highest (SQLite's and libpq's own buffers are not Python's). Peak RSS: the\n"
        "   process's resident high-water mark (VmHWM), everything counted; growth = how\n"
        "   far the work raised it (0: it stayed under the process's earlier peak)."
    )
    print()
    head = (
        f"   {'work':<42}{'process':<22}{'tracemalloc peak':>17}{'RSS growth':>12}{'peak RSS':>10}"
    )
    print(head)
    print("   " + "-" * (len(head) - 3))
    rows: list[tuple[str, str, int | None, int, int]] = [
        (
            "enqueue: the save of section 3",
            "this benchmark's",
            enqueue.traced_peak,
            enqueue.rss_growth,
            enqueue.rss_peak,
        ),
    ]
    for worker in results.send:
        assert worker.rss_growth is not None
        assert worker.rss_peak is not None
        rows.append(
            (f"send: {worker.label}", "fresh, a worker's", None, worker.rss_growth, worker.rss_peak)
        )
    for work, process, traced, growth, peak in rows:
        traced_cell = "-" if traced is None else f"{traced / MIB:.1f} MiB"
        print(
            f"   {work:<42}{process:<22}{traced_cell:>17}{growth / MIB:>8.1f} MiB"
            f"{peak / MIB:>6.0f} MiB"
        )
    note = (
        "The enqueue holds every recipient's user and Delivery row at once (one bulk"
        f" insert): {enqueue.traced_peak / LARGEST / 1024:.2f} KiB per recipient by"
        f" tracemalloc, under which it took {enqueue.seconds:.2f} s"
        f" ({results.enqueue[-1].ms_per_save / 1e3:.2f} s untraced). A worker holds one"
        f" claimed batch ({batch} rows) at a time. Sending is not run under tracemalloc,"
        " which slows its many small allocations about fourfold; a fresh process's RSS"
        " growth measures it instead."
    )
    print(textwrap.fill(note, width=88, initial_indent="   ", subsequent_indent="   "))
