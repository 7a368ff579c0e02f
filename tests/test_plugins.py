"""Plugin discovery through real entry-point metadata, isolation of broken plugins, and
the hook documentation contract."""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.dispatch import Signal

from dsn_core import hookimpl, hookspecs, registry
from dsn_core.checks import check_plugins
from dsn_core.messengers import BaseMessenger
from dsn_core.plugins import DsnPluginManager, plugin_manager
from dsn_core.signals import registry as signal_registry
from dsn_core.testing import register_plugin
from tests.plugin_fixtures import (
    BROKEN_PLUGIN,
    FLAKY_PLUGIN,
    GOOD_PLUGIN,
    MISSPELLED_PLUGIN,
    NOT_A_MESSENGER_PLUGIN,
    SHARED_MESSENGER_PLUGIN,
    SHARED_SIGNAL_PLUGIN,
    FakeSite,
)

ROOT = Path(__file__).resolve().parent.parent

MakeManager = Callable[..., DsnPluginManager]


def _registry_state() -> dict[str, list[tuple[str, Any, str]]]:
    return {
        "messengers": [(e.id, e.cls, e.source) for e in registry.messengers],
        "message templates": [(e.id, e.cls, e.source) for e in registry.message_templates],
        "resolvers": [(e.id, e.cls, e.source) for e in registry.resolvers],
        "signals": [(s.name, s.signal, s.source) for s in signal_registry],
    }


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSite]:
    fake = FakeSite(tmp_path, monkeypatch)
    yield fake
    fake.forget_modules()


@pytest.fixture
def load_plugins(settings: Any) -> Iterator[MakeManager]:
    """``load_plugins(**DSN)``: a fresh manager, loaded with entry points on by default.

    Loading rebuilds the process-global registries, so afterwards this drops what the
    fresh managers contributed and lets the global manager contribute again.
    """
    before = _registry_state()
    managers: list[DsnPluginManager] = []

    def load(**dsn: Any) -> DsnPluginManager:
        settings.DSN = {"LOAD_ENTRY_POINTS": True, "STRICT": True, **dsn}
        manager = DsnPluginManager()
        managers.append(manager)
        manager.load()
        return manager

    yield load
    names = {name for manager in managers for name in manager.plugins}
    # The global manager only rebuilds what its own plugins gave: drop the rest first.
    for kind in (registry.messengers, registry.message_templates, registry.resolvers):
        kind.remove_sources(lambda source: source not in names)
    signal_registry.remove_sources(lambda source: source not in names)
    plugin_manager.contribute()
    assert _registry_state() == before
    assert registry.messengers.source_of("console") == "dsn_core"
    assert signal_registry.get("post_save").source == "dsn_core"


def test_entry_point_plugin_contributes_everything_attributed(
    site: FakeSite, load_plugins: MakeManager
) -> None:
    site.plugin("good", GOOD_PLUGIN, version="1.2.3")

    manager = load_plugins()

    info = manager.plugins["good"]
    assert (info.origin, info.module, info.distribution, info.version) == (
        "entry point",
        "fake_good_plugin",
        "dsn-fake-good",
        "1.2.3",
    )
    assert info.loaded
    assert info.errors == []
    assert info.provides == {
        "signals": ["order_shipped"],
        "messengers": ["good_messenger"],
        "message templates": ["good_template"],
        "recipient resolvers": ["good_resolver"],
        "urls": ["webhook/"],
    }
    module = sys.modules["fake_good_plugin"]
    assert registry.messengers.get("good_messenger") is module.GoodMessenger
    assert registry.message_templates.get("good_template") is module.GoodTemplate
    assert registry.resolvers.get("good_resolver") is module.GoodResolver
    for kind in (registry.messengers, registry.message_templates, registry.resolvers):
        assert kind.ids_from("good")
    spec = signal_registry.get("order_shipped")
    assert (spec.signal, spec.args, spec.source) == (
        module.order_shipped,
        ("order", "tracking_number"),
        "good",
    )
    assert [str(p.pattern) for p in manager.urls["good"]] == ["webhook/"]
    # Core's own plugin is still there, first.
    assert next(iter(manager.plugins)) == "dsn_core"
    assert registry.messengers.source_of("console") == "dsn_core"


