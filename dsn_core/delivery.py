"""Direct delivery after commit: plan (backend → recipients), render, send, report.

The durable outbox replaces the sending half of this module; planning and rendering
stay the same.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from . import registry
from .events import Event
from .exceptions import PermanentDeliveryError, TemplateRenderError, TransientDeliveryError
from .message_templates import BaseMessageTemplate
from .messages import (
    Outcome,
    OutgoingMessage,
    PermanentFailure,
    Recipient,
    Sent,
    TransientFailure,
)
from .messengers import BaseMessenger
from .recipients import prefetch_contact_points, subscription_users
from .signals import post_send, pre_send

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeliveryReport:
    """A final outcome, as given to the ``dsn_delivery_finished`` hook."""

    event: Event
    backend: Any
    recipient: Recipient
    outcome: Outcome | None
    skipped_reason: str = ""


def deliver_event(event: Event) -> None:
    from .conf import get_setting

    try:
        for backend, users in plan(event):
            send_to(backend, users, event)
    except Exception:
        if get_setting("STRICT"):
            raise
        logger.exception("DSN failed to deliver %s for triggers %s.", event.verb, event.trigger_ids)


def plan(event: Event) -> list[tuple[Any, list[Any]]]:
    """Each enabled backend of the matched subscriptions with its recipients, deduplicated."""
    from django.db.models import Prefetch

    from .models import Backend, Subscription

    subscriptions = (
        Subscription.objects.filter(
            trigger_id__in=event.trigger_ids, enabled=True, trigger__enabled=True
        )
        .prefetch_related(
            Prefetch("backends", queryset=Backend.objects.filter(enabled=True).order_by("pk"))
        )
        .order_by("pk")
    )
    planned: dict[int, tuple[Any, dict[Any, Any]]] = {}
    for subscription in subscriptions:
        users = subscription_users(subscription, event)
        for backend in subscription.backends.all():
            _, recipients = planned.setdefault(backend.pk, (backend, {}))
            for user in users:
                recipients.setdefault(user.pk, user)
    return [(backend, list(users.values())) for backend, users in planned.values()]


def send_to(backend: Any, users: list[Any], event: Event) -> list[DeliveryReport]:
    messenger_class = registry.messengers.get(backend.messenger)
    template_class = registry.message_templates.get(backend.message_template)
    if messenger_class is None or template_class is None:
        logger.error(
            "Backend %s names messenger %r and template %r; %s not installed. "
            "Run 'manage.py dsn plugins'.",
            backend,
            backend.messenger,
            backend.message_template,
            "the messenger is" if messenger_class is None else "the template is",
        )
        return []
    messenger = messenger_class(backend.options)
    template = template_class()
    if messenger_class.is_seed_style():
        return _send_seed_style(messenger, template, backend, users, event)
    reports: list[DeliveryReport] = []
    messages: list[OutgoingMessage] = []
    for recipient in _recipients(messenger_class, users):
        if recipient.address is None:
            reports.append(_finish(event, backend, recipient, None, "no address on this channel"))
            continue
        try:
            message = template.render_message(
                recipient.user, event.trigger_context, event.signal_kwargs
            )
        except TemplateRenderError as exc:
            logger.error("%s", exc)
            reports.append(_finish(event, backend, recipient, PermanentFailure(str(exc))))
            continue
        messages.append(OutgoingMessage(recipient, message, options=backend.options))
    size = messenger_class.max_batch_size or len(messages) or 1
    for start in range(0, len(messages), size):
        batch = messages[start : start + size]
        for outgoing, outcome in zip(batch, call_messenger(messenger, backend, batch), strict=True):
            reports.append(_finish(event, backend, outgoing.recipient, outcome))
    return reports


def _recipients(messenger_class: type[BaseMessenger], users: list[Any]) -> list[Recipient]:
    if messenger_class.broadcast:
        return [Recipient(user=None, address=messenger_class.channel)]
    from .plugins import plugin_manager

    if messenger_class.channel not in {"email", "console"}:
        prefetch_contact_points(users, messenger_class.channel)
    return [
        Recipient(user, plugin_manager.resolve_address(user, messenger_class.channel))
        for user in users
    ]


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
            f"Messenger {messenger.id!r} returned {len(outcomes)} outcomes for "
            f"{len(batch)} messages."
        )
        logger.error("%s", reason)
        outcomes = [TransientFailure(reason)] * len(batch)
    post_send.send(type(messenger), backend=backend, messages=batch, outcomes=outcomes)
    return outcomes


def _send_seed_style(
    messenger: Any, template: BaseMessageTemplate, backend: Any, users: list[Any], event: Event
) -> list[DeliveryReport]:
    """The seed's API: the messenger renders and picks users itself; no per-user outcome."""
    try:
        messenger.send(template, users, event.trigger_context, event.signal_kwargs)
        outcome: Outcome = Sent()
    except Exception as exc:
        logger.exception("Seed-style messenger %s raised.", backend.messenger)
        outcome = TransientFailure(f"{type(exc).__name__}: {exc}")
    recipient = Recipient(user=None, address=f"{len(users)} users (seed-style messenger)")
    return [_finish(event, backend, recipient, outcome)]


def _finish(
    event: Event, backend: Any, recipient: Recipient, outcome: Outcome | None, skipped: str = ""
) -> DeliveryReport:
    from .plugins import plugin_manager

    report = DeliveryReport(event, backend, recipient, outcome, skipped)
    if outcome is None:
        logger.info("DSN skipped %s via %s: %s", recipient, backend, skipped)
    elif isinstance(outcome, Sent):
        logger.info("DSN sent %s via %s (%s)", recipient, backend, outcome.provider_id or "no id")
    else:
        logger.warning(
            "DSN %s failure for %s via %s: %s", outcome.status, recipient, backend, outcome.reason
        )
    plugin_manager.delivery_finished(report)
    return report
