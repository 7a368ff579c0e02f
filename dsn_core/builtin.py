"""Core's own plugin: default signals, the console messenger, generic templates, and the
default address lookup. Registered first, so plugins can override ``dsn_resolve_address``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import hookimpl
from .message_templates import EventSummaryTemplate, SimplePrintMessageTemplate
from .messengers import ConsoleMessenger, SimplePrintMessengerTemplateBased
from .recipients import contact_points_attr
from .signals import DEFAULT_SIGNALS, PER_MODEL_SIGNALS


@hookimpl
def dsn_register_signals(register: Callable[..., None]) -> None:
    for name, signal, args, requires_action_object in DEFAULT_SIGNALS:
        register(
            name,
            signal,
            args,
            requires_action_object=requires_action_object,
            sender_is_action_model=name in PER_MODEL_SIGNALS,
        )


@hookimpl
def dsn_register_messengers(register: Callable[[type], None]) -> None:
    register(ConsoleMessenger)
    register(SimplePrintMessengerTemplateBased)


@hookimpl
def dsn_register_message_templates(register: Callable[[type], None]) -> None:
    register(EventSummaryTemplate)
    register(SimplePrintMessageTemplate)


@hookimpl(trylast=True)
def dsn_resolve_address(user: Any, channel: str) -> str | None:
    if channel == "email":
        return getattr(user, "email", None) or None
    if channel == "console":
        return str(user.get_username())
    prefetched = getattr(user, contact_points_attr(channel), None)
    if prefetched is not None:  # every point of the channel, newest first
        usable = [p for p in prefetched if p.verified and not p.invalid_reason]
        return usable[0].address if usable else None
    from .models import ContactPoint

    point = (
        ContactPoint.objects.filter(ContactPoint.usable_for(channel), user=user)
        .order_by("-pk")
        .first()
    )
    return point.address if point else None
