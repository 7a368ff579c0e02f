"""Configuration models: Trigger (when), Subscription (whom), Backend (how), ContactPoint.

Field names follow the seed documents so seed configurations keep working. Messenger,
template and resolver ids are plain strings validated against the plugin registries at
run time, never ``choices=`` frozen into migrations.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import F, Q
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def content_type_for(obj: Any) -> tuple[ContentType | None, str]:
    """Content type and id for a model class (id ``""``), an instance, or ``None``."""
    if obj is None:
        return None, ""
    if isinstance(obj, models.Model):
        return ContentType.objects.get_for_model(obj, for_concrete_model=False), str(obj.pk)
    if isinstance(obj, type) and issubclass(obj, models.Model):
        return ContentType.objects.get_for_model(obj, for_concrete_model=False), ""
    raise TypeError(f"Expected a model class or instance, got {obj!r}.")


class Trigger(models.Model):
    """A signal (the verb) plus what must match for it to notify anyone."""

    verb = models.CharField(_("verb"), max_length=100, help_text=_("A registered signal."))
    action_object_content_type = models.ForeignKey(
        ContentType,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("action object type"),
        help_text=_("The signal's sender or instance. Required for model signals."),
    )
    action_object_id = models.CharField(
        _("action object id"),
        max_length=255,
        blank=True,
        default="",
        help_text=_("Empty: any object of the type."),
    )
    actor_object_content_type = models.ForeignKey(
        ContentType,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor object type"),
        help_text=_("Matched against the signal's actor_object argument."),
    )
    actor_object_id = models.CharField(_("actor object id"), max_length=255, blank=True, default="")
    target = models.CharField(
        _("target"),
        max_length=255,
        blank=True,
        default="",
        help_text=_("Matched against the signal's target argument. Empty: any."),
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("trigger")
        ordering = ["verb", "pk"]
        indexes = [models.Index(fields=["enabled", "verb"])]

    def __str__(self) -> str:
        parts = [self.verb]
        if self.action_object_content_type_id:
            label = self._label(self.action_object_content_type)
            parts.append(
                f"on {label}" + (f" #{self.action_object_id}" if self.action_object_id else "")
            )
        if self.actor_object_content_type_id:
            label = self._label(self.actor_object_content_type)
            parts.append(
                f"by {label}" + (f" #{self.actor_object_id}" if self.actor_object_id else "")
            )
        if self.target:
            parts.append(f"target {self.target!r}")
        return " ".join(parts)

    @staticmethod
    def _label(content_type: ContentType | None) -> str:
        return f"{content_type.app_label}.{content_type.model}" if content_type else "?"

    def clean(self) -> None:
        from dsn_core.validation import validate_trigger

        validate_trigger(self)

    @classmethod
    def save_by_model(
        cls,
        verb_name: str,
        action_object: Any = None,
        actor_object: Any = None,
        target: str | None = None,
        enabled: bool = True,
    ) -> Trigger:
        """Create (or return the existing) trigger; objects may be model classes or instances."""
        action_type, action_id = content_type_for(action_object)
        actor_type, actor_id = content_type_for(actor_object)
        trigger = cls(
            verb=verb_name,
            action_object_content_type=action_type,
            action_object_id=action_id,
            actor_object_content_type=actor_type,
            actor_object_id=actor_id,
            target=target or "",
            enabled=enabled,
        )
        existing = trigger.duplicates().first()
        if existing is not None:
            return existing
        trigger.full_clean()
        trigger.save()
        return trigger

    def duplicates(self) -> models.QuerySet[Trigger]:
        return Trigger.objects.filter(
            verb=self.verb,
            action_object_content_type=self.action_object_content_type_id,
            action_object_id=self.action_object_id,
            actor_object_content_type=self.actor_object_content_type_id,
            actor_object_id=self.actor_object_id,
            target=self.target,
        ).exclude(pk=self.pk)

    @staticmethod
    def registered_verb_signal(name: str, signal: Signal, args: tuple[str, ...] = ()) -> None:
        """Register a custom signal as a verb (the seed's API; call it in ``ready()``)."""
        from dsn_core.signals import registry

        registry.register(name, signal, args, source="project")


class Backend(models.Model):
    """How to send: one messenger and one message template, plus options (no secrets)."""

    name = models.CharField(_("name"), max_length=100, blank=True)
    messenger = models.CharField(_("messenger"), max_length=100)
    message_template = models.CharField(_("message template"), max_length=100)
    options = models.JSONField(
        _("options"),
        default=dict,
        blank=True,
        help_text=_("Messenger options as JSON. Never credentials: those belong in settings."),
    )
    enabled = models.BooleanField(_("enabled"), default=True)

    class Meta:
        verbose_name = _("backend")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name or f"{self.messenger} / {self.message_template}"

    def clean(self) -> None:
        from dsn_core.validation import validate_backend

        validate_backend(self)


class Subscription(models.Model):
    """Connects a trigger to backends and to the users who should hear about it."""

    name = models.CharField(_("name"), max_length=100, blank=True)
    trigger = models.ForeignKey(
        Trigger, on_delete=models.CASCADE, related_name="subscriptions", verbose_name=_("trigger")
    )
    backends = models.ManyToManyField(
        Backend, related_name="subscriptions", verbose_name=_("backends")
    )
    receiver_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="dsn_subscriptions",
        verbose_name=_("receiver users"),
    )
    receiver_groups = models.ManyToManyField(
        Group, blank=True, related_name="dsn_subscriptions", verbose_name=_("receiver groups")
    )
    recipient_resolver = models.CharField(
        _("recipient resolver"),
        max_length=100,
        blank=True,
        help_text=_("Computes more recipients from the event (the seed's dynamic users)."),
    )
    enabled = models.BooleanField(_("enabled"), default=True)

    class Meta:
        verbose_name = _("subscription")
        ordering = ["trigger", "pk"]

    def __str__(self) -> str:
        return self.name or f"Subscription #{self.pk} to {self.trigger}"


