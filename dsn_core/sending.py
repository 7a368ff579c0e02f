"""The worker side of the outbox: claim due deliveries, render, send, record outcomes.

A claim moves rows from pending to sending under a fresh token in one statement
(``SELECT ... FOR UPDATE SKIP LOCKED`` where the database has it, a conditional
``UPDATE`` elsewhere), so two workers never send the same delivery. Outcomes are written
only to rows that still carry the token: a worker that lost its claim (``dsn requeue``
gave the rows to another) cannot overwrite what the other recorded.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import connections, router, transaction
from django.db.models import F, Min, Subquery
from django.utils import timezone

from . import registry, snapshot
from .conf import get_number_setting
from .events import SignalEvent
from .exceptions import PermanentDeliveryError, TemplateRenderError, TransientDeliveryError
from .message_templates import BaseMessageTemplate
from .messages import (
    Outcome,
    OutgoingMessage,
    PermanentFailure,
    Recipient,
    RenderedMessage,
    Sent,
    TransientFailure,
)
from .messengers import BaseMessenger
from .models import Backend, Delivery, DeliveryStatus, Event
from .recording import record_outcomes
from .signals import post_send, pre_send

logger = logging.getLogger(__name__)


def send_pending(event_id: int, backend_id: int) -> int:
    """Send every due delivery of one event through one backend; return how many were sent."""
    event = Event.objects.filter(pk=event_id).first()
    backend = Backend.objects.filter(pk=backend_id).first()
    if event is None or backend is None:
        return 0  # deleted since: `dsn requeue` fails what is left of a deleted backend
    messenger_class = registry.messengers.get(backend.messenger)
    template_class = registry.message_templates.get(backend.message_template)
    size = int(get_number_setting("BATCH_SIZE"))
    if messenger_class is not None and messenger_class.max_batch_size:
        size = min(size, messenger_class.max_batch_size)
    sent = 0
    claimed = False
    deadline = time.monotonic() + get_number_setting("TASK_TIME_LIMIT")
    while batch := claim(event_id, backend_id, size):
        claimed = True
        if messenger_class is None or template_class is None:
            missing = backend.messenger if messenger_class is None else backend.message_template
            reason = f"{missing!r} is not installed in this process (see 'manage.py dsn plugins')"
            outcomes: list[Outcome] = [TransientFailure(reason)] * len(batch)
        else:
            outcomes = _send_or_fail(event, backend, messenger_class, template_class, batch)
        sent += record_outcomes(batch, outcomes)
        if time.monotonic() > deadline and _split_long_tasks():
            from .tasks import enqueue

            enqueue(event_id, backend_id)  # the rest in a fresh task, within any job timeout
            return sent
    if claimed:  # a run that claimed nothing leaves the retry to the run that did
        schedule_retry(event_id, backend_id)
    return sent


def _split_long_tasks() -> bool:
    from .tasks import can_defer

    return can_defer()  # a queueing backend; the ImmediateBackend runs tasks in place


def _send_or_fail(
    event: Event,
    backend: Backend,
    messenger_class: type[BaseMessenger],
    template_class: type[BaseMessageTemplate],
    batch: list[Delivery],
) -> list[Outcome]:
    """send_batch, with an error outside the messenger's send() (its constructor reading
    settings, the snapshot) failing this batch transiently instead of the task."""
    try:
        messenger, template = messenger_class(backend.options), template_class()
        return send_batch(event, backend, messenger, template, batch)
    except Exception as exc:
        logger.exception("DSN could not send a batch through backend %s.", backend.pk)
        return [TransientFailure(f"{type(exc).__name__}: {exc}")] * len(batch)


def claim(event_id: int, backend_id: int, size: int) -> list[Delivery]:
    alias = router.db_for_write(Delivery)
    now = timezone.now()
    token = uuid.uuid4()
    due = Delivery.objects.using(alias).filter(
        event_id=event_id,
        backend_id=backend_id,
        status=DeliveryStatus.PENDING,
        next_attempt_at__lte=now,
    )
    claimed = {
        "status": DeliveryStatus.SENDING,
        "claim": token,
        "claimed_at": now,
        "attempts": F("attempts") + 1,
    }
    if connections[alias].features.has_select_for_update_skip_locked:
        with transaction.atomic(using=alias):
            ids = list(
                due.order_by("pk")
                .select_for_update(skip_locked=True)
                .values_list("pk", flat=True)[:size]
            )
            Delivery.objects.using(alias).filter(pk__in=ids).update(**claimed)
    else:  # SQLite: writes are serialised, so one conditional UPDATE is atomic
        ids_query = due.order_by("pk").values("pk")[:size]
        Delivery.objects.using(alias).filter(
            pk__in=Subquery(ids_query), status=DeliveryStatus.PENDING
        ).update(**claimed)
    return list(
        Delivery.objects.using(alias).filter(claim=token).select_related("user").order_by("pk")
    )


def send_batch(
    event: Event,
    backend: Backend,
    messenger: BaseMessenger,
    template: BaseMessageTemplate,
    batch: list[Delivery],
) -> list[Outcome]:
    """Render what was not rendered yet, call the messenger once, one outcome per row."""
    trigger_context = snapshot.load(event.context.get("trigger", {}))
    signal_kwargs = snapshot.load(event.context.get("signal", {}))
    if type(messenger).is_seed_style():
        return _send_seed_style(messenger, template, batch, trigger_context, signal_kwargs)
    outcomes: dict[int, Outcome] = {}
    messages: list[OutgoingMessage] = []
    for delivery in batch:
        if delivery.message is None:
            try:
                rendered = template.render_message(delivery.user, trigger_context, signal_kwargs)
            except TemplateRenderError as exc:
                logger.error("%s", exc)
                outcomes[delivery.pk] = PermanentFailure(str(exc))
                continue
            # NUL is text to a template, but PostgreSQL's jsonb refuses it.
            delivery.message = {k: v.replace("\x00", "") for k, v in rendered.parts.items()}
        recipient = Recipient(delivery.user, delivery.address or None)
        messages.append(
            OutgoingMessage(
                recipient,
                RenderedMessage(delivery.message),
                reference=str(delivery.pk),
                options=backend.options,
                attempt=delivery.attempts,  # the claim counted this try
            )
        )
    if messages:
        for message, outcome in zip(
            messages, call_messenger(messenger, backend, messages), strict=True
        ):
            outcomes[int(message.reference)] = outcome
    return [outcomes[delivery.pk] for delivery in batch]


def _send_seed_style(
    messenger: Any,
    template: BaseMessageTemplate,
    batch: list[Delivery],
    trigger_context: Any,
    signal_kwargs: Any,
) -> list[Outcome]:
    """The seed's API renders and sends itself: one call, one outcome for the batch."""
    users = [delivery.user for delivery in batch if delivery.user is not None]
    try:
        messenger.send(template, users, trigger_context, signal_kwargs)
        outcome: Outcome = Sent()
    except Exception as exc:
        logger.exception("Seed-style messenger %s raised.", type(messenger).id)
        outcome = TransientFailure(f"{type(exc).__name__}: {exc}")
    return [outcome] * len(batch)


