"""Writing the outbox when a signal matches, and handing it to the task queue on commit.

``record`` runs inside the sender's transaction and writes one Event and one Delivery
per (recipient, backend) with a number of queries that does not grow with the number of
recipients (one bulk insert; Django splits it at the database's parameter limit: every
66 rows on SQLite under Django 5.2, about 16,000 under Django 6). ``after_commit``
enqueues one task per (event, backend).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from django.db import models, router
from django.utils import timezone

from . import registry, snapshot
from .events import SignalEvent
from .models import Delivery, DeliveryStatus, Event, content_type_for
from .recipients import (
    address_of,
    needs_contact_points,
    plan,
    prefetch_contact_points,
    skip_reason,
)

logger = logging.getLogger(__name__)


@dataclass
class Recorded:
    """What :func:`record` wrote: the groups to enqueue and the deliveries already final."""

    event_id: int | None = None
    groups: list[int] = field(default_factory=list)  # backend ids with pending deliveries
    skipped: list[Delivery] = field(default_factory=list)


def _object_fields(prefix: str, obj: Any) -> dict[str, Any]:
    """Content type, id and text of an action or actor object, for the activity list."""
    if isinstance(obj, models.Model) or (isinstance(obj, type) and issubclass(obj, models.Model)):
        content_type, object_id = content_type_for(obj)
        text = str(obj) if isinstance(obj, models.Model) else obj.__name__
        return {
            f"{prefix}_content_type": content_type,
            f"{prefix}_id": object_id,
            f"{prefix}_repr": text[:255],
        }
    return {f"{prefix}_repr": "" if obj is None else str(obj)[:255]}


def record(event: SignalEvent) -> Recorded:
    now = timezone.now()
    rows = [row for backend, users in plan(event) for row in _deliveries(backend, users, now)]
    if not rows:
        return Recorded()  # nobody to notify: no activity record either
    db_event = Event.objects.create(
        verb=event.verb,
        target="" if event.target is None else str(event.target)[:255],
        trigger_ids=list(event.trigger_ids),
        context={
            "trigger": snapshot.dump(event.trigger_context),
            "signal": snapshot.dump(event.signal_kwargs),
        },
        **_object_fields("action_object", event.action_object),
        **_object_fields("actor_object", event.actor_object),
    )
    for row in rows:
        row.event = db_event
    # bulk_create splits at the database's parameter limit by itself.
    Delivery.objects.using(router.db_for_write(Delivery)).bulk_create(rows)
    pending = {row.backend_id for row in rows if row.status == DeliveryStatus.PENDING}
    skipped = [row for row in rows if row.status == DeliveryStatus.SKIPPED]
    return Recorded(db_event.pk, sorted(pk for pk in pending if pk is not None), skipped)


def _deliveries(backend: Any, users: list[Any], now: Any) -> list[Delivery]:
    def row(user: Any, address: str | None, skip: str = "") -> Delivery:
        return Delivery(
            backend=backend,
            messenger=backend.messenger,
            user=user,
            address=address or "",
            status=DeliveryStatus.SKIPPED if skip else DeliveryStatus.PENDING,
            last_error=skip,
            next_attempt_at=now,
            created=now,
            finished=now if skip else None,
        )

    messenger = registry.messengers.get(backend.messenger)
    if messenger is None:
        reason = f"messenger {backend.messenger!r} is not installed"
        return [row(user, None, reason) for user in users] or [row(None, None, reason)]
    if messenger.broadcast:
        return [row(None, None)]
    if needs_contact_points(messenger.channel):
        prefetch_contact_points(users, messenger.channel)
    rows = []
    for user in users:
        address = address_of(user, messenger.channel)
        rows.append(row(user, address, skip_reason(user, messenger.channel, address)))
    return rows


def after_commit(recorded: Recorded) -> None:
    """Report deliveries skipped at once, and enqueue the rest (one task per backend)."""
    from .plugins import plugin_manager
    from .tasks import enqueue_groups

    for delivery in recorded.skipped:
        logger.info("DSN skipped delivery %s: %s", delivery.pk, delivery.last_error)
        plugin_manager.delivery_finished(delivery)
    if recorded.event_id is not None:
        enqueue_groups((recorded.event_id, backend_id) for backend_id in recorded.groups)
