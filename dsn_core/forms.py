"""Admin forms: registry-backed choices built per request, validation shared with the models.

Messenger, message template, resolver and verb ids are plain strings on the models; the
choices come from the loaded plugins each time a form is built, so installing a plugin
needs no migration. A stored id whose plugin is gone stays selectable as
"<id> (not installed)": the row opens, and saving it shows the validation error instead
of silently switching to another messenger.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from . import registry
from .models import Backend, Subscription, Trigger
from .signals import registry as signal_registry
from .validation import validate_subscription

Choices = list[tuple[str, str]]

BLANK = "---------"


def not_installed(key: str) -> str:
    return f"{key} (not installed)"


def with_current(choices: Iterable[tuple[str, str]], current: Any, blank: str) -> Choices:
    """``choices`` after a blank entry, keeping ``current`` even if nothing registers it."""
    result: Choices = [("", blank), *choices]
    if current and str(current) not in {key for key, _label in result}:
        result.append((str(current), not_installed(str(current))))
    return result


def _labelled(choices: Iterable[tuple[str, str]]) -> Choices:
    # Show the stored id next to the label: it is what settings, logs and checks name.
    return [(key, key if label == key else f"{label} [{key}]") for key, label in choices]


def messenger_choices() -> Choices:
    choices = []
    for key, label in _labelled(registry.messengers.choices()):
        cls = registry.messengers.get(key)
        kind = "broadcast" if cls is not None and cls.broadcast else "per recipient"
        channel = cls.channel if cls is not None else "?"
        choices.append((key, f"{label} — {channel}, {kind}"))
    return choices


def _needs(required: Iterable[str]) -> str:
    args = ", ".join(required)
    return f" — needs signal argument(s): {args}" if args else ""


def message_template_choices() -> Choices:
    choices = []
    for key, label in _labelled(registry.message_templates.choices()):
        cls = registry.message_templates.get(key)
        choices.append((key, label + _needs(cls.required_signal_args if cls else ())))
    return choices


def resolver_choices() -> Choices:
    choices = []
    for key, label in _labelled(registry.resolvers.choices()):
        cls = registry.resolvers.get(key)
        choices.append((key, label + _needs(cls.required_signal_args if cls else ())))
    return choices


def _content_types() -> Any:
    """Installed models' content types by app and model; stale ones (models gone) hidden."""
    # ContentType's own cache makes model_class() cheap; the table is small.
    stale = [ct.pk for ct in ContentType.objects.all() if ct.model_class() is None]
    return ContentType.objects.exclude(pk__in=stale).order_by("app_label", "model")


class TriggerForm(forms.ModelForm):  # type: ignore[type-arg]
    verb = forms.ChoiceField(
        label=_("Verb"),
        help_text=_(
            "A registered signal, with the arguments it sends in brackets. Model signals "
            "(pre_save, post_save, ...) fire for every model: choose an action object type."
        ),
    )

    class Meta:
        model = Trigger
        fields = [
            "verb",
            "action_object_content_type",
            "action_object_id",
            "actor_object_content_type",
            "actor_object_id",
            "target",
            "enabled",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        verb = self.fields["verb"]
        assert isinstance(verb, forms.ChoiceField)
        verb.choices = with_current(signal_registry.choices(), self.initial.get("verb"), BLANK)
        for name in ("action_object_content_type", "actor_object_content_type"):
            field = self.fields[name]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = _content_types()


class BackendForm(forms.ModelForm):  # type: ignore[type-arg]
    messenger = forms.ChoiceField(
        label=_("Messenger"),
        help_text=_("How messages travel; provided by the installed DSN plugins."),
    )
    message_template = forms.ChoiceField(
        label=_("Message template"),
        help_text=_(
            "What the message says. A template that needs signal arguments can only be used "
            "by subscriptions whose trigger's signal sends them."
        ),
    )

    class Meta:
        model = Backend
        fields = ["name", "messenger", "message_template", "options", "enabled"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, choices in (
            ("messenger", messenger_choices()),
            ("message_template", message_template_choices()),
        ):
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = with_current(choices, self.initial.get(name), BLANK)

    def clean(self) -> dict[str, Any]:
        """A backend already used by subscriptions must keep working for their triggers:
        switching its template to one that needs another signal argument is refused."""
        cleaned: dict[str, Any] = super().clean() or {}
        template = cleaned.get("message_template")
        if self.instance.pk is None or not template:
            return cleaned
        probe = Backend(
            name=self.instance.name,
            messenger=cleaned.get("messenger", ""),
            message_template=template,
        )
        for subscription in self.instance.subscriptions.select_related("trigger"):
            try:
                validate_subscription(subscription.trigger.verb, [probe], "")
            except ValidationError as exc:
                self.add_error("message_template", [f"{subscription}: {m}" for m in exc.messages])
        return cleaned


class SubscriptionForm(forms.ModelForm):  # type: ignore[type-arg]
    """Used alone and inline on the trigger; the trigger's verb decides what is valid.

    Inline, ``cleaned_data["trigger"]`` is the parent form's trigger with the verb just
    submitted, so changing a trigger's verb re-checks its subscriptions.
    """

    recipient_resolver = forms.ChoiceField(
        label=_("Recipient resolver"),
        required=False,
        help_text=_("Computes more recipients from the event (the seed's dynamic users)."),
    )

    class Meta:
        model = Subscription
        fields = [
            "name",
            "trigger",
            "backends",
            "receiver_users",
            "receiver_groups",
            "recipient_resolver",
            "enabled",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["recipient_resolver"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = with_current(
            resolver_choices(), self.initial.get("recipient_resolver"), str(_("— none —"))
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        assert cleaned is not None
        trigger = cleaned.get("trigger")
        backends = cleaned.get("backends")
        if isinstance(trigger, Trigger) and backends is not None:
            try:
                validate_subscription(
                    trigger.verb, backends, cleaned.get("recipient_resolver") or ""
                )
            except ValidationError as exc:
                self.add_error(None, exc)
        return cleaned
