"""The plugin manager: find → load → validate → contribute, each plugin isolated.

pluggy's own ``load_setuptools_entrypoints`` stops at the first broken plugin, so DSN
walks the ``dsn`` entry-point group itself. A plugin that fails to import, fails
validation or raises in a contribution hook is skipped and reported (log, system check
``dsn.W001``, the admin's plugins page, ``manage.py dsn plugins``); Django still starts.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import logging
import re
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pluggy
from django.core.exceptions import ValidationError
from django.urls import URLPattern, URLResolver

from . import hookspecs, registry
from .conf import get_names_setting, get_setting
from .exceptions import ConfigurationError, RegistrationError
from .plugin_info import PluginInfo
from .signals import registry as signal_registry

if TYPE_CHECKING:
    from .cli import Subcommand

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "dsn"
BUILTIN = "dsn_core"


@dataclass(frozen=True)
class _ContributionHook:
    hook: str
    kind: str
    register: Callable[[str], Callable[..., None]]  # source -> register callable
    remove: Callable[[Callable[[str], bool]], None]  # drop registrations by source


def _signal_register(source: str) -> Callable[..., None]:
    def register(name: str, signal: Any, args: Iterable[str] = (), **options: Any) -> None:
        signal_registry.register(name, signal, args, source=source, **options)

    return register


class DsnPluginManager:
    """A typed facade over pluggy: nothing else in DSN touches ``pm.hook``."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager("dsn")
        self.pm.add_hookspecs(hookspecs)
        self.plugins: dict[str, PluginInfo] = {}
        self.urls: dict[str, list[URLPattern | URLResolver]] = {}
        self.commands: dict[str, Subcommand] = {}
        self.loaded = False

    # -- loading ---------------------------------------------------------------------

    def load(self) -> None:
        """Load every plugin once; called from ``DsnCoreConfig.ready()``."""
        if self.loaded:
            return
        self.loaded = True
        from . import builtin

        self._add(
            builtin,
            PluginInfo(BUILTIN, builtin.__name__, "builtin", "dsn-core", _version("dsn-core")),
        )
        blocked = {_normalize(name) for name in get_names_setting("BLOCKED_PLUGINS")}
        if self._load_entry_points():
            for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
                dist = entry_point.dist
                info = PluginInfo(
                    entry_point.name,
                    entry_point.value,
                    "entry point",
                    dist.metadata["Name"] if dist else None,
                    dist.version if dist else None,
                )
                names = {entry_point.name, entry_point.value, info.distribution or ""}
                if blocked & {_normalize(name) for name in names}:
                    logger.info("DSN plugin %s is blocked by DSN['BLOCKED_PLUGINS'].", info.name)
                    info.blocked = True
                    self.plugins.setdefault(info.name, info)
                    continue
                self._load_and_add(entry_point.load, info)
        for path in get_names_setting("PLUGINS"):
            if _normalize(path) in blocked:
                self.plugins.setdefault(path, PluginInfo(path, path, "setting", blocked=True))
                continue
            self._load_and_add(
                functools.partial(importlib.import_module, path), PluginInfo(path, path, "setting")
            )
        self.contribute()

    @staticmethod
    def _load_entry_points() -> bool:
        try:
            return bool(get_setting("LOAD_ENTRY_POINTS"))
        except ConfigurationError:
            return False  # settings.DSN is not a dict: core only, and dsn.E001 says why

    def _load_and_add(self, load: Callable[[], Any], info: PluginInfo) -> None:
        if info.name in self.plugins:
            self._fail(
                info, f"is not loaded: another plugin is already named {info.name!r}", disable=False
            )
            self.plugins.setdefault(f"{info.name} ({info.module})", info)
            return
        try:
            plugin = load()
        except Exception as exc:
            self.plugins[info.name] = info
            self._fail(info, f"failed to import: {exc!r}", exc)
            return
        self._add(plugin, info)

    def _add(self, plugin: Any, info: PluginInfo) -> None:
        self.plugins[info.name] = info
        try:
            self.pm.register(plugin, name=info.name)
        except (pluggy.PluginValidationError, ValueError) as exc:
            self._fail(info, f"is not a valid DSN plugin: {exc}", exc)
            return
        specs = self._spec_names()
        unknown = [
            name
            for name in dir(plugin)
            if self.pm.parse_hookimpl_opts(plugin, name) is not None and name not in specs
        ]
        if unknown:
            self.pm.unregister(name=info.name)
            self._fail(
                info,
                f"implements unknown hook(s) {', '.join(sorted(set(unknown)))}; "
                "check the names against dsn_core.hookspecs",
            )
            return
        info.loaded = True

    def _spec_names(self) -> set[str]:
        # pm.register() adds a spec-less caller for every unknown hookimpl name, so only
        # callers with a spec are hooks.
        return {name for name, caller in vars(self.pm.hook).items() if caller.has_spec()}

    def _fail(
        self,
        info: PluginInfo,
        message: str,
        exc: BaseException | None = None,
        *,
        disable: bool = True,
    ) -> None:
        """Record and log a plugin error; ``disable`` drops everything the plugin gave."""
        text = f"DSN plugin {info.display_name} ({info.module}) {message.rstrip('.')}. {info.hint}"
        info.errors.append(text)
        if disable:
            info.loaded = False
            for contribution in self._contributions():
                contribution.remove(lambda source: source != info.name)
            self.urls.pop(info.name, None)
            self.commands = {k: c for k, c in self.commands.items() if k not in info.commands}
            info.commands, info.provides = [], {}
            if self.pm.get_plugin(info.name) is not None:  # nor its runtime hooks
                self.pm.unregister(name=info.name)
        if exc is not None:
            logger.error("%s\n%s", text, "".join(traceback.format_exception(exc)).rstrip())
        else:
            logger.error("%s", text)

    # -- contributions -----------------------------------------------------------------

    def _contributions(self) -> list[_ContributionHook]:
        return [
            _ContributionHook(
                "dsn_register_signals", "signals", _signal_register, signal_registry.remove_sources
            ),
            _ContributionHook(
                "dsn_register_messengers",
                "messengers",
                lambda source: lambda cls: registry.messengers.register(cls, source=source),
                registry.messengers.remove_sources,
            ),
            _ContributionHook(
                "dsn_register_message_templates",
                "message templates",
                lambda source: lambda cls: registry.message_templates.register(cls, source=source),
                registry.message_templates.remove_sources,
            ),
            _ContributionHook(
                "dsn_register_recipient_resolvers",
                "recipient resolvers",
                lambda source: lambda cls: registry.resolvers.register(cls, source=source),
                registry.resolvers.remove_sources,
            ),
        ]

    def contribute(self) -> None:
        """(Re)build the registries from every registered plugin, one plugin at a time."""
        names = set(self.plugins)
        for contribution in self._contributions():
            contribution.remove(lambda source: source not in names)
        self.urls = {}
        self.commands = {}
        for info in self.plugins.values():
            info.commands, info.provides = [], {}
        for contribution in self._contributions():
            caller = getattr(self.pm.hook, contribution.hook)
            for impl in caller.get_hookimpls():  # registration order: first claim wins
                info = self.plugins[impl.plugin_name]
                if not info.loaded:
                    continue
                self._call_isolated(impl, info, contribution)
        for impl in self.pm.hook.dsn_register_urls.get_hookimpls():
            info = self.plugins[impl.plugin_name]
            if info.loaded:
                self._collect_urls(impl, info)
        for impl in self.pm.hook.dsn_register_commands.get_hookimpls():
            info = self.plugins[impl.plugin_name]
            if info.loaded:
                self._collect_commands(impl, info)

    def _call_isolated(
        self, impl: pluggy.HookImpl, info: PluginInfo, contribution: _ContributionHook
    ) -> None:
        register = contribution.register(info.name)
        provided = info.provides.setdefault(contribution.kind, [])

        def attributed(item: Any, *args: Any, **kwargs: Any) -> None:
            try:
                register(item, *args, **kwargs)
            except RegistrationError as exc:
                self._fail(info, f"made an invalid registration: {exc}", disable=False)
                return
            provided.append(item if isinstance(item, str) else getattr(item, "id", repr(item)))

        try:
            impl.function(**{name: attributed for name in impl.argnames if name == "register"})
        except Exception as exc:
            self._fail(info, f"raised in {contribution.hook}: {exc!r}", exc)
            return
        if not provided:
            info.provides.pop(contribution.kind, None)

    def _collect_urls(self, impl: pluggy.HookImpl, info: PluginInfo) -> None:
        patterns: list[URLPattern | URLResolver] = []

        def register(items: Iterable[URLPattern | URLResolver]) -> None:
            if isinstance(items, str | URLPattern | URLResolver):
                raise RegistrationError(
                    f"register() takes a list of path()/re_path() results, not {items!r}."
                )
            for item in items:
                if not isinstance(item, URLPattern | URLResolver):
                    raise RegistrationError(
                        f"register() got {item!r}; build URL patterns with django.urls.path()."
                    )
                patterns.append(item)

        try:
            impl.function(**{name: register for name in impl.argnames if name == "register"})
        except Exception as exc:
            self._fail(info, f"failed in dsn_register_urls: {exc!r}", exc)
            return
        if patterns:
            self.urls[info.name] = patterns
            info.provides["urls"] = [str(p.pattern) for p in patterns]

    def _collect_commands(self, impl: pluggy.HookImpl, info: PluginInfo) -> None:
        from .cli import Subcommand, builtin_subcommands

        taken = {command.name: "dsn-core" for command in builtin_subcommands()}
        taken.update(
            {name: other.display_name for other in self.plugins.values() for name in other.commands}
        )

        def register(command: Subcommand) -> None:
            if not isinstance(command, Subcommand):
                raise RegistrationError(
                    f"register() got {command!r}; build it with dsn_core.cli.subcommand()."
                )
            if command.name in taken:  # refuse the command, keep the plugin's channels
                self._fail(
                    info,
                    f"cannot add the subcommand 'dsn {command.name}': "
                    f"{taken[command.name]} already provides it",
                    disable=False,
                )
                return
            taken[command.name] = info.display_name
            self.commands[command.name] = command
            info.commands.append(command.name)

        try:
            impl.function(**{name: register for name in impl.argnames if name == "register"})
        except Exception as exc:
            self._fail(info, f"failed in dsn_register_commands: {exc!r}", exc)
            return
        if info.commands:
            info.provides["commands"] = list(info.commands)

    # -- runtime hooks ---------------------------------------------------------------------

    def resolve_address(self, user: Any, channel: str) -> str | None:
        """The first answer of ``dsn_resolve_address``, in pluggy's order; a plugin that
        raises is logged and passed over, so one broken plugin cannot stop every channel."""
        return self._first_answer("dsn_resolve_address", {"user": user, "channel": channel})

    def clean_address(self, channel: str, address: str) -> str:
        """``dsn_clean_address``'s answer, else ``address`` unchanged. A ValidationError
        refuses the address; any other exception is the plugin's bug: logged, ignored."""
        arguments = {"channel": channel, "address": address}
        answer = self._first_answer("dsn_clean_address", arguments, passes=ValidationError)
        return address if answer is None else answer

    def _first_answer(
        self,
        hook: str,
        arguments: dict[str, Any],
        passes: type[Exception] | tuple[type[Exception], ...] = (),
    ) -> str | None:
        """A firstresult hook called one implementation at a time, so one that raises
        (anything but ``passes``) is logged and skipped instead of failing the call."""
        for impl in reversed(getattr(self.pm.hook, hook).get_hookimpls()):
            try:
                result = impl.function(**{name: arguments[name] for name in impl.argnames})
            except passes:
                raise
            except Exception:
                logger.exception(
                    "DSN plugin %s raised in %s(channel=%r); ignored.",
                    impl.plugin_name,
                    hook,
                    arguments.get("channel"),
                )
                continue
            if result is not None:
                return str(result)
        return None

    def delivery_finished(self, delivery: Any) -> None:
        for impl in self.pm.hook.dsn_delivery_finished.get_hookimpls():
            try:
                impl.function(**{n: delivery for n in impl.argnames if n == "delivery"})
            except Exception:
                logger.exception("DSN plugin %s raised in dsn_delivery_finished.", impl.plugin_name)

    # -- test support -----------------------------------------------------------------

    def add_plugin(self, plugin: Any, name: str) -> PluginInfo:
        """Register a plugin object at run time (tests) and rebuild the registries."""
        module = getattr(plugin, "__name__", None) or type(plugin).__qualname__
        info = PluginInfo(name, module, "test")
        self._add(plugin, info)
        self.contribute()
        return info

    def remove_plugin(self, name: str) -> None:
        if self.pm.get_plugin(name) is not None:
            self.pm.unregister(name=name)
        self.plugins.pop(name, None)
        for contribution in self._contributions():  # contribute() keeps unknown sources
            contribution.remove(lambda source: source != name)
        self.contribute()

    @property
    def errors(self) -> list[str]:
        return [error for info in self.plugins.values() for error in info.errors]


def _normalize(name: str) -> str:
    """PEP 503 normalisation, so "dsn_telegram" blocks the distribution "dsn-telegram"."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


plugin_manager = DsnPluginManager()
