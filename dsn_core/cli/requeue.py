"""``dsn requeue``: recover deliveries a crash left behind. Safe to run from cron."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from dsn_core.requeue import requeue as run_requeue

from . import Options, subcommand


@subcommand("requeue")
def requeue(command: BaseCommand, options: Options) -> None:
    """Release deliveries of lost workers and enqueue due deliveries that have no task.

    Idempotent and safe while workers run: a delivery is only ever sent by the worker
    that claimed it. Run it every minute or so from cron, or after a crash.
    """
    report = run_requeue()
    command.stdout.write(
        f"released {report.released} lost deliveries, failed {report.failed}, "
        f"enqueued {report.enqueued} tasks"
    )
