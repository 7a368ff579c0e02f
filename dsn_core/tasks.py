"""DSN's task on Django's Tasks framework: send the due deliveries of one event+backend.

``django.tasks`` on Django 6, the ``django-tasks`` backport on Django 5.2. No backend
retries or enqueues on commit by itself: DSN enqueues in ``transaction.on_commit``, and
retries by re-enqueueing with ``run_after`` where the backend can defer (else
``manage.py dsn requeue`` picks due deliveries up). Arguments are two integers: the
payload is JSON, and a worker reads everything else from the outbox rows.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable
from typing import Any

try:  # Django 6
    from django.tasks import task, task_backends
except ImportError:  # Django 5.2: the backport
    from django_tasks import task, task_backends  # type: ignore[no-redef,import-not-found,assignment,unused-ignore]

from .conf import get_setting

__all__ = ["can_defer", "enqueue", "enqueue_groups", "send_deliveries", "task_backends"]

logger = logging.getLogger(__name__)


@task()
def send_deliveries(event_id: int, backend_id: int) -> int:
    """Claim and send every due delivery of one event through one backend."""
    from .sending import send_pending

    return send_pending(event_id, backend_id)


def enqueue(event_id: int, backend_id: int, *, run_after: datetime.datetime | None = None) -> Any:
    """Enqueue :func:`send_deliveries`; ``None`` when the backend cannot defer ``run_after``
    (the deliveries stay pending until ``dsn requeue`` finds them due)."""
    alias = str(get_setting("TASK_BACKEND"))
    bound = send_deliveries.using(backend=alias, queue_name=str(get_setting("QUEUE")))
    if run_after is not None:
        if not task_backends[alias].supports_defer:
            return None
        bound = bound.using(run_after=run_after)
    return bound.enqueue(event_id, backend_id)


def can_defer() -> bool:
    return bool(task_backends[str(get_setting("TASK_BACKEND"))].supports_defer)


def enqueue_groups(groups: Iterable[tuple[int, int | None]]) -> int:
    """Enqueue one task per (event, backend); return how many were enqueued.

    A group whose backend was deleted is passed over (`dsn requeue` fails its rows), and a
    broker error is logged, not raised: the rows stay pending and due, and `dsn requeue`
    enqueues them later.
    """
    enqueued = 0
    for event_id, backend_id in sorted({g for g in groups if g[1] is not None}):
        assert backend_id is not None
        try:
            enqueue(event_id, backend_id)
        except Exception:
            logger.exception(
                "DSN could not enqueue event %s for backend %s; 'manage.py dsn requeue' will.",
                event_id,
                backend_id,
            )
        else:
            enqueued += 1
    return enqueued
