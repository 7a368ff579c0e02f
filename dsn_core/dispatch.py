"""What happens when a watched signal fires: match in memory, then write the outbox.

Errors are logged, never raised into the code that sent the signal, unless
``DSN["STRICT"]`` is set. Where the receivers sit is :mod:`dsn_core.receivers`' job.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from django.db import models, router, transaction

from .conf import strict
from .events import SignalEvent
from .matching import ObjectRef, holder

logger = logging.getLogger(__name__)


def action_object_of(sender: Any, kwargs: dict[str, Any]) -> Any:
    """The seed's rule: the ``instance`` argument if it is a model instance, else ``sender``."""
    instance = kwargs.get("instance")
    return instance if isinstance(instance, models.Model) else sender


def on_signal(verb: str, sender: Any, kwargs: dict[str, Any]) -> None:
    if kwargs.get("raw"):
        return  # loaddata: fixtures are not events
    deferred = getattr(kwargs.get("instance"), "__dict__", {}).get(_DEFERRED)
    if deferred:
        deferred.pop(verb, None)  # this save supersedes what a failed one deferred
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
        if strict():
            raise
        logger.exception("DSN failed to handle signal %r from %r; nothing was sent.", verb, sender)


def schedule(event: SignalEvent, *, defer: bool = True) -> None:
    """Write the outbox in the sender's transaction; enqueue its work after commit.

    A savepoint keeps a failure here from breaking the sender's transaction (on
    PostgreSQL an error inside a transaction aborts it), and leaves no partial rows.
    A rolled-back transaction takes the rows with it, and on_commit never fires.

    Outside a transaction on_commit runs at once, and a ``pre_save`` would notify before
    the INSERT that may still fail: such an event waits on the instance for its
    ``post_save`` (``pre_delete``: ``post_delete``), and a failed write drops it.
    """
    from .models import Delivery
    from .outbox import after_commit, record

    if defer and _defer_until_written(event):
        return
    alias = router.db_for_write(Delivery)
    with transaction.atomic(using=alias):
        recorded = record(event)
    if recorded.event_id is None:
        return
    # robust: an error after commit must not reach the code that committed, unless the
    # site asked for strict mode.
    robust = not strict()
    transaction.on_commit(functools.partial(after_commit, recorded), using=alias, robust=robust)


_DEFERRED = "_dsn_deferred_events"


def _defer_until_written(event: SignalEvent) -> bool:
    from .receivers import COMPLETED_BY

    instance = event.signal_kwargs.get("instance")
    if event.verb not in COMPLETED_BY or not isinstance(instance, models.Model):
        return False
    using = event.signal_kwargs.get("using") or router.db_for_write(type(instance))
    if transaction.get_connection(using).in_atomic_block:
        return False  # on_commit already waits, and a failed write rolls the rows back
    # One pending event per verb: a retried save replaces the one whose write failed.
    instance.__dict__.setdefault(_DEFERRED, {})[event.verb] = event
    return True


def flush_deferred(instance: Any) -> None:
    """The write happened: record what its ``pre_*`` signal matched."""
    events = instance.__dict__.pop(_DEFERRED, None) if instance is not None else None
    for event in (events or {}).values():
        try:
            schedule(event, defer=False)
        except Exception:
            if strict():
                raise
            logger.exception(
                "DSN failed to record %r for %r; nothing was sent.", event.verb, instance
            )
