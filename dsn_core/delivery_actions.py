"""Operations on deliveries chosen by a person: retry now, cancel.

Behind the admin's actions, and small enough for a management command to reuse. Both
change rows with one conditional ``UPDATE`` that stamps them with a fresh token in
``claim``, as :func:`dsn_core.sending.claim` does, then read back exactly the rows that
carry it: a worker claiming at the same moment takes only rows still pending, and no
row is counted, enqueued or reported twice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import partial

from django.db import transaction
from django.db.models import Case, Count, F, Q, QuerySet, TextField, Value, When
from django.db.models.functions import Concat
from django.utils import timezone

from . import registry
from .models import Delivery, DeliveryStatus
from .tasks import enqueue_groups

#: What "retry now" takes; a sending delivery has a worker on it, a sent one went.
RETRYABLE = (DeliveryStatus.PENDING, DeliveryStatus.FAILED, DeliveryStatus.SKIPPED)


@dataclass(frozen=True)
class RetryReport:
    retried: int  # pending again, due now
    tasks: int  # tasks enqueued after commit, one per event+backend
    in_progress_or_sent: int  # sending or sent: left alone
    backend_deleted: int  # refused: nothing left to send them through
    no_address: int  # refused: skipped for want of an address, and still without one


def retry_now(queryset: QuerySet[Delivery], by: str = "") -> RetryReport:
    """Make the failed, pending and skipped deliveries of ``queryset`` due now and enqueue
    one task per event+backend once the transaction commits.

    Attempts are kept, as a record of what was tried: a delivery out of attempts gets
    one more, and fails at once if that one fails too. The last error stays, after a
    note, until the next outcome replaces it.
    """
    now = timezone.now()
    left = queryset.aggregate(
        in_progress_or_sent=Count("pk", filter=~Q(status__in=RETRYABLE)),
        backend_deleted=Count("pk", filter=Q(status__in=RETRYABLE, backend__isnull=True)),
    )
    candidates = queryset.filter(status__in=RETRYABLE, backend__isnull=False)
    unreachable = _address_missing_ones(candidates)
    note = f"retry requested by {by}" if by else "retry requested"
    token = uuid.uuid4()
    retried = (
        candidates.exclude(pk__in=unreachable)
        .order_by()
        .update(
            status=DeliveryStatus.PENDING,
            next_attempt_at=now,
            claim=token,
            claimed_at=None,
            finished=None,
            last_error=Case(
                When(last_error="", then=Value(note)),
                default=Concat(Value(f"{note}; last error: "), F("last_error")),
                output_field=TextField(),
            ),
        )
    )
    stamped = Delivery.objects.using(queryset.db).filter(claim=token)
    groups = sorted(set(stamped.values_list("event_id", "backend_id")))
    stamped.update(claim=None)
    transaction.on_commit(partial(enqueue_groups, groups), using=queryset.db)
    return RetryReport(
        retried=retried,
        tasks=len(groups),
        in_progress_or_sent=left["in_progress_or_sent"],
        backend_deleted=left["backend_deleted"],
        no_address=len(unreachable),
    )


def _address_missing_ones(candidates: QuerySet[Delivery]) -> list[int]:
    """Give an address to skipped deliveries recorded without one (the recipient had none,
    or the messenger was not installed); return the ids of those that still have none."""
    from .recipients import address_of

    unreachable: list[int] = []
    found: list[Delivery] = []
    rows = candidates.filter(
        status=DeliveryStatus.SKIPPED, address="", user__isnull=False
    ).select_related("backend", "user")
    for delivery in rows:
        assert delivery.backend is not None  # candidates have a backend
        messenger = registry.messengers.get(delivery.backend.messenger)
        if messenger is not None and messenger.broadcast:
            continue
        address = None if messenger is None else address_of(delivery.user, messenger.channel)
        if address:
            delivery.address = address
            found.append(delivery)
        else:
            unreachable.append(delivery.pk)
    Delivery.objects.using(candidates.db).bulk_update(found, ["address"])
    return unreachable


def cancel(queryset: QuerySet[Delivery], by: str) -> int:
    """Skip the pending deliveries of ``queryset`` ("cancelled by <by>"); leave the others.

    Each cancelled delivery is final: ``dsn_delivery_finished`` is called for it.
    """
    from .plugins import plugin_manager

    token = uuid.uuid4()
    count = (
        queryset.filter(status=DeliveryStatus.PENDING)
        .order_by()
        .update(
            status=DeliveryStatus.SKIPPED,
            last_error=f"cancelled by {by}",
            finished=timezone.now(),
            claim=token,
        )
    )
    stamped = Delivery.objects.using(queryset.db).filter(claim=token)
    cancelled = list(stamped.select_related("user", "backend", "event"))
    stamped.update(claim=None)
    for delivery in cancelled:
        delivery.claim = None

    def report() -> None:  # once the cancellation is committed, not if it rolls back
        for delivery in cancelled:
            plugin_manager.delivery_finished(delivery)

    transaction.on_commit(report, using=queryset.db)
    return count
