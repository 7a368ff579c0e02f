"""``manage.py dsn``: each subcommand through ``call_command``, plus one real process."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.dispatch import Signal

import dsn_core
from dsn_core import hookimpl
from dsn_core.cli import Options, add_subcommands, argument, subcommand
from dsn_core.messages import Outcome, OutgoingMessage, Sent
from dsn_core.messengers import BaseMessenger
from dsn_core.models import Backend
from tests.plugin_fixtures import BROKEN_PLUGIN, GOOD_PLUGIN, FakeSite

ROOT = Path(__file__).resolve().parent.parent


def dsn(*args: str) -> tuple[str, str]:
    """Run ``manage.py dsn *args``; return (stdout, stderr)."""
    out, err = StringIO(), StringIO()
    call_command("dsn", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


class RaisingPlugin:
    """A plugin whose contribution hook fails, as one missing its settings would."""

    @hookimpl
    def dsn_register_messengers(self, register: Callable[[type], None]) -> None:
        raise ValueError("DSN['RAISING']['API_KEY'] is not set")


def test_no_subcommand_is_a_usage_error() -> None:
    with pytest.raises(CommandError, match="required: SUBCOMMAND"):
        dsn()


def test_help_lists_every_subcommand() -> None:
    from dsn_core.management.commands.dsn import Command

    text = Command().create_parser("manage.py", "dsn").format_help()

    for name in ("plugins", "signals", "send-test"):
        assert name in text


def test_a_subcommand_is_one_decorated_function() -> None:
    calls: list[str] = []

    @subcommand("hello", argument("--name", default="world"))
    def hello(command: BaseCommand, options: Options) -> None:
        """Greet someone.

        Shows how later subcommands (requeue, stats, plugins' own) are added.
        """
        calls.append(options["name"])

    parser = CommandParser(prog="dsn")
    by_name = add_subcommands(parser, [hello])
    options = vars(parser.parse_args(["hello", "--name", "DSN"]))
    by_name[options["subcommand"]].handler(BaseCommand(), options)

    assert calls == ["DSN"]
    assert hello.help == "Greet someone."
    with pytest.raises(ValueError, match="Two DSN subcommands are named 'hello'"):
        add_subcommands(CommandParser(prog="dsn"), [hello, hello])


# -- dsn plugins -------------------------------------------------------------------------


def test_plugins_lists_core_with_version_origin_and_provides(dsn_outbox: Any) -> None:
    out, err = dsn("plugins")

    assert f"dsn_core: dsn-core {dsn_core.__version__} (builtin, dsn_core.builtin)" in out
    assert "  messengers: console, SimplePrintMessengerTemplateBased" in out
    assert "post_save" in out
    assert "dsn_core.testing (test, " in out
    assert "messengers: dsn_test_outbox, dsn_test_broadcast_outbox" in out
    assert out.rstrip().endswith("2 plugins.")
    assert err == ""


def test_plugins_json(dsn_outbox: Any) -> None:
    out, err = dsn("plugins", "--json")

    plugins = {p["name"]: p for p in json.loads(out)}
    core = plugins["dsn_core"]
    assert core["distribution"] == "dsn-core"
    assert core["version"] == dsn_core.__version__
    assert (core["origin"], core["module"], core["loaded"]) == ("builtin", "dsn_core.builtin", True)
    assert set(core["provides"]) == {
        "messengers",
        "message_templates",
        "recipient_resolvers",
        "signals",
        "urls",
        "commands",
    }
    assert "console" in core["provides"]["messengers"]
    assert "event_summary" in core["provides"]["message_templates"]
    assert "post_save" in core["provides"]["signals"]
    assert core["provides"]["urls"] == []
    assert (core["errors"], core["hint"]) == ([], None)
    assert plugins["dsn_core.testing"]["provides"]["messengers"] == [
        "dsn_test_outbox",
        "dsn_test_broadcast_outbox",
    ]
    assert err == ""


def test_plugins_reports_load_errors_on_stderr_without_failing(dsn_plugin: Any) -> None:
    dsn_plugin(RaisingPlugin(), name="raising")

    out, err = dsn("plugins")  # returns: no CommandError

    assert "raising (test, " in out
    assert "[not loaded]" in out
    assert out.rstrip().endswith("2 plugins, 1 with errors.")
    assert "raised in dsn_register_messengers" in err
    assert "API_KEY" in err
    assert "DSN['BLOCKED_PLUGINS']" in err  # the hint
    assert "raising" not in out.split("[not loaded]")[1]  # errors are not on stdout


def test_plugins_json_includes_errors_and_hint(dsn_plugin: Any) -> None:
    dsn_plugin(RaisingPlugin(), name="raising")

    out, err = dsn("plugins", "--json")

    [raising] = [p for p in json.loads(out) if p["name"] == "raising"]
    assert raising["loaded"] is False
    [error] = raising["errors"]
    assert "raised in dsn_register_messengers" in error
    assert "BLOCKED_PLUGINS" in raising["hint"]
    assert error in err


@pytest.mark.slow
def test_plugins_in_a_real_process_with_a_broken_entry_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = FakeSite(tmp_path, monkeypatch)
    site.plugin("broken", BROKEN_PLUGIN, version="0.1")
    site.plugin("good", GOOD_PLUGIN, version="1.2.3")
    result = site.run_django("dsn", "plugins", "--json")

    assert result.returncode == 0, result.stderr
    plugins = {p["name"]: p for p in json.loads(result.stdout)}
    assert (plugins["good"]["distribution"], plugins["good"]["version"]) == (
        "dsn-fake-good",
        "1.2.3",
    )
    assert plugins["good"]["provides"]["urls"] == ["webhook/"]
    assert plugins["broken"]["loaded"] is False
    assert "DSN plugin dsn-fake-broken (fake_broken_plugin) failed to import" in result.stderr


# -- dsn signals -------------------------------------------------------------------------


def test_signals_table() -> None:
    out, err = dsn("signals")

    lines = out.splitlines()
    assert lines[0].split() == [
        "verb",
        "arguments",
        "action",
        "object",
        "registered",
        "by",
        "description",
    ]
    rows = {line.split()[0]: line for line in lines[1:]}
    assert rows["post_save"].split() == [
        "post_save",
        "instance,",
        "created,",
        "raw,",
        "using,",
        "update_fields",
        "required",
        "dsn_core",
    ]
    assert rows["custom_signal"].split() == ["custom_signal", "parameter1", "optional", "project"]
    assert rows["request_finished"].split() == ["request_finished", "-", "optional", "dsn_core"]
    assert err == ""


def test_signals_json_attributes_each_signal(dsn_plugin: Any) -> None:
    parcel_left = Signal()

    class ShopPlugin:
        @hookimpl
        def dsn_register_signals(self, register: Callable[..., None]) -> None:
            register(
                "parcel_left", parcel_left, ("parcel",), description="A parcel left the warehouse."
            )

    dsn_plugin(ShopPlugin(), name="shop")

    out, _ = dsn("signals", "--json")

    signals = {s["name"]: s for s in json.loads(out)}
    assert signals["parcel_left"] == {
        "name": "parcel_left",
        "args": ["parcel"],
        "source": "shop",
        "requires_action_object": False,
        "description": "A parcel left the warehouse.",
    }
    assert signals["post_save"]["requires_action_object"] is True
    assert signals["post_save"]["source"] == "dsn_core"
    assert signals["custom_signal"]["source"] == "project"


# -- dsn send-test -----------------------------------------------------------------------


def outbox_backend(**options: Any) -> Backend:
    return Backend.objects.create(
        name="test outbox",
        messenger="dsn_test_outbox",
        message_template="event_summary",
        options=options,
    )


@pytest.mark.parametrize("to", ["alice", "pk"])
def test_send_test_sends_through_the_backend(
    user_factory: Callable[..., Any], dsn_outbox: list[OutgoingMessage], to: str
) -> None:
    alice = user_factory("alice")
    backend = outbox_backend()

    out, err = dsn(
        "send-test", "--backend", str(backend.pk), "--to", str(alice.pk) if to == "pk" else "alice"
    )

    [message] = dsn_outbox
    assert message.recipient.user == alice
    assert message.message.subject.startswith("[dsn_test]")
    assert "Hello alice: dsn_test" in message.message.text
    assert "Sent to alice (provider id: outbox-" in out
    assert err == ""


def test_send_test_prefers_a_digit_username_over_a_pk(
    user_factory: Callable[..., Any], dsn_outbox: list[OutgoingMessage]
) -> None:
    first = user_factory("first")
    numbered = user_factory(str(first.pk))

    dsn("send-test", "--backend", str(outbox_backend().pk), "--to", str(first.pk))

    assert [m.recipient.user for m in dsn_outbox] == [numbered]


def test_send_test_through_a_disabled_backend_says_so(
    user_factory: Callable[..., Any], dsn_outbox: list[OutgoingMessage]
) -> None:
    user_factory("alice")
    backend = outbox_backend()
    Backend.objects.filter(pk=backend.pk).update(enabled=False)

    out, _ = dsn("send-test", "--backend", str(backend.pk), "--to", "alice")

    assert "is disabled; sending anyway" in out
    assert len(dsn_outbox) == 1


def test_send_test_unknown_backend(user_factory: Callable[..., Any], dsn_outbox: Any) -> None:
    user_factory("alice")
    backend = outbox_backend()

    with pytest.raises(
        CommandError, match=rf"No backend with id 999\. Backends: #{backend.pk} \(test outbox\)"
    ):
        dsn("send-test", "--backend", "999", "--to", "alice")


def test_send_test_backend_id_must_be_a_number(db: None) -> None:
    with pytest.raises(CommandError, match="--backend: invalid int value: 'outbox'"):
        dsn("send-test", "--backend", "outbox", "--to", "alice")


@pytest.mark.parametrize("to", ["nobody", "4242"])
def test_send_test_unknown_user(db: None, dsn_outbox: Any, to: str) -> None:
    backend = outbox_backend()

    with pytest.raises(CommandError, match=f"No user with username or id '{to}'"):
        dsn("send-test", "--backend", str(backend.pk), "--to", to)


@pytest.mark.parametrize(
    ("field", "kind"), [("messenger", "messenger"), ("message_template", "message template")]
)
def test_send_test_messenger_or_template_not_installed(
    user_factory: Callable[..., Any], dsn_outbox: list[OutgoingMessage], field: str, kind: str
) -> None:
    user_factory("alice")
    backend = outbox_backend()
    Backend.objects.filter(pk=backend.pk).update(**{field: "dsn_telegram_bot"})

    with pytest.raises(
        CommandError, match=f"uses {kind} 'dsn_telegram_bot', which is not installed"
    ):
        dsn("send-test", "--backend", str(backend.pk), "--to", "alice")
    assert dsn_outbox == []


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"fail": "permanent"}, "Permanent failure for alice: scripted permanent failure."),
        (
            {"fail": "transient", "retry_after": 30},
            "Transient failure for alice: scripted transient failure; the provider asks to "
            "retry after 30 s.",
        ),
        ({"raise": "boom"}, "Transient failure for alice: RuntimeError: boom."),
    ],
)
def test_send_test_failed_delivery_exits_non_zero(
    user_factory: Callable[..., Any],
    dsn_outbox: list[OutgoingMessage],
    options: dict[str, Any],
    expected: str,
) -> None:
    user_factory("alice")
    backend = outbox_backend(**options)
    err = StringIO()

    with pytest.raises(
        CommandError, match=rf"1 of 1 test messages via backend #{backend.pk} .* were not sent"
    ):
        call_command(
            "dsn",
            "send-test",
            "--backend",
            str(backend.pk),
            "--to",
            "alice",
            stdout=StringIO(),
            stderr=err,
        )

    assert expected in err.getvalue()
    assert dsn_outbox == []


class PagerMessenger(BaseMessenger):
    """Needs a pager address, which no test user has."""

    id = "test_pager"
    channel = "pager"

    def send(self, messages: Sequence[OutgoingMessage]) -> Sequence[Outcome]:
        return [Sent() for _ in messages]


class PagerPlugin:
    @hookimpl
    def dsn_register_messengers(self, register: Callable[[type], None]) -> None:
        register(PagerMessenger)


def test_send_test_skipped_delivery_exits_non_zero(
    user_factory: Callable[..., Any], dsn_plugin: Any
) -> None:
    dsn_plugin(PagerPlugin(), name="pager")
    user_factory("alice")
    backend = Backend.objects.create(messenger="test_pager", message_template="event_summary")
    err = StringIO()

    with pytest.raises(CommandError, match="were not sent"):
        call_command(
            "dsn",
            "send-test",
            "--backend",
            str(backend.pk),
            "--to",
            "alice",
            stdout=StringIO(),
            stderr=err,
        )

    assert "Skipped alice: no pager address." in err.getvalue()
