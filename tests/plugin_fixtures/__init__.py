"""Installed-looking plugins for tests: fake distributions discovered through real
entry-point metadata, and plugin modules named by ``DSN["PLUGINS"]``."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


class FakeSite:
    """Writes ``*.dist-info`` directories and their modules, each distribution in its own
    ``sys.path`` entry, so entry points are found in the order distributions were added
    (within one directory ``importlib.metadata`` follows ``os.listdir``, which is unordered).
    """

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = root
        self.monkeypatch = monkeypatch
        self.modules: list[str] = []
        self.paths: list[Path] = []

    def add(
        self,
        distribution: str,
        version: str,
        entry_points: Mapping[str, str],
        modules: Mapping[str, str],
    ) -> Path:
        """Install ``distribution`` whose ``[dsn]`` group holds ``entry_points`` (name →
        module) and whose top-level ``modules`` (name → source) are written next to it."""
        site = self.root / distribution
        dist_info = site / f"{distribution.replace('-', '_')}-{version}.dist-info"
        dist_info.mkdir(parents=True)
        (dist_info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n"
        )
        lines = "".join(f"{name} = {value}\n" for name, value in entry_points.items())
        (dist_info / "entry_points.txt").write_text(f"[dsn]\n{lines}")
        for name, source in modules.items():
            (site / f"{name}.py").write_text(textwrap.dedent(source))
            self.modules.append(name)
        if self.paths:  # after the ones added before, so they are found first
            sys.path.insert(len(self.paths), str(site))
            importlib.invalidate_caches()
        else:  # saves sys.path for monkeypatch to restore
            self.monkeypatch.syspath_prepend(site)
        self.paths.append(site)
        return site

    def plugin(self, name: str, source: str, version: str = "1.0") -> Path:
        """Install distribution ``dsn-fake-<name>`` with entry point ``<name>`` naming
        module ``fake_<name>_plugin``, whose code is ``source``."""
        module = f"fake_{name}_plugin"
        return self.add(f"dsn-fake-{name}", version, {name: module}, {module: source})

    def run_django(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run ``python -m django ARGS`` in a new process that finds these distributions
        through their entry points, on a throwaway SQLite database."""
        (self.root / "fake_settings.py").write_text(
            "from tests.settings import *  # noqa: F403\n"
            "DSN = {**DSN, 'LOAD_ENTRY_POINTS': True}  # noqa: F405\n"
        )
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(self.root), *map(str, self.paths), str(ROOT)]),
            "DJANGO_SETTINGS_MODULE": "fake_settings",
            "DSN_TEST_DB": "sqlite",  # a throwaway file, also in the PostgreSQL run
            "DSN_TEST_DB_NAME": str(self.root / "db.sqlite3"),
        }
        return subprocess.run(
            [sys.executable, "-m", "django", *args],
            env=env,
            cwd=self.root,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def forget_modules(self) -> None:
        """Drop the fake modules from ``sys.modules``: the next test writes new ones."""
        for name in self.modules:
            sys.modules.pop(name, None)


#: A plugin contributing one of everything (messenger, template, resolver, signal, URL).
GOOD_PLUGIN = """
    from django.dispatch import Signal
    from django.http import HttpResponse
    from django.urls import path

    from dsn_core import hookimpl
    from dsn_core.message_templates import BaseMessageTemplate
    from dsn_core.messengers import BaseMessenger
    from dsn_core.resolvers import BaseRecipientResolver

    order_shipped = Signal()


    class GoodMessenger(BaseMessenger):
        id = "good_messenger"
        channel = "console"

        def send(self, messages):
            return []


    class GoodTemplate(BaseMessageTemplate):
        id = "good_template"
        template_string = "{{ verb }}"


    class GoodResolver(BaseRecipientResolver):
        id = "good_resolver"

        def resolve(self, trigger_context, signal_kwargs):
            return []


    @hookimpl
    def dsn_register_messengers(register):
        register(GoodMessenger)


    @hookimpl
    def dsn_register_message_templates(register):
        register(GoodTemplate)


    @hookimpl
    def dsn_register_recipient_resolvers(register):
        register(GoodResolver)


    @hookimpl
    def dsn_register_signals(register):
        register("order_shipped", order_shipped, ("order", "tracking_number"))


    @hookimpl
    def dsn_register_urls(register):
        register([path("webhook/", lambda request: HttpResponse("ok"), name="good-webhook")])
"""

#: Fails to import, like a plugin whose SDK is not installed.
BROKEN_PLUGIN = """
    import dsn_fake_sdk_that_is_not_installed  # noqa: F401
"""

#: Registers a signal, then a messenger, then raises: as if its settings were missing.
FLAKY_PLUGIN = """
    from django.dispatch import Signal
    from dsn_core import hookimpl
    from dsn_core.message_templates import BaseMessageTemplate
    from dsn_core.messengers import BaseMessenger

    flaky_signal = Signal()

    class FlakyMessenger(BaseMessenger):
        id = "flaky_messenger"

    class FlakyTemplate(BaseMessageTemplate):
        id = "flaky_template"
        template_string = "x"

    @hookimpl
    def dsn_register_signals(register):
        register("flaky_signal", flaky_signal)

    @hookimpl
    def dsn_register_messengers(register):
        register(FlakyMessenger)
        raise RuntimeError("settings missing")

    @hookimpl
    def dsn_register_message_templates(register):
        register(FlakyTemplate)
"""

#: Claims the messenger id ``shared``; install it twice to make two plugins collide.
SHARED_MESSENGER_PLUGIN = """
    from dsn_core import hookimpl
    from dsn_core.messengers import BaseMessenger

    class SharedMessenger(BaseMessenger):
        id = "shared"

    @hookimpl
    def dsn_register_messengers(register):
        register(SharedMessenger)
"""

#: Registers its own signal under the verb ``order_paid``.
SHARED_SIGNAL_PLUGIN = """
    from django.dispatch import Signal
    from dsn_core import hookimpl

    order_paid = Signal()

    @hookimpl
    def dsn_register_signals(register):
        register("order_paid", order_paid, ("order",))
"""

#: Implements ``dsn_register_messenger`` (singular): no such hook.
MISSPELLED_PLUGIN = """
    from dsn_core import hookimpl
    from dsn_core.messengers import BaseMessenger

    class TypoMessenger(BaseMessenger):
        id = "typo_messenger"

    @hookimpl
    def dsn_register_messenger(register):
        register(TypoMessenger)
"""

#: Registers a class that does not subclass BaseMessenger.
NOT_A_MESSENGER_PLUGIN = """
    from dsn_core import hookimpl

    class NotAMessenger:
        id = "not_a_messenger"

    @hookimpl
    def dsn_register_messengers(register):
        register(NotAMessenger)
"""
