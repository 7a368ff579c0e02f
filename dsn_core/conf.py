"""The ``DSN`` settings dict, with defaults, read fresh so tests can override it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings

from .exceptions import ConfigurationError

DEFAULTS: Mapping[str, Any] = {
    # Load plugins advertised in the "dsn" entry-point group of installed distributions.
    "LOAD_ENTRY_POINTS": True,
    # Extra plugin modules by dotted path, for plugins kept inside the project.
    "PLUGINS": [],
    # Entry-point names, distribution names or module paths never to load.
    "BLOCKED_PLUGINS": [],
    # Seconds a process may serve a stale trigger index after another process changed
    # the configuration. Each process checks the configuration version at most this often.
    "REFRESH_INTERVAL": 5.0,
    # Re-raise matching and delivery errors instead of logging them (development, tests).
    "STRICT": False,
    # Where the console messenger writes: "stdout", "stderr" or a logger name.
    "CONSOLE_STREAM": "stdout",
    # Delivery (the outbox). The TASKS backend alias and queue DSN's tasks go to.
    "TASK_BACKEND": "default",
    "QUEUE": "default",
    # Attempts per delivery, counting the first; transient failures retry until then.
    "MAX_ATTEMPTS": 5,
    # Backoff before retry n: min(RETRY_MAX, RETRY_BASE * 2**(n-1)), with full jitter
    # on the upper half; a provider's retry-after wins when longer.
    "RETRY_BASE": 30.0,
    "RETRY_MAX": 3600.0,
    # Deliveries one messenger call gets at most (a messenger's max_batch_size may be lower).
    "BATCH_SIZE": 500,
    # A delivery "sending" for longer than this was lost with its worker: `dsn requeue`
    # puts it back. Longer than any provider call, timeouts included.
    "CLAIM_TIMEOUT": 600.0,
    # A pending delivery due for longer than this has no task left to run it (a crash
    # between commit and enqueue, or a backend that cannot defer): `dsn requeue` enqueues.
    "REQUEUE_AFTER": 60.0,
    # One task stops claiming after this many seconds and enqueues the rest of its event,
    # so no task outlives a queue's job timeout (RQ's default is 180 s). Backends that run
    # tasks in place (ImmediateBackend) are not split.
    "TASK_TIME_LIMIT": 120.0,
    # Model fields never copied into an event's snapshot (nor shown in the admin), on top
    # of "password".
    "SNAPSHOT_EXCLUDE": [],
}

_KNOWN = frozenset(DEFAULTS)


def user_settings() -> Mapping[str, Any]:
    value = getattr(settings, "DSN", {})
    if not isinstance(value, Mapping):
        raise ConfigurationError(f"settings.DSN must be a dict, not {type(value).__name__}.")
    return value


def get_setting(name: str) -> Any:
    """Return ``settings.DSN[name]`` or its documented default."""
    if name not in _KNOWN:
        raise KeyError(f"{name!r} is not a DSN setting")
    return user_settings().get(name, DEFAULTS[name])


def get_names_setting(name: str) -> list[str]:
    """A list-of-strings setting, or ``[]`` when it has another shape (dsn.E001 says so):
    a wrong setting must not stop Django from starting."""
    try:
        value = get_setting(name)
    except ConfigurationError:
        return []
    if isinstance(value, list | tuple) and all(isinstance(item, str) for item in value):
        return list(value)
    return []


def get_number_setting(name: str) -> float:
    """A number of seconds, or its default when the setting is not one (dsn.E001 says so)."""
    try:
        value = get_setting(name)
        if isinstance(value, bool):
            raise TypeError(name)
        number = float(value)
    except (ConfigurationError, TypeError, ValueError):
        return float(DEFAULTS[name])
    return number if number >= NUMBERS.get(name, 0) else float(DEFAULTS[name])


def strict() -> bool:
    try:
        return bool(get_setting("STRICT"))
    except ConfigurationError:
        return False


#: Settings that are numbers (seconds or counts), with the smallest value that makes sense.
NUMBERS: Mapping[str, float] = {
    "REFRESH_INTERVAL": 0,
    "MAX_ATTEMPTS": 1,
    "RETRY_BASE": 0,
    "RETRY_MAX": 0,
    "BATCH_SIZE": 1,
    "CLAIM_TIMEOUT": 0,
    "REQUEUE_AFTER": 0,
    "TASK_TIME_LIMIT": 0,
}


def get_plugin_setting(plugin_key: str, name: str, default: Any = None) -> Any:
    """Return ``settings.DSN[plugin_key][name]``: per-plugin settings live under one key.

    Secrets belong here (read from the environment in settings.py), never in the
    database, so a plugin never has to store credentials on a Backend row.
    """
    section = user_settings().get(plugin_key, {})
    if not isinstance(section, Mapping):
        raise ConfigurationError(
            f"settings.DSN[{plugin_key!r}] must be a dict, not {type(section).__name__}."
        )
    return section.get(name, default)


def unknown_settings() -> list[str]:
    """Top-level keys that are neither core settings nor a plugin's section (a dict)."""
    return sorted(
        key
        for key, value in user_settings().items()
        if key not in _KNOWN and not isinstance(value, Mapping)
    )
