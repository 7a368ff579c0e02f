"""DSN's models: configuration (when, whom, how) and the outbox (what happened, what went).

Split by concept; import them from here.
"""

from __future__ import annotations

from .config import (
    Backend,
    ConfigurationVersion,
    ContactPoint,
    Subscription,
    Trigger,
    content_type_for,
)
from .nonces import UsedKey
from .outbox import Delivery, DeliveryStatus, Event

__all__ = [
    "Backend",
    "ConfigurationVersion",
    "ContactPoint",
    "Delivery",
    "DeliveryStatus",
    "Event",
    "Subscription",
    "Trigger",
    "UsedKey",
    "content_type_for",
]
