"""``dsn_register_commands``: plugins add ``manage.py dsn <name>`` subcommands."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from dsn_core import hookimpl
from dsn_core.cli import Options, argument, subcommand
from dsn_core.plugins import plugin_manager

calls: list[dict[str, Any]] = []


@subcommand("chat", argument("action", choices=["poll", "set-webhook"]))
def chat(command: BaseCommand, options: Options) -> None:
    """Talk to the fake chat service."""
    calls.append({"action": options["action"]})
    command.stdout.write(f"chat {options['action']}")


class ChatPlugin:
    @hookimpl
    def dsn_register_commands(self, register: Any) -> None:
        register(chat)


class ClashingPlugin:
    @hookimpl
    def dsn_register_commands(self, register: Any) -> None:
        register(subcommand("requeue")(lambda command, options: None))


class NotASubcommandPlugin:
    @hookimpl
    def dsn_register_commands(self, register: Any) -> None:
        register(lambda command, options: None)


def test_plugin_subcommand_runs_through_manage_py_dsn(dsn_plugin: Any) -> None:
    calls.clear()
    info = dsn_plugin(ChatPlugin(), name="chatplugin")
    out = StringIO()
    call_command("dsn", "chat", "set-webhook", stdout=out)
    assert calls == [{"action": "set-webhook"}]
    assert out.getvalue().strip() == "chat set-webhook"
    assert info.provides["commands"] == ["chat"]
    listing = StringIO()
    call_command("dsn", "plugins", stdout=listing)
    assert "  commands: chat" in listing.getvalue()


def test_subcommand_is_gone_with_its_plugin(dsn_plugin: Any) -> None:
    from dsn_core.testing import register_plugin

    with register_plugin(ChatPlugin(), name="chatplugin"):
        assert "chat" in plugin_manager.commands
    assert "chat" not in plugin_manager.commands
    with pytest.raises(CommandError, match="invalid choice: 'chat'"):
        call_command("dsn", "chat", "poll")


def test_subcommand_name_taken_by_core_is_refused_the_plugin_stays(dsn_plugin: Any) -> None:
    info = dsn_plugin(ClashingPlugin(), name="clash")
    assert info.loaded
    (error,) = info.errors
    assert error.startswith("DSN plugin clash (ClashingPlugin) cannot add the subcommand")
    assert "'dsn requeue': dsn-core already provides it" in error
    assert plugin_manager.commands.get("requeue") is None  # core's own is untouched
    assert "commands" not in info.provides


def test_register_refuses_what_is_not_a_subcommand(dsn_plugin: Any) -> None:
    info = dsn_plugin(NotASubcommandPlugin(), name="notsub")
    assert not info.loaded
    assert "build it with dsn_core.cli.subcommand()" in info.errors[0]


def test_two_plugins_cannot_share_a_subcommand(dsn_plugin: Any) -> None:
    dsn_plugin(ChatPlugin(), name="first")
    second = dsn_plugin(ChatPlugin(), name="second")
    assert second.loaded
    (error,) = second.errors
    assert "DSN plugin second" in error
    assert "'dsn chat': first already provides it" in error
    assert plugin_manager.plugins["first"].provides["commands"] == ["chat"]