class ContactPoint(models.Model):
    """A user's address on a channel (chat id, phone number, account id)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="dsn_contact_points",
        verbose_name=_("user"),
    )
    channel = models.CharField(_("channel"), max_length=50)
    address = models.CharField(_("address"), max_length=255)
    verified = models.BooleanField(_("verified"), default=False)
    invalid_reason = models.CharField(
        _("invalid because"),
        max_length=255,
        blank=True,
        help_text=_("Set when a provider rejected the address; deliveries then skip it."),
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("contact point")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "channel", "address"], name="dsn_contact_point_unique"
            )
        ]
        indexes = [models.Index(fields=["channel", "address"])]

    def __str__(self) -> str:
        return f"{self.channel}: {self.address}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Every path stores the normal form: code that never calls full_clean() too.
        self.address = _clean_address(self.channel, self.address)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        """The channel's plugin validates and normalises the address (``dsn_clean_address``),
        so the admin shows a refused phone number on the address field."""
        super().clean()
        if not self.address:
            return  # the field's own "required" error says it; save() still refuses
        try:
            self.address = _clean_address(self.channel, self.address)
        except ValidationError as exc:
            raise ValidationError({"address": exc.messages}) from exc

    @classmethod
    def usable_for(cls, channel: str) -> Q:
        return Q(channel=channel, verified=True, invalid_reason="")


def _clean_address(channel: str, address: str) -> str:
    from dsn_core.plugins import plugin_manager

    return plugin_manager.clean_address(channel, address)


class ConfigurationVersion(models.Model):
    """One row counting configuration changes, so every process can see it must refresh."""

    version = models.PositiveBigIntegerField(default=0)
    changed = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("configuration version")

    def __str__(self) -> str:
        return f"configuration version {self.version}"

    @classmethod
    def current(cls, using: str | None = None) -> tuple[int, str]:
        """The version and when it changed: the pair never repeats, even when a rolled-back
        bump and a committed one in another process reach the same number."""
        row = cls.objects.using(using).filter(pk=1).values_list("version", "changed").first()
        return (row[0], row[1].isoformat()) if row else (0, "")

    @classmethod
    def bump(cls, using: str | None = None) -> None:
        """Increment in the caller's transaction: others see it exactly when it commits."""
        manager = cls.objects.using(using)
        changed = manager.filter(pk=1).update(version=F("version") + 1, changed=timezone.now())
        if changed:
            return
        try:
            with transaction.atomic(using=using):
                manager.create(pk=1, version=1)
        except IntegrityError:
            manager.filter(pk=1).update(version=F("version") + 1, changed=timezone.now())
