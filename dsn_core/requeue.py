"""Recovery of deliveries a crash left behind; safe to run from cron at any time.

Django's task backends neither retry nor notice a worker that died: its task stays
"running" forever. The outbox knows better. ``requeue()`` releases deliveries claimed
("sending") for longer than ``DSN["CLAIM_TIMEOUT"]``, fails those out of attempts and
those whose backend was deleted, and enqueues a task for every event+backend with a
delivery due but no task (a crash between commit and enqueue, a broker outage, or a
task backend that cannot defer retries). Claims make duplicates harmless: running it
twice, or while workers run, never sends a delivery twice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import CharField, TextField, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from .conf import get_number_setting
from .models import Delivery, DeliveryStatus

LOST = "its worker was lost while sending; the provider may have received it"


@dataclass(frozen=True)
class RequeueReport:
    released: int  # claims given up by a lost worker, pending again
    failed: int  # lost with no attempt left, or their backend deleted
    enqueued: int  # tasks enqueued, one per event+backend


def requeue() -> RequeueReport:
    from .plugins import plugin_manager
    from .tasks import can_defer, enqueue_groups

    now = timezone.now()
    max_attempts = int(get_number_setting("MAX_ATTEMPTS"))
    lost = Delivery.objects.filter(
        status=DeliveryStatus.SENDING,
        claimed_at__lt=now - timedelta(seconds=get_number_setting("CLAIM_TIMEOUT")),
    )
    # Conditional UPDATEs, stamped with a token: a worker finishing a row at this moment
    # keeps its outcome (and its report), never overwritten by a read-then-write.
    token = uuid.uuid4()
    lost.filter(attempts__gte=max_attempts).update(
        status=DeliveryStatus.FAILED,
        finished=now,
        claim=token,
        claimed_at=None,
        last_error=Concat(
            Value("gave up after "),
            Cast("attempts", CharField()),
            Value(f" attempts: {LOST}"),
            output_field=TextField(),
        ),
    )
    Delivery.objects.filter(status=DeliveryStatus.PENDING, backend__isnull=True).update(
        status=DeliveryStatus.FAILED,
        finished=now,
        claim=token,
        last_error="its backend was deleted",
    )
    hopeless = list(Delivery.objects.filter(claim=token))
    Delivery.objects.filter(claim=token).update(claim=None)
    for delivery in hopeless:
        delivery.claim = None
        plugin_manager.delivery_finished(delivery)

    released = lost.filter(attempts__lt=max_attempts)
    released_groups = set(released.values_list("event_id", "backend_id"))
    released_count = released.update(
        status=DeliveryStatus.PENDING,
        claim=None,
        claimed_at=None,
        next_attempt_at=now,
        last_error=f"{LOST}; sending again",
    )

    # Where the task backend defers retries, a due delivery normally has its task on the
    # way: wait REQUEUE_AFTER before deciding it has none.
    grace = get_number_setting("REQUEUE_AFTER") if can_defer() else 0.0
    due = Delivery.objects.filter(
        status=DeliveryStatus.PENDING,
        backend__isnull=False,
        next_attempt_at__lte=now - timedelta(seconds=grace),
    )
    groups = released_groups | set(due.values_list("event_id", "backend_id").distinct())
    enqueued = enqueue_groups(groups)
    return RequeueReport(released_count, len(hopeless), enqueued)
