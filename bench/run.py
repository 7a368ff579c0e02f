"""DSN benchmark: what DSN adds to a save that no trigger watches, what a matched
trigger costs per recipient, what writing the outbox costs the sender, how fast one
worker sends, and the memory of a 10,000-recipient event. Prints one report; a missed
target is reported, not fatal.

    python bench/run.py                      # SQLite (a fresh temp file)
    DSN_TEST_DB=postgres PGHOST=... PGPORT=... PGUSER=... python bench/run.py
    python bench/run.py --profile            # also cProfile the hot path
    python bench/run.py --no-outbox          # sections 1, 2 and 6
    python bench/run.py --no-channels        # without section 6 (dsn-email's SendGrid)

Run from the repository root; ``nox -s bench`` runs it on SQLite, then PostgreSQL.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import itertools
import os
import platform
import pstats
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `bench` and `tests`
# Forced, not setdefault: an exported tests.settings would point the run at the tests' DB.
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402

import dsn_core  # noqa: E402
from bench import channels  # noqa: E402
from bench.measure import (  # noqa: E402
    HotPathResult,
    MatchedResult,
    Save,
    alternate,
    dsn_disconnected,
    seconds_per_save,
    time_matched,
)
from bench.outbox import measure_outbox  # noqa: E402
from bench.outbox_report import print_enqueue, print_memory, print_send  # noqa: E402
from bench.scenario import (  # noqa: E402
    Fixture,
    add_same_model_trigger,
    matched_subscription,
    populate,
)
from dsn_core.matching import holder  # noqa: E402

TARGET_RATIO = 1.02
RECIPIENT_COUNTS = (0, 1, 10, 100, 1000)


@contextlib.contextmanager
def fresh_database() -> Iterator[str]:
    """Create and migrate the benchmark's own database; drop it afterwards."""
    old_name = connection.settings_dict["NAME"]
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        yield name
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def database_description(name: str) -> str:
    if connection.vendor == "sqlite":
        import sqlite3

        return f"sqlite {sqlite3.sqlite_version}, file {name}"
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            (version,) = cursor.fetchone() or ("?",)
        host = connection.settings_dict["HOST"]
        port = connection.settings_dict["PORT"]
        return f"postgresql {version}, database {name} on {host}:{port}"
    return f"{connection.vendor}, database {name}"


def print_header(database: str) -> None:
    print("DSN benchmark")
    print(
        f"  Python {platform.python_version()}, Django {django.get_version()}, "
        f"dsn-core {dsn_core.__version__}, {platform.system()} {platform.machine()}, "
        f"{os.cpu_count()} CPUs"
    )
    print(f"  Database: {database} (fresh, migrated by this run)")
    print(f"  settings.DSN = {settings.DSN!r}")
    print("    LOAD_ENTRY_POINTS False: no plugin is loaded; core's console messenger only.")
    print(
        "    REFRESH_INTERVAL 3600: the trigger index is built before timing and the\n"
        "    configuration version is not re-read during it. With the default (5 s) a\n"
        "    process makes one small query per 5 s, never one per save."
    )
    print("    STRICT True: a DSN error aborts the benchmark instead of being timed.")
    load = os.getloadavg()[0]
    busy = load > 0.5 * (os.cpu_count() or 1)
    note = "  (busy: other processes compete; trust 'min ratio' more)" if busy else ""
    print(f"  Load average (1 min) at start: {load:.2f}{note}")


def hot_path(fixture: Fixture, pairs: int, round_seconds: float) -> list[HotPathResult]:
    """The headline row first; then the same cost without a commit to hide behind, an
    INSERT, and a save that finds a candidate trigger (another row) it must rule out."""
    model = type(fixture.subject)
    pool = itertools.cycle(fixture.row_pool)

    def update_next_row() -> None:
        # Each row at most once per transaction: on PostgreSQL, updating one row over
        # and over inside a transaction grows a version chain that slows every update.
        next(pool).save()

    def insert() -> None:
        model(name="inserted").save()

    def run(name: str, save: Save, *, in_transaction: bool = False) -> HotPathResult:
        index = holder.index
        result = alternate(
            name,
            save,
            pairs=pairs,
            round_seconds=round_seconds,
            query_saves=1000,
            context=transaction.atomic if in_transaction else contextlib.nullcontext,
            most_per_round=len(fixture.row_pool),
        )
        if holder.index is not index:
            raise RuntimeError(f"the trigger index was reloaded while timing {name!r}")
        return result

    results = [
        run("UPDATE, autocommit", fixture.subject.save),
        run("UPDATE, one transaction per round", update_next_row, in_transaction=True),
        run("INSERT, one transaction per round", insert, in_transaction=True),
    ]
    with add_same_model_trigger(fixture):
        results.append(run(WATCHED_MODEL_ROW, fixture.subject.save))
    return results


