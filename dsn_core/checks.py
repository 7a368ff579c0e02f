"""System checks: misconfiguration is reported with an id and a hint, not a traceback.

| id | what |
|---|---|
| dsn.E001 | ``settings.DSN`` or one of its values has the wrong type |
| dsn.W001 | a plugin failed to load and was skipped |
| dsn.W002 | an unknown top-level key in ``settings.DSN`` (a typo?) |
| dsn.E006 | a message template does not compile |
| dsn.W003 | a Backend names a messenger or template that is not installed |
| dsn.E002 | ``DSN["TASK_BACKEND"]`` names no backend in ``TASKS``, or ``DSN["QUEUE"]`` is not
  one of its queues |
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Real
from typing import Any

from django.apps import AppConfig
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.db import DatabaseError

from . import registry
from .conf import DEFAULTS, NUMBERS, get_setting, unknown_settings, user_settings
from .exceptions import ConfigurationError

_LISTS = ("PLUGINS", "BLOCKED_PLUGINS", "SNAPSHOT_EXCLUDE")


@register()
def check_settings(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    try:
        user_settings()
    except ConfigurationError as exc:
        return [Error(str(exc), hint="DSN = {'PLUGINS': [...], ...}", id="dsn.E001")]
    messages: list[CheckMessage] = []
    for name in _LISTS:
        value = get_setting(name)
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            messages.append(
                Error(
                    f"DSN[{name!r}] must be a list of strings, not {value!r}.",
                    hint=f"For example DSN[{name!r}] = ['myproject.dsn_plugin'].",
                    id="dsn.E001",
                )
            )
    for name, least in NUMBERS.items():
        value = get_setting(name)
        if not isinstance(value, Real) or isinstance(value, bool) or value < least:
            messages.append(
                Error(
                    f"DSN[{name!r}] must be a number >= {least:g}, not {value!r}.",
                    hint=f"The default is {DEFAULTS[name]}.",
                    id="dsn.E001",
                )
            )
    for key in unknown_settings():
        messages.append(
            Warning(
                f"DSN[{key!r}] is not a DSN setting and is ignored.",
                hint=f"Known settings: {', '.join(sorted(DEFAULTS))}; plugin settings are dicts.",
                id="dsn.W002",
            )
        )
    return messages


@register()
def check_plugins(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    from .plugins import plugin_manager

    messages: list[CheckMessage] = [
        Warning(error, hint=info.hint, obj=info.name, id="dsn.W001")
        for info in plugin_manager.plugins.values()
        for error in info.errors
    ]
    for entry in registry.messengers:
        try:
            messages.extend(entry.cls.check())
        except Exception as exc:
            messages.append(
                Warning(f"The check of messenger {entry.id!r} raised {exc!r}.", id="dsn.W001")
            )
    return messages


@register(Tags.templates)
def check_message_templates(
    app_configs: Sequence[AppConfig] | None, **kwargs: Any
) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    for entry in registry.message_templates:
        error = entry.cls.try_compile()
        if error:
            messages.append(
                Error(
                    error,
                    hint=f"Fix the template of {entry.cls.__module__}.{entry.cls.__qualname__} "
                    f"(registered by {entry.source}).",
                    obj=entry.id,
                    id="dsn.E006",
                )
            )
    return messages


def backends_using(messenger_id: str) -> list[str]:
    """Names of the enabled Backends that use ``messenger_id`` ([] before ``migrate``).

    A channel plugin's ``check()`` reports a missing credential as an Error only when a
    Backend uses the messenger: installing a plugin must not stop ``migrate`` or a site
    that has not configured it yet.
    """
    from .models import Backend

    try:
        rows = Backend.objects.filter(messenger=messenger_id, enabled=True).order_by("pk")
        return [name or f"#{pk}" for pk, name in rows.values_list("pk", "name")]
    except DatabaseError:
        return []


@register()
def check_backends(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[CheckMessage]:
    from .models import Backend

    try:
        rows = list(Backend.objects.values_list("pk", "name", "messenger", "message_template"))
    except DatabaseError:
        return []  # not migrated yet: nothing to check
    messages: list[CheckMessage] = []
    for pk, name, messenger, template in rows:
        label = name or f"#{pk}"
        for kind, key, known in (
            ("messenger", messenger, registry.messengers),
            ("message template", template, registry.message_templates),
        ):
            if key not in known:
                messages.append(
                    Warning(
                        f"Backend {label} uses {kind} {key!r}, which no loaded plugin provides; "
                        "its notifications are not sent.",
                        hint="Install the plugin that provides it (see 'manage.py dsn plugins'), "
                        "or change or disable the backend in the admin.",
                        obj=f"Backend {label}",
                        id="dsn.W003",
                    )
                )
    return messages


@register()
def check_task_backend(
    app_configs: Sequence[AppConfig] | None, **kwargs: Any
) -> list[CheckMessage]:
    from .tasks import task_backends

    try:
        alias, queue = get_setting("TASK_BACKEND"), get_setting("QUEUE")
    except ConfigurationError:
        return []  # reported by check_settings
    try:
        backend = task_backends[alias]
    except Exception as exc:  # InvalidTaskBackend(Error) in both stacks, or an import error
        return [
            Error(
                f"DSN['TASK_BACKEND'] is {alias!r}, which is not a usable TASKS backend: {exc}",
                hint="Name an alias of settings.TASKS, e.g. 'default'; DSN delivers through it.",
                id="dsn.E002",
            )
        ]
    queues = getattr(backend, "queues", None)
    if queues and queue not in queues:
        return [
            Error(
                f"DSN['QUEUE'] is {queue!r}, but TASKS[{alias!r}] only accepts the queues "
                f"{sorted(queues)}.",
                hint=f"Add {queue!r} to TASKS[{alias!r}]['QUEUES'] or set DSN['QUEUE'].",
                id="dsn.E002",
            )
        ]
    return []
