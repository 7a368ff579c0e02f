"""Receivers that bump the configuration version when triggers, subscriptions or
backends change, so every process refreshes its trigger index."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from .matching import configuration_changed
from .models import Backend, Subscription, Trigger

_CONFIG_MODELS = (Trigger, Backend, Subscription)


def _changed(sender: Any, using: str | None = None, **kwargs: Any) -> None:
    # Fixtures (raw saves) change the configuration too: bump for them as well.
    configuration_changed(using)


for _model in _CONFIG_MODELS:
    post_save.connect(
        _changed, sender=_model, dispatch_uid=f"dsn_core.config.save.{_model.__name__}"
    )
    post_delete.connect(
        _changed, sender=_model, dispatch_uid=f"dsn_core.config.delete.{_model.__name__}"
    )


@receiver(m2m_changed, sender=Subscription.backends.through, dispatch_uid="dsn_core.config.m2m")
def _backends_changed(sender: Any, action: str, using: str | None = None, **kwargs: Any) -> None:
    if action in {"post_add", "post_remove", "post_clear"}:
        configuration_changed(using)
