"""``manage.py dsn <subcommand>``: each subcommand is one decorated function.

A module of this package adds one like this, and nothing else changes::

    @subcommand("requeue", argument("--older-than", type=int, metavar="SECONDS"))
    def requeue(command: BaseCommand, options: Options) -> None:
        '''Re-enqueue deliveries left pending by a crashed worker.'''

The docstring's first paragraph is the subcommand's help. Modules are found by listing the
package, the way Django finds management commands, so a new module needs no import.
A :class:`Subcommand` is a plain value, so a plugin hook can hand more of them to
:func:`add_subcommands`.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

Options = dict[str, Any]
Handler = Callable[[BaseCommand, Options], None]


@dataclass(frozen=True)
class Argument:
    """The arguments of one ``ArgumentParser.add_argument()`` call."""

    flags: tuple[str, ...]
    options: dict[str, Any] = field(default_factory=dict)


def argument(*flags: str, **options: Any) -> Argument:
    return Argument(flags, options)


@dataclass(frozen=True)
class Subcommand:
    name: str
    handler: Handler
    arguments: tuple[Argument, ...] = ()

    @property
    def description(self) -> str:
        return inspect.getdoc(self.handler) or ""

    @property
    def help(self) -> str:
        return " ".join(self.description.split("\n\n", 1)[0].split())


def subcommand(name: str, *arguments: Argument) -> Callable[[Handler], Subcommand]:
    """Turn a function ``(command, options) -> None`` into the subcommand ``dsn <name>``."""

    def decorate(handler: Handler) -> Subcommand:
        return Subcommand(name, handler, arguments)

    return decorate


def builtin_subcommands() -> list[Subcommand]:
    """Every :class:`Subcommand` defined at the top level of this package's modules."""
    found: list[Subcommand] = []
    for module_info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        found += [value for value in vars(module).values() if isinstance(value, Subcommand)]
    return found


def add_subcommands(
    parser: CommandParser, subcommands: Iterable[Subcommand]
) -> dict[str, Subcommand]:
    """Add one subparser per subcommand; return them by name for dispatch."""
    by_name: dict[str, Subcommand] = {}
    subparsers = parser.add_subparsers(
        dest="subcommand", metavar="SUBCOMMAND", title="subcommands", required=True
    )
    for command in sorted(subcommands, key=lambda c: c.name):
        if command.name in by_name:
            raise ValueError(f"Two DSN subcommands are named {command.name!r}.")
        by_name[command.name] = command
        subparser = subparsers.add_parser(
            command.name,
            help=command.help,
            description=command.description,
            formatter_class=argparse.RawDescriptionHelpFormatter,  # docstrings are wrapped
        )
        for arg in command.arguments:
            subparser.add_argument(*arg.flags, **arg.options)
    return by_name
