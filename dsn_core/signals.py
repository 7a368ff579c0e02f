"""The signal registry: which signals triggers may name as their verb, and what they send.

Django removed ``providing_args``, so DSN keeps each signal's argument names itself to
check templates against triggers. Registering a signal connects one DSN receiver to it.

This module also defines the Django signals DSN sends to the host project.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from django.contrib.auth import signals as auth_signals
from django.core import signals as request_signals
from django.db.models import signals as model_signals
from django.dispatch import Signal

from .exceptions import RegistrationError, UnknownSignal

#: Sent before a messenger is called with a batch: ``sender`` is the messenger class,
#: ``backend`` the Backend row, ``messages`` the outgoing messages.
pre_send = Signal()
#: Sent after a batch: as ``pre_send`` plus ``outcomes``, one per message.
post_send = Signal()


@dataclass(frozen=True)
class SignalSpec:
    name: str
    signal: Signal
    args: tuple[str, ...]
    description: str
    requires_action_object: bool
    source: str
    #: Django sends it with the action object's model class as ``sender`` (pre/post save
    #: and delete): DSN then connects one receiver per watched model, so saving any
    #: other model costs nothing at all.
    sender_is_action_model: bool = False


class SignalRegistry:
    def __init__(self) -> None:
        self._by_name: dict[str, SignalSpec] = {}

    def register(
        self,
        name: str,
        signal: Signal,
        args: Iterable[str] = (),
        *,
        description: str = "",
        requires_action_object: bool = False,
        sender_is_action_model: bool = False,
        source: str = "project",
    ) -> SignalSpec:
        from .receivers import connect

        if not isinstance(signal, Signal):
            raise RegistrationError(f"{source} registered {name!r} with {signal!r}, not a Signal.")
        if not name or not name.isidentifier():
            raise RegistrationError(f"{source} registered a signal with invalid name {name!r}.")
        spec = SignalSpec(
            name,
            signal,
            tuple(args),
            description,
            requires_action_object,
            source,
            sender_is_action_model,
        )
        existing = self._by_name.get(name)
        if existing is not None:
            if existing.signal is signal:
                return existing
            raise RegistrationError(
                f"Two signals are registered under the verb {name!r}: one by {existing.source} "
                f"and one by {source}. Verbs must be unique; register one under another name."
            )
        for other in self._by_name.values():
            if other.signal is signal:
                raise RegistrationError(
                    f"{source} registered the signal already registered as {other.name!r} "
                    f"(by {other.source}) again as {name!r}; one verb per signal."
                )
        self._by_name[name] = spec
        connect(spec)
        return spec

    def get(self, name: str) -> SignalSpec:
        try:
            return self._by_name[name]
        except KeyError:
            known = ", ".join(sorted(self._by_name)) or "none"
            raise UnknownSignal(
                f"No signal is registered under the verb {name!r}. Registered verbs: {known}. "
                "Register custom signals with Trigger.registered_verb_signal() in "
                "AppConfig.ready() or the dsn_register_signals hook."
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __iter__(self) -> Iterator[SignalSpec]:
        return iter(sorted(self._by_name.values(), key=lambda spec: spec.name))

    def choices(self) -> list[tuple[str, str]]:
        return [
            (spec.name, f"{spec.name} ({', '.join(spec.args) or 'no arguments'})") for spec in self
        ]

    def remove_sources(self, keep: Callable[[str], bool]) -> None:
        from .receivers import disconnect

        for name, spec in list(self._by_name.items()):
            if not keep(spec.source):
                disconnect(spec)
                del self._by_name[name]


registry = SignalRegistry()

#: (name, signal, args, requires_action_object). m2m_changed's sender is the through
#: model, so it is not in PER_MODEL_SIGNALS. pre_init/post_init fire for every row the ORM
#: loads: like the other model signals they get receivers only on watched models.
DEFAULT_SIGNALS: tuple[tuple[str, Signal, tuple[str, ...], bool], ...] = (
    ("pre_init", model_signals.pre_init, ("args", "kwargs"), True),
    ("post_init", model_signals.post_init, ("instance",), True),
    ("pre_save", model_signals.pre_save, ("instance", "raw", "using", "update_fields"), True),
    (
        "post_save",
        model_signals.post_save,
        ("instance", "created", "raw", "using", "update_fields"),
        True,
    ),
    ("pre_delete", model_signals.pre_delete, ("instance", "using", "origin"), True),
    ("post_delete", model_signals.post_delete, ("instance", "using", "origin"), True),
    (
        "m2m_changed",
        model_signals.m2m_changed,
        ("action", "instance", "reverse", "model", "pk_set", "using"),
        True,
    ),
    ("user_logged_in", auth_signals.user_logged_in, ("request", "user"), False),
    ("user_logged_out", auth_signals.user_logged_out, ("request", "user"), False),
    ("user_login_failed", auth_signals.user_login_failed, ("credentials", "request"), False),
    ("request_started", request_signals.request_started, ("environ", "scope"), False),
    ("request_finished", request_signals.request_finished, (), False),
    ("got_request_exception", request_signals.got_request_exception, ("request",), False),
)
PER_MODEL_SIGNALS = frozenset(
    {"pre_init", "post_init", "pre_save", "post_save", "pre_delete", "post_delete"}
)
