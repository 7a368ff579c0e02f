"""The outbox: one Event per matched signal, one Delivery per (recipient, backend).

Rows are written in the transaction of the code that sent the signal, so a rollback
leaves nothing behind; workers claim them after commit. A Delivery holds everything
needed to send it later, in another process, after the objects of the event are gone.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .config import Backend


class Event(models.Model):
    """A matched signal: the activity record users list, and the context snapshot that
    every delivery of it renders from."""

    verb = models.CharField(_("verb"), max_length=100, db_index=True)
    action_object_content_type = models.ForeignKey(
        ContentType, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    action_object_id = models.CharField(max_length=255, blank=True)
    action_object_repr = models.CharField(_("action object"), max_length=255, blank=True)
    actor_object_content_type = models.ForeignKey(
        ContentType, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_object_id = models.CharField(max_length=255, blank=True)
    actor_object_repr = models.CharField(_("actor"), max_length=255, blank=True)
    target = models.CharField(_("target"), max_length=255, blank=True)
    trigger_ids = models.JSONField(_("triggers"), default=list)
    #: Trigger context and signal arguments, snapshotted when the signal fired
    #: (see dsn_core.snapshot): rendering never reads rows that may be gone.
    context = models.JSONField(_("context"), default=dict)
    created = models.DateTimeField(_("created"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("event")
        ordering = ["-created", "-pk"]

    def __str__(self) -> str:
        text = self.verb
        if self.action_object_repr:
            text += f" on {self.action_object_repr}"
        if self.actor_object_repr:
            text += f" by {self.actor_object_repr}"
        return text


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    SENDING = "sending", _("sending")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")
    SKIPPED = "skipped", _("skipped")


FINAL_STATUSES = frozenset({DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.SKIPPED})


class Delivery(models.Model):
    """One message to one recipient through one backend, and what became of it."""

    event = models.ForeignKey(
        Event, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("event")
    )
    backend = models.ForeignKey(
        Backend,
        on_delete=models.SET_NULL,
        null=True,
        related_name="deliveries",
        verbose_name=_("backend"),
    )
    messenger = models.CharField(_("messenger"), max_length=100, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="dsn_deliveries",
        verbose_name=_("recipient"),
    )
    address = models.CharField(_("address"), max_length=255, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    claim = models.UUIDField(null=True, blank=True, editable=False)
    last_error = models.TextField(_("last error"), blank=True)
    provider_message_id = models.CharField(_("provider message id"), max_length=255, blank=True)
    #: What the messenger said about the sent message (``Sent.details``), as JSON.
    provider_details = models.JSONField(_("provider details"), default=dict, blank=True)
    #: What the provider reported later through a webhook ("delivered", "bounced"...).
    provider_status = models.CharField(_("provider status"), max_length=50, blank=True)
    provider_updated = models.DateTimeField(_("provider report"), null=True, blank=True)
    #: The rendered parts, saved at the first attempt so retries resend the same text.
    message = models.JSONField(_("message"), null=True, blank=True)
    created = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    finished = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-created", "-pk"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="dsn_delivery_due"),
            models.Index(fields=["event", "backend", "status"], name="dsn_delivery_batch"),
            models.Index(fields=["provider_message_id"], name="dsn_delivery_provider_id"),
        ]

    def __str__(self) -> str:
        return f"{self.get_status_display()}: {self.event} to {self.address or 'broadcast'}"

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    def text(self) -> str:
        parts: dict[str, Any] = self.message or {}
        return str(parts.get("text") or parts.get("html") or "")
