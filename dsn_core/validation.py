"""Validation shared by model ``clean()`` and the admin forms: one place, one wording."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError

from . import registry
from .exceptions import UnknownSignal
from .signals import registry as signal_registry

if TYPE_CHECKING:
    from django.contrib.contenttypes.models import ContentType

    from .models import Backend, Trigger


def _check_object(field: str, content_type: ContentType | None, object_id: str) -> dict[str, str]:
    if not object_id:
        return {}
    if content_type is None:
        return {field: "An object id needs an object type; choose the type or clear the id."}
    model = content_type.model_class()
    if model is None:
        return {field: f"The model {content_type} is not installed any more."}
    try:
        exists = model._default_manager.filter(pk=object_id).exists()
    except (ValueError, TypeError, ValidationError):
        exists = False
    if not exists:
        return {field: f"No {model._meta.verbose_name} with id {object_id!r} exists."}
    return {}


def validate_trigger(trigger: Trigger) -> None:
    errors: dict[str, str] = {}
    try:
        spec = signal_registry.get(trigger.verb)
    except UnknownSignal as exc:
        raise ValidationError({"verb": str(exc)}) from None
    if spec.requires_action_object and trigger.action_object_content_type_id is None:
        errors["action_object_content_type"] = (
            f"{spec.name} fires for every model in the site; choose the model (action object "
            "type) this trigger watches."
        )
    errors |= _check_object(
        "action_object_id", trigger.action_object_content_type, trigger.action_object_id
    )
    errors |= _check_object(
        "actor_object_id", trigger.actor_object_content_type, trigger.actor_object_id
    )
    if errors:
        raise ValidationError(errors)
    duplicate = trigger.duplicates().first()
    if duplicate is not None:
        raise ValidationError(
            f"An identical trigger already exists (#{duplicate.pk}: {duplicate}); add a "
            "subscription to it instead."
        )


def validate_backend(backend: Backend) -> None:
    errors: dict[str, str] = {}
    if backend.messenger not in registry.messengers:
        known = ", ".join(e.id for e in registry.messengers) or "none"
        errors["messenger"] = (
            f"Unknown messenger {backend.messenger!r}: is its plugin installed and loaded? "
            f"Known messengers: {known}. See 'manage.py dsn plugins'."
        )
    if backend.message_template not in registry.message_templates:
        known = ", ".join(e.id for e in registry.message_templates) or "none"
        errors["message_template"] = (
            f"Unknown message template {backend.message_template!r}. Known templates: {known}."
        )
    if not isinstance(backend.options, dict):
        errors["options"] = 'Options must be a JSON object, e.g. {} or {"stream": "stderr"}.'
    if errors:
        raise ValidationError(errors)


def validate_subscription(verb: str, backends: Iterable[Backend], resolver_id: str) -> None:
    """Check that the trigger's signal sends every argument the templates and resolver read."""
    try:
        spec = signal_registry.get(verb)
    except UnknownSignal:
        return  # reported on the trigger itself
    sent = set(spec.args)
    sends = ", ".join(spec.args) or "no arguments"
    errors: list[str] = []
    resolver = registry.resolvers.get(resolver_id) if resolver_id else None
    if resolver_id and resolver is None:
        known = ", ".join(e.id for e in registry.resolvers) or "none"
        errors.append(f"Unknown recipient resolver {resolver_id!r}. Known resolvers: {known}.")
    for backend in backends:
        template = registry.message_templates.get(backend.message_template)
        if template is None:
            errors.append(
                f"Backend {backend} uses message template {backend.message_template!r}, "
                "which is not installed."
            )
            continue
        missing = [arg for arg in template.required_signal_args if arg not in sent]
        if missing:
            errors.append(
                f"Message template {template.id!r} (backend {backend}) needs signal "
                f"argument(s) {', '.join(missing)}, which {spec.name} does not send "
                f"(it sends: {sends})."
            )
    if resolver is not None:
        missing = [arg for arg in resolver.required_signal_args if arg not in sent]
        if missing:
            errors.append(
                f"Recipient resolver {resolver.id!r} needs signal argument(s) "
                f"{', '.join(missing)}, which {spec.name} does not send (it sends: {sends})."
            )
    if errors:
        raise ValidationError(errors)
