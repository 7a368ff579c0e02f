"""DSN's receivers: match in memory, then schedule work after commit.

This runs inside every ``save()`` of the site, so it is built to cost nothing where no
trigger can match. Django's model signals (``sender_is_action_model`` specs) get one
receiver per model that a trigger watches, connected with ``sender=`` that model: saving
any other model never enters DSN. Other signals get one receiver for every sender. The
connections follow the trigger index each time it changes; the heartbeat
(:mod:`dsn_core.heartbeat`) keeps the index fresh in processes that save only unwatched
models. Errors past matching are logged, never raised into the caller, unless
``DSN["STRICT"]`` is set.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.db import models, router, transaction

from .conf import get_setting
from .events import SignalEvent
from .heartbeat import heartbeat
from .matching import ObjectRef, TriggerIndex, holder, model_labels

if TYPE_CHECKING:
    from .signals import SignalSpec

logger = logging.getLogger(__name__)


def _dispatch_uid(spec: SignalSpec, model: type[models.Model] | None = None) -> str:
    return f"dsn_core:{spec.name}" + (f":{model._meta.label_lower}" if model else "")


class ModelReceivers:
    """The per-model receivers of ``sender_is_action_model`` signals, kept in step with
    the trigger index."""

    def __init__(self) -> None:
        self.connected: dict[str, dict[str, Any]] = {}  # verb -> {dispatch uid: sender}
        self._synced: TriggerIndex | None = None

    def sync(self, spec: SignalSpec, index: TriggerIndex) -> None:
        """Connect ``spec``'s receiver to exactly the models its triggers watch."""
        labels = index.action_labels(spec.name)
        wanted: dict[str, Any] = {}
        if None in labels:  # a trigger on any object (made in code): every sender
            wanted[_dispatch_uid(spec)] = None
        elif labels:
            for model in apps.get_models(include_auto_created=True):
                if not labels.isdisjoint(model_labels(model)):
                    wanted[_dispatch_uid(spec, model)] = model
        connected = self.connected.setdefault(spec.name, {})
        for uid, sender in list(connected.items()):
            if uid not in wanted:
                spec.signal.disconnect(sender=sender, dispatch_uid=uid)
                del connected[uid]
        for uid, sender in wanted.items():
            if uid not in connected:
                receiver = _make_receiver(spec.name)
                spec.signal.connect(receiver, sender=sender, weak=False, dispatch_uid=uid)
                connected[uid] = sender

    def drop(self, spec: SignalSpec) -> None:
        for uid, sender in self.connected.pop(spec.name, {}).items():
            spec.signal.disconnect(sender=sender, dispatch_uid=uid)

    def after_refresh(self, index: TriggerIndex, delay: float) -> None:
        from .signals import registry

        if index is self._synced:
            return
        self._synced = index
        for spec in registry:
            if spec.sender_is_action_model:
                self.sync(spec, index)


model_receivers = ModelReceivers()
holder.listeners.append(model_receivers.after_refresh)


def connect(spec: SignalSpec) -> None:
    if spec.sender_is_action_model:
        heartbeat.watch(spec.name, spec.signal)
        model_receivers.sync(spec, holder.index)
    else:
        receiver = _make_receiver(spec.name)
        spec.signal.connect(receiver, weak=False, dispatch_uid=_dispatch_uid(spec))


def disconnect(spec: SignalSpec) -> None:
    spec.signal.disconnect(dispatch_uid=_dispatch_uid(spec))
    model_receivers.drop(spec)
    heartbeat.unwatch(spec.name)


def _make_receiver(verb: str) -> Callable[..., None]:
    current = holder.current

    def dsn_receiver(sender: Any, **kwargs: Any) -> None:
        index = current()
        if verb in index.verbs:
            on_signal(verb, sender, kwargs)

    dsn_receiver.__qualname__ = f"dsn_receiver[{verb}]"
    return dsn_receiver


def action_object_of(sender: Any, kwargs: dict[str, Any]) -> Any:
    """The seed's rule: the ``instance`` argument if it is a model instance, else ``sender``."""
    instance = kwargs.get("instance")
    return instance if isinstance(instance, models.Model) else sender


def on_signal(verb: str, sender: Any, kwargs: dict[str, Any]) -> None:
    try:
        action_object = action_object_of(sender, kwargs)
        action = ObjectRef.of(action_object)
        index = holder.index
        if not index.candidates(verb, action):
            return
        actor_object = kwargs.get("actor_object")
        trigger_ids = index.match(verb, action, ObjectRef.of(actor_object), kwargs.get("target"))
        if not trigger_ids:
            return
        event = SignalEvent.from_signal(verb, sender, action_object, kwargs, trigger_ids)
        schedule(event)
    except Exception:
        if get_setting("STRICT"):
            raise
        logger.exception("DSN failed to handle signal %r from %r; nothing was sent.", verb, sender)


def schedule(event: SignalEvent) -> None:
    """Write the outbox in the sender's transaction; enqueue its work after commit.

    A savepoint keeps a failure here from breaking the sender's transaction (on
    PostgreSQL an error inside a transaction aborts it), and leaves no partial rows.
    A rolled-back transaction takes the rows with it, and on_commit never fires.
    """
    from .models import Delivery
    from .outbox import after_commit, record

    alias = router.db_for_write(Delivery)
    with transaction.atomic(using=alias):
        recorded = record(event)
    if recorded.event_id is None:
        return
    # robust: an error after commit must not reach the code that committed, unless the
    # site asked for strict mode.
    robust = not get_setting("STRICT")
    transaction.on_commit(functools.partial(after_commit, recorded), using=alias, robust=robust)
