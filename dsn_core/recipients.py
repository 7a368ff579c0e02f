"""Whom to notify: subscription users and groups, plus a resolver's dynamic users."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Prefetch, Q, prefetch_related_objects

from . import registry
from .conf import strict
from .events import SignalEvent

logger = logging.getLogger(__name__)


def _has_field(model: Any, name: str) -> bool:
    try:
        model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return True


def _active(user: Any) -> bool:
    return bool(getattr(user, "is_active", True))


def subscription_users(subscription: Any, event: SignalEvent) -> list[Any]:
    """Active users of the subscription, groups expanded, resolver applied, each once."""
    user_model = get_user_model()
    # One query: the subscription's users and its groups' users, through the reverse
    # relations, so nothing is loaded twice.
    condition = Q(dsn_subscriptions=subscription)
    if _has_field(user_model, "groups"):
        condition |= Q(groups__dsn_subscriptions=subscription)
    queryset = user_model._default_manager.filter(condition)
    if _has_field(user_model, "is_active"):
        queryset = queryset.filter(is_active=True)
    users: dict[Any, Any] = {user.pk: user for user in queryset.distinct().order_by("pk")}
    if subscription.recipient_resolver:
        resolver_class = registry.resolvers.get(subscription.recipient_resolver)
        if resolver_class is None:
            logger.error(
                "Subscription %s names recipient resolver %r, which is not installed.",
                subscription.pk,
                subscription.recipient_resolver,
            )
        else:
            try:
                resolved = list(
                    resolver_class().resolve(event.trigger_context, event.signal_kwargs)
                )
            except Exception:
                # One broken resolver must not silence the subscription's static users,
                # nor other subscriptions of the event.
                if strict():
                    raise
                logger.exception(
                    "Recipient resolver %r raised for subscription %s; notifying its users "
                    "and groups only.",
                    subscription.recipient_resolver,
                    subscription.pk,
                )
                resolved = []
            for user in resolved:
                if _active(user):
                    users.setdefault(user.pk, user)
    return list(users.values())


def prefetch_contact_points(users: list[Any], channel: str) -> None:
    """Load every user's contact points for ``channel``, usable or not, in one query:
    the usable ones answer the address, the invalid ones say why a user is skipped."""
    from .models import ContactPoint

    prefetch_related_objects(
        users,
        Prefetch(
            "dsn_contact_points",
            queryset=ContactPoint.objects.filter(channel=channel).order_by("-pk"),
            to_attr=contact_points_attr(channel),
        ),
    )


def contact_points_attr(channel: str) -> str:
    return f"_dsn_contact_points_{channel}"


def skip_reason(user: Any, channel: str, address: str | None) -> str:
    """Why ``user`` gets no message on ``channel`` ("" when they get one).

    An address a provider rejected (a bounce, a blocked bot, an SMS opt-out) is kept as
    a contact point with ``invalid_reason``; later events skip it with that reason.
    """
    points = getattr(user, contact_points_attr(channel), None) or []
    if address:
        for point in points:
            if point.invalid_reason and _same_address(point.address, address, channel):
                return f"{channel} address {address} is invalid: {point.invalid_reason}"
        return ""
    invalid = [point for point in points if point.invalid_reason]
    if invalid:
        return f"no usable {channel} address ({invalid[0].address}: {invalid[0].invalid_reason})"
    return f"no {channel} address"


def _same_address(a: str, b: str, channel: str) -> bool:
    return a.casefold() == b.casefold() if channel == "email" else a == b


def plan(event: SignalEvent) -> list[tuple[Any, list[Any]]]:
    """Each enabled backend of the matched subscriptions with its recipients, deduplicated:
    a user reached through several subscriptions or groups gets one message per backend."""
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


def address_of(user: Any, channel: str) -> str | None:
    from .plugins import plugin_manager

    return plugin_manager.resolve_address(user, channel)


def needs_contact_points(channel: str) -> bool:
    return channel != "console"  # email too: a bounced address is an invalid contact point