def test_plugin_that_fails_to_import_is_skipped_and_reported(
    site: FakeSite, load_plugins: MakeManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    site.plugin("broken", BROKEN_PLUGIN, version="0.1")
    site.plugin("good", GOOD_PLUGIN, version="1.2.3")

    manager = load_plugins()

    broken = manager.plugins["broken"]
    assert not broken.loaded
    assert broken.provides == {}
    [error] = broken.errors
    assert "dsn-fake-broken" in error
    assert "failed to import" in error
    assert "dsn_fake_sdk_that_is_not_installed" in error
    assert re.search(r"uninstall dsn-fake-broken", error, re.IGNORECASE)
    assert manager.plugins["good"].loaded
    assert "good_messenger" in registry.messengers

    # The system check reports it from the global manager's state.
    monkeypatch.setitem(plugin_manager.plugins, "broken", broken)
    [warning] = [m for m in check_plugins(None) if m.obj == "broken"]
    assert warning.id == "dsn.W001"
    assert "dsn-fake-broken" in warning.msg
    assert "uninstall dsn-fake-broken" in (warning.hint or "").lower()


@pytest.mark.slow
def test_django_starts_with_a_broken_plugin_and_check_warns(site: FakeSite, tmp_path: Path) -> None:
    """End to end: a real ``manage.py check`` process, plugins found by entry point."""
    site.plugin("broken", BROKEN_PLUGIN, version="0.1")
    result = site.run_django("check")
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert "(dsn.W001) DSN plugin dsn-fake-broken" in output
    assert "failed to import" in output


def test_hook_that_raises_drops_that_plugins_contributions(
    site: FakeSite, load_plugins: MakeManager
) -> None:
    site.plugin("flaky", FLAKY_PLUGIN, version="2.0")
    site.plugin("good", GOOD_PLUGIN, version="1.2.3")

    manager = load_plugins()

    info = manager.plugins["flaky"]
    assert not info.loaded
    [error] = info.errors
    assert "dsn-fake-flaky" in error
    assert "raised in dsn_register_messengers" in error
    assert "RuntimeError('settings missing')" in error
    assert info.provides == {}
    # Everything it gave is gone, also what it registered before raising.
    assert "flaky_messenger" not in registry.messengers
    assert "flaky_template" not in registry.message_templates
    assert "flaky_signal" not in signal_registry
    assert manager.plugins["good"].loaded
    assert {"good_messenger", "console"} <= {e.id for e in registry.messengers}
    assert "order_shipped" in signal_registry


def test_two_plugins_claiming_one_messenger_id_first_wins(
    site: FakeSite, load_plugins: MakeManager
) -> None:
    site.plugin("alpha", SHARED_MESSENGER_PLUGIN)
    site.plugin("beta", SHARED_MESSENGER_PLUGIN)

    manager = load_plugins()

    assert registry.messengers.source_of("shared") == "alpha"
    assert registry.messengers.get("shared") is sys.modules["fake_alpha_plugin"].SharedMessenger
    assert manager.plugins["alpha"].errors == []
    assert manager.plugins["alpha"].provides == {"messengers": ["shared"]}
    [error] = manager.plugins["beta"].errors
    assert "'shared'" in error
    assert "alpha (fake_alpha_plugin.SharedMessenger)" in error
    assert "beta (fake_beta_plugin.SharedMessenger)" in error
    assert "messengers" not in manager.plugins["beta"].provides


def test_duplicate_signal_verb_from_two_plugins_is_a_clear_error(
    site: FakeSite, load_plugins: MakeManager
) -> None:
    site.plugin("alpha", SHARED_SIGNAL_PLUGIN)
    site.plugin("beta", SHARED_SIGNAL_PLUGIN)

    manager = load_plugins()

    spec = signal_registry.get("order_paid")
    assert (spec.source, spec.signal) == ("alpha", sys.modules["fake_alpha_plugin"].order_paid)
    [error] = manager.plugins["beta"].errors
    assert "Two signals are registered under the verb 'order_paid'" in error
    assert "one by alpha and one by beta" in error


@pytest.mark.parametrize("blocked", ["good", "dsn-fake-good", "DSN_Fake_Good", "fake_good_plugin"])
def test_blocked_plugins_by_entry_point_distribution_or_module(
    site: FakeSite, load_plugins: MakeManager, blocked: str
) -> None:
    site.plugin("good", GOOD_PLUGIN, version="1.2.3")
    site.add("dsn-fake-other", "1.0", {"other": "fake_other_plugin"}, {"fake_other_plugin": ""})

    manager = load_plugins(BLOCKED_PLUGINS=[blocked])

    assert manager.plugins["good"].status == "blocked"  # listed, so admins see why
    assert manager.plugins["good"].errors == []
    assert "fake_good_plugin" not in sys.modules  # never imported
    assert "good_messenger" not in registry.messengers
    assert manager.plugins["other"].loaded


def test_plugin_named_in_settings_by_dotted_path(load_plugins: MakeManager) -> None:
    path = "tests.plugin_fixtures.settings_plugin"

    manager = load_plugins(LOAD_ENTRY_POINTS=False, PLUGINS=[path])

    info = manager.plugins[path]
    assert (info.origin, info.module, info.loaded, info.errors) == ("setting", path, True, [])
    assert info.provides == {
        "messengers": ["project_messenger"],
        "recipient resolvers": ["project_nobody"],
    }
    assert registry.messengers.source_of("project_messenger") == path
    assert registry.resolvers.source_of("project_nobody") == path


def test_plugin_in_settings_that_does_not_exist_is_reported(load_plugins: MakeManager) -> None:
    manager = load_plugins(LOAD_ENTRY_POINTS=False, PLUGINS=["tests.plugin_fixtures.missing"])

    info = manager.plugins["tests.plugin_fixtures.missing"]
    assert not info.loaded
    [error] = info.errors
    assert "failed to import" in error
    assert "Fix or remove 'tests.plugin_fixtures.missing' in DSN['PLUGINS']" in error


def test_blocked_plugin_in_settings_is_not_imported(load_plugins: MakeManager) -> None:
    path = "tests.plugin_fixtures.settings_plugin"

    manager = load_plugins(LOAD_ENTRY_POINTS=False, PLUGINS=[path], BLOCKED_PLUGINS=[path])

    assert manager.plugins[path].status == "blocked"
    assert "project_messenger" not in registry.messengers


def test_misspelled_hook_is_rejected_with_its_name(
    site: FakeSite, load_plugins: MakeManager
) -> None:
    site.plugin("typo", MISSPELLED_PLUGIN)

    manager = load_plugins()

    info = manager.plugins["typo"]
    assert not info.loaded
    [error] = info.errors
    assert "dsn-fake-typo" in error
    assert "dsn_register_messenger" in error
    assert "unknown hook" in error


def test_misspelled_hook_is_rejected_for_a_second_plugin_too(
    site: FakeSite, load_plugins: MakeManager
) -> None:
    """The first plugin's unknown hook must not make the name look known to the next."""
    site.plugin("typo", MISSPELLED_PLUGIN)
    site.plugin("typo2", MISSPELLED_PLUGIN)

    manager = load_plugins()

    assert [bool(manager.plugins[n].errors) for n in ("typo", "typo2")] == [True, True]


def test_messenger_that_is_not_a_base_messenger_subclass_is_rejected(
    site: FakeSite, load_plugins: MakeManager
) -> None:
    site.plugin("wrong", NOT_A_MESSENGER_PLUGIN)

    manager = load_plugins()

    [error] = manager.plugins["wrong"].errors
    assert "dsn-fake-wrong" in error
    assert "not a subclass of dsn_core.messengers.BaseMessenger" in error
    assert "not_a_messenger" not in registry.messengers


def test_entry_points_are_ignored_when_switched_off(
    site: FakeSite, load_plugins: MakeManager
) -> None:
    site.plugin("good", GOOD_PLUGIN, version="1.2.3")

    manager = load_plugins(LOAD_ENTRY_POINTS=False)

    assert list(manager.plugins) == ["dsn_core"]
    assert "fake_good_plugin" not in sys.modules
    assert "good_messenger" not in registry.messengers


def test_check_warns_about_a_plugin_registered_at_run_time() -> None:
    class RaisingPlugin:
        @hookimpl
        def dsn_register_messengers(self, register: Callable[[type], None]) -> None:
            raise ValueError("no API key")

    with register_plugin(RaisingPlugin(), name="raising") as info:
        assert not info.loaded
        [warning] = [m for m in check_plugins(None) if m.obj == "raising"]
    assert warning.id == "dsn.W001"
    assert "raised in dsn_register_messengers: ValueError('no API key')" in warning.msg
    assert "raising" not in plugin_manager.plugins
    assert not [m for m in check_plugins(None) if m.obj == "raising"]


def test_register_plugin_takes_its_contributions_away_afterwards() -> None:
    signal = Signal()

    class Temporary:
        @hookimpl
        def dsn_register_messengers(self, register: Callable[[type], None]) -> None:
            register(TemporaryMessenger)

        @hookimpl
        def dsn_register_signals(self, register: Callable[..., None]) -> None:
            register("temporary_signal", signal)

    with register_plugin(Temporary(), name="temporary"):
        assert registry.messengers.source_of("temporary_messenger") == "temporary"
        assert "temporary_signal" in signal_registry

    assert "temporary_messenger" not in registry.messengers
    assert "temporary_signal" not in signal_registry
    assert not signal.has_listeners()


class TemporaryMessenger(BaseMessenger):
    id = "temporary_messenger"


# -- the hook documentation contract ------------------------------------------------------


def _hookspec_functions() -> dict[str, Any]:
    return {
        name: function
        for name, function in vars(hookspecs).items()
        if name.startswith("dsn_") and hasattr(function, "dsn_spec")
    }


def test_hookspecs_module_defines_the_hooks() -> None:
    assert {"dsn_register_messengers", "dsn_resolve_address"} <= set(_hookspec_functions())


@pytest.mark.parametrize("name", sorted(_hookspec_functions()))
def test_every_hookspec_has_a_docstring(name: str) -> None:
    assert (inspect.getdoc(_hookspec_functions()[name]) or "").strip()


@pytest.mark.parametrize("name", sorted(_hookspec_functions()))
def test_every_hookspec_is_documented(name: str) -> None:
    """datasette's test_plugin_hooks_are_documented: one ``### <hook>`` heading per hook."""
    docs = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    headings = set(re.findall(r"^###\s+`?(\w+)", docs, re.MULTILINE))
    assert name in headings, f"docs/plugins.md has no '### {name}' section"