def call_messenger(
    messenger: BaseMessenger, backend: Any, batch: Sequence[OutgoingMessage]
) -> list[Outcome]:
    """Call ``send()`` and turn whatever happens into exactly one outcome per message."""
    pre_send.send(type(messenger), backend=backend, messages=batch)
    try:
        outcomes = list(messenger.send(batch))
    except PermanentDeliveryError as exc:
        outcomes = [PermanentFailure(exc.reason)] * len(batch)
    except TransientDeliveryError as exc:
        outcomes = [TransientFailure(exc.reason, exc.retry_after)] * len(batch)
    except Exception as exc:
        logger.exception(
            "Messenger %s raised; counting the batch as a transient failure.", messenger.id
        )
        outcomes = [TransientFailure(f"{type(exc).__name__}: {exc}")] * len(batch)
    if len(outcomes) != len(batch):
        reason = (
            f"Messenger {messenger.id!r} returned {len(outcomes)} outcomes "
            f"for {len(batch)} messages."
        )
        logger.error("%s", reason)
        outcomes = [TransientFailure(reason)] * len(batch)
    # The messages are gone: a receiver's error (logged by send_robust) must not turn
    # them into a failure that is sent again.
    post_send.send_robust(type(messenger), backend=backend, messages=batch, outcomes=outcomes)
    return outcomes


def schedule_retry(event_id: int, backend_id: int) -> None:
    """Enqueue the next run for the earliest retry, where the task backend can defer."""
    from .tasks import enqueue

    earliest = Delivery.objects.filter(
        event_id=event_id, backend_id=backend_id, status=DeliveryStatus.PENDING
    ).aggregate(at=Min("next_attempt_at"))["at"]
    if earliest is not None and earliest > timezone.now():
        # Rounded up to the second: RQ's scheduler keeps whole seconds and would run the
        # task up to a second early, when nothing is due yet.
        whole = earliest.replace(microsecond=0)
        enqueue(
            event_id,
            backend_id,
            run_after=whole + timedelta(seconds=1) if whole < earliest else whole,
        )


@dataclass(frozen=True)
class DirectReport:
    """The outcome of one message sent without the outbox (``dsn send-test``)."""

    recipient: Recipient
    outcome: Outcome | None
    skipped_reason: str = ""


def send_direct(backend: Backend, users: list[Any], event: SignalEvent) -> list[DirectReport]:
    """Render with the live objects and send now, writing no outbox rows."""
    from .recipients import address_of

    messenger_class = registry.messengers.get(backend.messenger)
    template_class = registry.message_templates.get(backend.message_template)
    if messenger_class is None or template_class is None:
        return []
    messenger, template = messenger_class(backend.options), template_class()
    reports: list[DirectReport] = []
    messages: list[OutgoingMessage] = []
    for user in [None] if messenger_class.broadcast else users:
        address = None if user is None else address_of(user, messenger_class.channel)
        recipient = Recipient(user, address)
        if user is not None and address is None:
            reports.append(DirectReport(recipient, None, f"no {messenger_class.channel} address"))
            continue
        try:
            message = template.render_message(user, event.trigger_context, event.signal_kwargs)
        except TemplateRenderError as exc:
            reports.append(DirectReport(recipient, PermanentFailure(str(exc))))
            continue
        messages.append(OutgoingMessage(recipient, message, options=backend.options))
    outcomes = call_messenger(messenger, backend, messages) if messages else []
    reports += [DirectReport(m.recipient, o) for m, o in zip(messages, outcomes, strict=True)]
    return reports
