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

#: Provider statuses after which nothing changes; a late "sent" or "processed" report
#: (webhooks arrive out of order) never overwrites one of these.
FINAL_PROVIDER_STATUSES = frozenset(
    {"delivered", "undelivered", "failed", "bounced", "dropped", "spamreport", "read"}
)


def deliveries(
    messengers: Iterable[str],
    *,
    pks: Iterable[Any] = (),
    provider_ids: Iterable[str] = (),
) -> QuerySet[Delivery]:
    """The deliveries of ``messengers`` a report names, by our pk or the provider's id.

    Non-numeric pks are ignored: they come from a request body, signed but not ours.
    """
    numeric = {int(pk) for pk in map(str, pks) if pk.isdigit()}
    ids = {str(provider_id) for provider_id in provider_ids if provider_id}
    if not numeric and not ids:
        return Delivery.objects.none()
    return Delivery.objects.filter(
        Q(pk__in=numeric) | Q(provider_message_id__in=ids), messenger__in=list(messengers)
    )


def apply_report(
    rows: QuerySet[Delivery], status: str, *, failed: bool = False, detail: str = ""
) -> int:
    """Record a provider's ``status`` on ``rows``; return how many changed.

    ``failed=True`` (bounce, dropped, undelivered) turns sent deliveries into failed ones
    with ``detail`` as their error, and reports them through ``dsn_delivery_finished``.
    """
    status = status[:50]
    now = timezone.now()
    final = status in FINAL_PROVIDER_STATUSES
    if not final:
        rows = rows.exclude(provider_status__in=FINAL_PROVIDER_STATUSES)
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
    logger.info("DSN marked %s address %s invalid: %s", channel, address, reason)
    return changed


def mark_address_valid(channel: str, address: str) -> int:
    """Clear the invalid mark (an SMS ``START`` after ``STOP``); return how many changed."""
    return ContactPoint.objects.filter(_address_q(channel, address), channel=channel).update(
        invalid_reason=""
    )


def _address_q(channel: str, address: str) -> Q:
    return Q(address__iexact=address) if channel == "email" else Q(address=address)
