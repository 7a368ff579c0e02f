"""``manage.py dsn <subcommand>``: the subcommands live in :mod:`dsn_core.cli`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from dsn_core.cli import Subcommand, add_subcommands, builtin_subcommands


class Command(BaseCommand):
    help = "Inspect DSN's plugins and signals, and send test messages."
    # A diagnostic command must run on a misconfigured site, and it prints plugin load
    # errors itself: running the system checks first would only repeat them.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        from dsn_core.plugins import plugin_manager

        commands = [*builtin_subcommands(), *plugin_manager.commands.values()]
        self.subcommands: dict[str, Subcommand] = add_subcommands(parser, commands)

    def handle(self, *args: Any, **options: Any) -> None:
        self.subcommands[options["subcommand"]].handler(self, options)
