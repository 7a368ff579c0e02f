"""``dsn stats``: deliveries by messenger and status over a period."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count
from django.utils import timezone

from dsn_core.models import Delivery, DeliveryStatus

from . import Options, argument, subcommand

_UNITS = {"m": 60, "h": 3600, "d": 86400}


def period(text: str) -> timedelta:
    match = re.fullmatch(r"(\d+)([mhd])", text.strip())
    if not match:
        raise CommandError(f"--since takes a number and a unit (m, h, d), e.g. 24h; not {text!r}.")
    return timedelta(seconds=int(match[1]) * _UNITS[match[2]])


@subcommand(
    "stats",
    argument("--since", default="24h", help="How far back: 30m, 24h, 7d (default 24h)."),
    argument("--json", action="store_true", help="Print JSON."),
)
def stats(command: BaseCommand, options: Options) -> None:
    """Count deliveries created in the period by messenger and status."""
    since = timezone.now() - period(options["since"])
    rows = (
        Delivery.objects.filter(created__gte=since)
        .values_list("messenger", "status")
        .annotate(count=Count("pk"))
        .order_by("messenger", "status")
    )
    statuses = [status.value for status in DeliveryStatus]
    table: dict[str, dict[str, int]] = {}
    for messenger, status, count in rows:
        table.setdefault(messenger, dict.fromkeys(statuses, 0))[status] = count
    if options["json"]:
        command.stdout.write(
            json.dumps({"since": since.isoformat(), "messengers": table}, indent=2)
        )
        return
    command.stdout.write(f"Deliveries created since {since:%Y-%m-%d %H:%M %Z}")
    header = ["messenger", *statuses, "total"]
    lines = [header]
    totals = dict.fromkeys(statuses, 0)
    for messenger, counts in table.items():
        lines.append([messenger, *(str(counts[s]) for s in statuses), str(sum(counts.values()))])
        for status in statuses:
            totals[status] += counts[status]
    lines.append(["all", *(str(totals[s]) for s in statuses), str(sum(totals.values()))])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for number, line in enumerate(lines):
        text = "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(line, widths, strict=True))
        )
        command.stdout.write(command.style.MIGRATE_HEADING(text) if number == 0 else text)
