"""``dsn signals``: the verbs triggers may use, with the arguments each signal sends."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from dsn_core.signals import registry

from . import Options, argument, subcommand

COLUMNS = ("verb", "arguments", "action object", "registered by", "description")


@subcommand("signals", argument("--json", action="store_true", help="Print JSON."))
def list_signals(command: BaseCommand, options: Options) -> None:
    """List registered signals: verb, arguments, source, whether it needs an action object.

    Model signals need one: they fire for every model, so a trigger must name which.
    """
    specs = list(registry)
    if options["json"]:
        rows = [
            {
                "name": spec.name,
                "args": list(spec.args),
                "source": spec.source,
                "requires_action_object": spec.requires_action_object,
                "description": spec.description,
            }
            for spec in specs
        ]
        command.stdout.write(json.dumps(rows, indent=2))
        return
    table = [COLUMNS] + [
        (
            spec.name,
            ", ".join(spec.args) or "-",
            "required" if spec.requires_action_object else "optional",
            spec.source,
            spec.description,
        )
        for spec in specs
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(COLUMNS))]
    for number, row in enumerate(table):
        line = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        line = line.rstrip()
        command.stdout.write(command.style.MIGRATE_HEADING(line) if number == 0 else line)