WATCHED_MODEL_ROW = "UPDATE, autocommit, +1 trigger on row"


def print_hot_path(fixture: Fixture, results: Sequence[HotPathResult], pairs: int) -> None:
    label = fixture.subject._meta.label
    print()
    print(f"1. Hot path: {label}.save() that no trigger watches")
    print(f"   {fixture.index_description}")
    print(
        f"   bare = the same save with DSN's receivers disconnected; {pairs} bare/DSN pairs,\n"
        "   alternating which side runs first; ratio = median of DSN/bare per pair, with\n"
        "   its quartiles and deciles; min ratio = fastest DSN round / fastest bare round,\n"
        "   which a busy machine disturbs least. us columns are medians per save. gc is\n"
        "   off inside each timed round. Queries are counted over 1,000 saves per side."
    )
    print(f"   Target: median ratio <= {TARGET_RATIO} and 0 extra queries per save.")
    print(
        f"   '{WATCHED_MODEL_ROW}': a trigger watches another row of the same model, so\n"
        "   DSN's receiver runs and matches in memory; shown for information."
    )
    print()
    head = (
        f"   {'save':<38}{'saves/rnd':>10}{'bare us':>9}{'DSN us':>9}{'+us':>7}"
        f"{'ratio':>8}{'p25-p75':>14}{'p10-p90':>14}{'min ratio':>10}{'+queries':>10}"
        "  verdict"
    )
    print(head)
    print("   " + "-" * (len(head) - 3))
    for r in results:
        p10, p25, p75, p90 = r.quantiles()
        if r.name == WATCHED_MODEL_ROW:  # the model is watched: outside the target's scope
            verdict = "info"
        else:
            verdict = "PASS" if r.ratio <= TARGET_RATIO and r.extra_queries == 0 else "FAIL"
        print(
            f"   {r.name:<38}{r.saves_per_round:>10}{r.bare_us:>9.1f}{r.dsn_us:>9.1f}"
            f"{r.dsn_us - r.bare_us:>7.1f}{r.ratio:>8.3f}{f'{p25:.3f}-{p75:.3f}':>14}"
            f"{f'{p10:.3f}-{p90:.3f}':>14}{r.min_ratio:>10.3f}{r.extra_queries:>10.3f}"
            f"  {verdict}"
        )
    headline = results[0]
    verdict = "PASS" if headline.ratio <= TARGET_RATIO else "FAIL"
    print(
        f"\n   Headline (UPDATE, autocommit): ratio {headline.ratio:.3f} vs target "
        f"{TARGET_RATIO}: {verdict}; extra queries per save: {headline.extra_queries:g}."
    )


def matched(fixture: Fixture, budget_seconds: float) -> tuple[float, list[MatchedResult]]:
    target = fixture.matched_object
    with dsn_disconnected():
        seconds_per_save(target.save, 20)
        bare_ms = seconds_per_save(target.save, 200) * 1e3
    results = []
    with matched_subscription(fixture) as set_recipients:
        for count in RECIPIENT_COUNTS:
            set_recipients(count)
            results.append(
                time_matched(count, target.save, budget_seconds=budget_seconds, max_saves=200)
            )
    return bare_ms, results


