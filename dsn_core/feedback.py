"""What providers report after a send: receipts, bounces, blocked bots, opt-outs.

Webhook views call these once the provider's signature is verified. Reports update the
outbox (``Delivery.provider_status``; a bounce turns a sent delivery into a failed one)
and contact points (an invalid address is skipped, with its reason, by later events).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import ContactPoint, Delivery, DeliveryStatus

logger = logging.getLogger(__name__)

#: Provider statuses that mean the message did not arrive. A report with ``failed=True``
#: must use one of them: they are how a failure is recognised later (see sending.py).
FAILURE_STATUSES = frozenset({"bounced", "dropped", "undelivered", "failed", "rejected"})

#: How final a provider status is. Webhooks arrive out of order: a report never replaces
#: a higher-ranked one (a late "sent" does not undo "delivered", nor "delivered" a bounce).
#: Statuses not listed ("queued", "sent", "processed"...) rank 0.
RANKS: dict[str, int] = {
    "delivered": 1,
    "read": 1,
    "spamreport": 2,
    **dict.fromkeys(FAILURE_STATUSES, 3),
}


def deliveries(
    messengers: Iterable[str],
    *,
    pks: Iterable[Any] = (),
    provider_ids: Iterable[str] = (),
) -> QuerySet[Delivery]:
    """The deliveries of ``messengers`` a report names, by our pk or the provider's id.

    Non-numeric pks are ignored: they come from a request body, signed but not ours.
    """
    numeric = {int(pk) for pk in map(str, pks) if _is_pk(pk)}
    ids = {str(provider_id) for provider_id in provider_ids if provider_id}
    if not numeric and not ids:
        return Delivery.objects.none()
    return Delivery.objects.filter(
        Q(pk__in=numeric) | Q(provider_message_id__in=ids), messenger__in=list(messengers)
    )


def _is_pk(text: str) -> bool:
    # ASCII digits only ("²".isdigit() is true), and within a bigint: SQLite raises on
    # larger numbers where PostgreSQL matches nothing.
    return text.isascii() and text.isdigit() and len(text) <= 18


def apply_report(
    rows: QuerySet[Delivery], status: str, *, failed: bool = False, detail: str = ""
) -> int:
    """Record a provider's ``status`` on ``rows``; return how many changed.

    ``failed=True`` (a bounce, a drop, an undelivered SMS; ``status`` one of
    :data:`FAILURE_STATUSES`) turns sent deliveries into failed ones with ``detail`` as
    their error, and reports them through ``dsn_delivery_finished`` (a second final
    outcome for a delivery reported as sent). A row still being sent keeps the status,
    and its worker records the failure when it writes the outcome.
    """
    if failed and status not in FAILURE_STATUSES:
        raise ValueError(
            f"apply_report(failed=True) needs one of {sorted(FAILURE_STATUSES)}, not {status!r}"
        )
    status = status[:50]
    now = timezone.now()
    rank = RANKS.get(status, 0)
    rows = rows.exclude(provider_status__in=[name for name, r in RANKS.items() if r > rank])
    changed = rows.update(provider_status=status, provider_updated=now)
    if failed:
        with transaction.atomic():
            turned = list(rows.filter(status=DeliveryStatus.SENT).select_for_update())
            for row in turned:
                row.status, row.last_error = DeliveryStatus.FAILED, detail[:2000]
            Delivery.objects.bulk_update(turned, ["status", "last_error"])

        def report() -> None:
            from .plugins import plugin_manager

            for row in turned:
                plugin_manager.delivery_finished(row)

        transaction.on_commit(report)
    return changed


def mark_address_invalid(channel: str, address: str, reason: str) -> int:
    """Mark ``address`` on ``channel`` invalid for every user holding it; return how many.

    For email, whose address is ``user.email`` rather than a contact point, the users
    with that email get an (invalid) email contact point, so later events skip them.
    """
    reason = (reason or "rejected by the provider")[:255]
    points = ContactPoint.objects.filter(_address_q(channel, address), channel=channel)
    changed = points.update(invalid_reason=reason)
    if channel == "email":
        user_model = get_user_model()
        field = user_model.get_email_field_name()
        holders = user_model._default_manager.filter(**{f"{field}__iexact": address}).exclude(
            dsn_contact_points__in=points
        )
        created = ContactPoint.objects.bulk_create(
            [
                ContactPoint(
                    user=user,
                    channel=channel,
                    address=address,
                    verified=True,
                    invalid_reason=reason,
                )
                for user in holders
            ],
            ignore_conflicts=True,
        )
        changed += len(created)
    # Not the address itself: a phone number or an email is personal data in the logs.
    logger.info("DSN marked %d %s contact point(s) invalid: %s", changed, channel, reason)
    return changed


def mark_address_valid(channel: str, address: str) -> int:
    """Clear the invalid mark (an SMS ``START`` after ``STOP``); return how many changed."""
    return ContactPoint.objects.filter(_address_q(channel, address), channel=channel).update(
        invalid_reason=""
    )


def _address_q(channel: str, address: str) -> Q:
    return Q(address__iexact=address) if channel == "email" else Q(address=address)
