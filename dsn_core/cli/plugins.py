"""``dsn plugins``: what was discovered, with versions, what each provides, and errors."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand

from dsn_core.plugin_info import PluginInfo
from dsn_core.plugins import plugin_manager

from . import Options, argument, subcommand

#: Contribution kinds as ``PluginInfo.provides`` names them, in display order. JSON
#: output always has every key, so scripts need not test for missing ones.
KINDS = (
    "messengers",
    "message templates",
    "recipient resolvers",
    "signals",
    "urls",
    "commands",
)


def _provides(info: PluginInfo) -> dict[str, list[str]]:
    provides = {kind: list(info.provides.get(kind, ())) for kind in KINDS}
    provides.update({kind: list(ids) for kind, ids in info.provides.items() if kind not in KINDS})
    return provides


def plugin_as_dict(info: PluginInfo) -> dict[str, Any]:
    provides = _provides(info)
    return {
        "name": info.name,
        "distribution": info.distribution,
        "version": info.version,
        "origin": info.origin,
        "module": info.module,
        "loaded": info.loaded,
        "status": info.status,
        "provides": {kind.replace(" ", "_"): ids for kind, ids in provides.items()},
        "errors": list(info.errors),
        "hint": info.hint if info.errors else None,
    }


def _heading(info: PluginInfo) -> str:
    package = " ".join(part for part in (info.distribution, info.version) if part)
    label = f"{info.name}: {package}" if package else info.name
    state = {"loaded": "", "blocked": "  [blocked by DSN['BLOCKED_PLUGINS']]"}.get(
        info.status, "  [not loaded]"
    )
    return f"{label} ({info.origin}, {info.module}){state}"


@subcommand("plugins", argument("--json", action="store_true", help="Print JSON."))
def list_plugins(command: BaseCommand, options: Options) -> None:
    """List DSN plugins: distribution and version, origin, what each provides, load errors.

    Load errors go to stderr; the exit status is 0 either way, because a broken plugin is
    skipped and does not stop the site.
    """
    infos = list(plugin_manager.plugins.values())
    if options["json"]:
        command.stdout.write(json.dumps([plugin_as_dict(info) for info in infos], indent=2))
    else:
        for info in infos:
            command.stdout.write(command.style.MIGRATE_HEADING(_heading(info)))
            for kind, ids in _provides(info).items():
                if ids:
                    command.stdout.write(f"  {kind}: {', '.join(ids)}")
        failed = sum(1 for info in infos if info.errors)
        summary = f"{len(infos)} plugin{'' if len(infos) == 1 else 's'}"
        summary += f", {failed} with errors" if failed else ""
        command.stdout.write(summary + ".")
    for info in infos:
        for error in info.errors:
            # The manager's messages usually end with the hint already.
            command.stderr.write(error if info.hint in error else f"{error}\n  {info.hint}")