def print_matched(fixture: Fixture, bare_ms: float, results: Sequence[MatchedResult]) -> None:
    label = fixture.matched_object._meta.label
    print()
    print(f"2. Matched trigger: {label}.save() (UPDATE, autocommit) with post_save watched")
    print(
        "   One trigger, one subscription, one backend: console messenger (stream stdout,\n"
        "   redirected to a null stream that counts messages), template event_summary.\n"
        "   The save writes the outbox (an Event row, one Delivery row per recipient) and,\n"
        "   on commit (at once, in autocommit), enqueues one task. The default TASKS backend\n"
        "   is the ImmediateBackend, which runs the task inside enqueue(): so one save =\n"
        "   match + plan + write the outbox + claim + render + send + record the outcomes.\n"
        "   Sections 3 and 4 time the two sides apart. 0 recipients: matched and planned,\n"
        "   nobody to notify, so nothing is written or enqueued.\n"
        f"   The same save with DSN disconnected takes {bare_ms:.3f} ms."
    )
    print()
    head = (
        f"   {'recipients':>10}{'saves':>7}{'ms/save':>10}{'+ms vs bare':>13}"
        f"{'us/extra recipient':>20}{'queries/save':>14}{'messages/save':>15}"
    )
    print(head)
    print("   " + "-" * (len(head) - 3))
    previous: MatchedResult | None = None
    for r in results:
        marginal = "-"
        if previous is not None:
            step = (r.ms_per_save - previous.ms_per_save) * 1e3
            marginal = f"{step / (r.recipients - previous.recipients):.1f}"
        print(
            f"   {r.recipients:>10}{r.saves:>7}{r.ms_per_save:>10.2f}"
            f"{r.ms_per_save - bare_ms:>13.2f}{marginal:>20}"
            f"{r.queries_per_save:>14.1f}{r.messages_per_save:>15.1f}"
        )
        previous = r
    print(
        "   ms/save is the median. us/extra recipient: the slope from the row above, i.e.\n"
        "   its outbox row, claim, render, format, write, outcome and report for one more\n"
        "   recipient (0 -> 1 also pays the users query that a subscription without users\n"
        "   skips, the Delivery insert, and the task's claim and outcome queries)."
    )


def profile_hot_path(fixture: Fixture, saves: int) -> None:
    """cProfile the headline save with DSN connected: where DSN's time goes."""
    save = fixture.subject.save
    seconds_per_save(save, 100)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(saves):
        save()
    profiler.disable()
    stats = pstats.Stats(profiler)
    print()
    print(f"6. cProfile of {saves:,} UPDATE saves with DSN connected")
    print("   DSN's functions and Django's signal dispatcher, by own time:")
    stats.sort_stats("tottime").print_stats("dsn_core|dispatch/dispatcher", 15)
    print("   Top 25 overall by own time:")
    stats.sort_stats("tottime").print_stats(25)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--pairs", type=int, default=40, help="bare/DSN pairs per hot-path row")
    parser.add_argument(
        "--round-ms", type=float, help="length of one timed round (30; 60 on PostgreSQL)"
    )
    parser.add_argument("--matched-seconds", type=float, default=1.5, help="budget per count")
    parser.add_argument(
        "--outbox-seconds", type=float, default=1.0, help="budget per count in section 3"
    )
    parser.add_argument("--no-outbox", action="store_true", help="skip sections 3 to 5")
    parser.add_argument("--no-channels", action="store_true", help="skip section 6")
    parser.add_argument("--profile", action="store_true", help="also cProfile the hot path")
    args = parser.parse_args(argv)
    if args.pairs < 2:
        parser.error("--pairs must be at least 2: the spread needs two ratios")

    # PostgreSQL runs beside the client on the same cores: longer rounds average out the
    # scheduling noise that makes its per-round times jumpier than SQLite's.
    round_ms = args.round_ms or (60.0 if connection.vendor == "postgresql" else 30.0)
    with fresh_database() as name:
        print_header(database_description(name))
        fixture = populate()
        hot = hot_path(fixture, args.pairs, round_ms / 1000)
        print_hot_path(fixture, hot, args.pairs)
        bare_ms, results = matched(fixture, args.matched_seconds)
        print_matched(fixture, bare_ms, results)
        if not args.no_outbox:
            outbox = measure_outbox(fixture, args.outbox_seconds)
            label = fixture.matched_object._meta.label
            print_enqueue(label, outbox)
            print_send(outbox)
            print_memory(outbox)
        if args.no_channels:
            pass
        elif channels.available():
            channels.print_sendgrid(channels.measure_sendgrid(fixture))
        else:
            print("\n6. Channel plugins: skipped (install plugins/dsn-email and pytest-httpserver)")
        if args.profile:
            profile_hot_path(fixture, 20_000)
    return 0


if __name__ == "__main__":
    sys.exit(main())
