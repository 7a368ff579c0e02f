"""One receiver per registered signal: match in memory, then schedule work after commit.

This runs inside every ``save()`` of the site. The common case (no trigger for this
verb and model) returns after a clock read and two dict lookups. Errors past that point
are logged, never raised into the caller, unless ``DSN["STRICT"]`` is set.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.db import DEFAULT_DB_ALIAS, models, transaction

from .conf import get_setting
from .matching import ObjectRef, holder

if TYPE_CHECKING:
    from .signals import SignalSpec

logger = logging.getLogger(__name__)


def _dispatch_uid(spec: SignalSpec) -> str:
    return f"dsn_core:{spec.name}"


def connect(spec: SignalSpec) -> None:
    spec.signal.connect(_make_receiver(spec.name), weak=False, dispatch_uid=_dispatch_uid(spec))


def disconnect(spec: SignalSpec) -> None:
    spec.signal.disconnect(dispatch_uid=_dispatch_uid(spec))


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
        from .events import Event

        event = Event.from_signal(verb, sender, action_object, kwargs, trigger_ids)
        schedule(event, using=kwargs.get("using") or DEFAULT_DB_ALIAS)
    except Exception:
        if get_setting("STRICT"):
            raise
        logger.exception("DSN failed to handle signal %r from %r; nothing was sent.", verb, sender)


def schedule(event: Any, *, using: str) -> None:
    """Deliver after the surrounding transaction commits; a rollback sends nothing."""
    from .delivery import deliver_event

    # robust: an error after commit must not reach the code that committed, unless the
    # site asked for strict mode.
    robust = not get_setting("STRICT")
    transaction.on_commit(functools.partial(deliver_event, event), using=using, robust=robust)
