"""Where DSN's receivers are connected, kept in step with the trigger index.

This decides what every ``save()`` of the site costs. Django's model signals
(``sender_is_action_model`` specs) get one receiver per model that a trigger watches
(its proxies included), connected with ``sender=`` that model: saving any other model
never enters DSN. Other signals get one receiver for every sender. The heartbeat
(:mod:`dsn_core.heartbeat`) keeps the index fresh in processes that save only
unwatched models.

A ``pre_save``/``pre_delete`` event outside a transaction waits for its ``post_*``
signal (see :func:`dsn_core.dispatch.schedule`), so those models also get a "flush"
receiver on the completing signal.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.db import models
from django.db.models import signals as model_signals
from django.dispatch import Signal

from .heartbeat import heartbeat
from .matching import TriggerIndex, holder, model_labels

if TYPE_CHECKING:
    from .signals import SignalSpec

#: Signals that fire before the write, with the signal that says the write happened.
COMPLETED_BY: dict[str, Signal] = {
    "pre_save": model_signals.post_save,
    "pre_delete": model_signals.post_delete,
}
#: Model signals the heartbeat never rides: they fire for every row a query loads, and a
#: version check in the middle of iterating a queryset is not wanted.
NO_HEARTBEAT = frozenset({"pre_init", "post_init"})


def _uid(kind: str, name: str, model: type[models.Model] | None = None) -> str:
    return f"dsn_core:{kind}{name}" + (f":{model._meta.label_lower}" if model else "")


def make_receiver(verb: str) -> Callable[..., None]:
    from .dispatch import on_signal

    current = holder.current

    def dsn_receiver(sender: Any, **kwargs: Any) -> None:
        index = current()
        if verb in index.verbs:
            on_signal(verb, sender, kwargs)

    dsn_receiver.__qualname__ = f"dsn_receiver[{verb}]"
    return dsn_receiver


class ModelReceivers:
    """The per-model receivers of ``sender_is_action_model`` signals."""

    def __init__(self) -> None:
        # (signal, kind + verb) -> {dispatch uid: sender}
        self.connected: dict[tuple[Signal, str], dict[str, Any]] = {}
        self._synced: TriggerIndex | None = None
        self._lock = threading.RLock()  # any thread's save may refresh the index

    def sync(self, spec: SignalSpec, index: TriggerIndex) -> None:
        """Connect ``spec``'s receiver to exactly the models its triggers watch."""
        labels = index.action_labels(spec.name)
        wanted: dict[str, Any] = {}
        if None in labels:  # a trigger on any object (made in code): every sender
            wanted[_uid("", spec.name)] = None
        elif labels:
            for model in apps.get_models(include_auto_created=True):
                if not labels.isdisjoint(model_labels(model)):
                    wanted[_uid("", spec.name, model)] = model
        with self._lock:
            self._apply(spec.signal, spec.name, wanted, lambda: make_receiver(spec.name))
            completing = COMPLETED_BY.get(spec.name)
            if completing is not None:
                flushes = {
                    uid.replace("dsn_core:", "dsn_core:flush-", 1): s for uid, s in wanted.items()
                }
                self._apply(completing, f"flush-{spec.name}", flushes, lambda: _flush)

    def _apply(
        self,
        signal: Signal,
        key: str,
        wanted: dict[str, Any],
        receiver: Callable[[], Callable[..., None]],
    ) -> None:
        connected = self.connected.setdefault((signal, key), {})
        for uid, sender in list(connected.items()):
            if uid not in wanted:
                signal.disconnect(sender=sender, dispatch_uid=uid)
                del connected[uid]
        for uid, sender in wanted.items():
            if uid not in connected:
                signal.connect(receiver(), sender=sender, weak=False, dispatch_uid=uid)
                connected[uid] = sender

    def drop(self, spec: SignalSpec) -> None:
        with self._lock:
            for (signal, key), senders in list(self.connected.items()):
                if key in {spec.name, f"flush-{spec.name}"}:
                    for uid, sender in senders.items():
                        signal.disconnect(sender=sender, dispatch_uid=uid)
                    del self.connected[(signal, key)]

    def after_refresh(self, index: TriggerIndex, delay: float) -> None:
        from .signals import registry

        # Check, record and apply under one lock: two threads refreshing at once must not
        # leave the receivers of one index behind the record of another.
        with self._lock:
            if index is self._synced:
                return
            self._synced = index
            for spec in registry:
                if spec.sender_is_action_model:
                    self.sync(spec, index)


def _flush(sender: Any, instance: Any = None, **kwargs: Any) -> None:
    from .dispatch import flush_deferred

    flush_deferred(instance)


model_receivers = ModelReceivers()
holder.listeners.append(model_receivers.after_refresh)


def connect(spec: SignalSpec) -> None:
    if spec.sender_is_action_model:
        if spec.name not in NO_HEARTBEAT:
            heartbeat.watch(spec.name, spec.signal)
        model_receivers.sync(spec, holder.index)
    else:
        spec.signal.connect(make_receiver(spec.name), weak=False, dispatch_uid=_uid("", spec.name))


def disconnect(spec: SignalSpec) -> None:
    spec.signal.disconnect(dispatch_uid=_uid("", spec.name))
    model_receivers.drop(spec)
    heartbeat.unwatch(spec.name)
