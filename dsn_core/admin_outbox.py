"""The Django admin for the outbox: events and their deliveries, read-only, with the
actions an operator needs ("retry now", "cancel").

Rows are written by the delivery machinery, never by hand: no add, no edit, and only a
superuser deletes. The message of a delivery and the context of an event are shown as
escaped source: an html part is what a recipient's mail client would render, never
something to render inside the admin.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.auth import get_user_model
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.text import Truncator, capfirst
from django.utils.timesince import timeuntil
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import delivery_actions, registry
from .admin import MessengerFilter, _registry_label
from .models import Delivery, DeliveryStatus, Event

#: The message parts shown first, in this order; any other part follows, sorted.
KNOWN_PARTS = {"subject": _("Subject"), "text": _("Text"), "html": _("HTML (source)")}


def _pre(text: str) -> SafeString:
    return format_html('<pre class="dsn-source">{}</pre>', text)


def _admin_link(name: str, pk: Any, text: Any) -> SafeString:
    return format_html(
        '<a href="{}">{}</a>', reverse(f"admin:dsn_core_{name}_change", args=[pk]), text
    )


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Opens each row as "View" (no form, no save button); actions still run, since
    they need the model-level change permission only."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # Not "Select delivery to change": nothing here is changed by hand.
        title = capfirst(self.opts.verbose_name_plural)
        return super().changelist_view(request, {"title": title, **(extra_context or {})})

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return flatten_fieldsets(self.get_fieldsets(request, obj))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser) and super().has_delete_permission(request, obj)


class EventListFilter(admin.SimpleListFilter):
    """``?event__id__exact=N``, the link from an event; shown only while it filters
    (listing every event as a choice would not scale)."""

    title = _("event")
    parameter_name = "event__id__exact"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        # A filter with no choice is dropped, and its parameter with it: an event deleted
        # since would list every delivery. So the value is always a choice.
        value = self.value()
        if not value:
            return []
        event = Event.objects.filter(pk=value).first() if value.isdigit() else None
        return [(value, f"#{value} {event}" if event else f"#{value}")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value:
            return queryset
        if not value.isdigit():  # the changelist answers with its "?e=1" page
            raise IncorrectLookupParameters(f"{self.parameter_name}={value!r}")
        return queryset.filter(event_id=int(value))


class BackendListFilter(admin.RelatedFieldListFilter):
    """By backend; deliveries whose backend was deleted are listed under "(deleted)"."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.empty_value_display = format_html("{}", _("(deleted)"))


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "status_link",
        "event_link",
        "recipient",
        "address",
        "messenger_id",
        "attempts",
        "next_attempt_in",
        "short_error",
        "created",
    ]
    list_filter = [
        "status",
        "provider_status",
        MessengerFilter,
        "created",
        ("backend", BackendListFilter),
        EventListFilter,
    ]
    list_select_related = ["event", "user", "backend"]
    search_fields = ["address", "last_error", "provider_message_id"]
    date_hierarchy = "created"
    actions = ["retry_now", "cancel"]
    fieldsets = [
        (None, {"fields": ["event_link", "status", "recipient", "address", "messenger_label"]}),
        (
            _("Attempts"),
            {
                "fields": [
                    "attempts",
                    "next_attempt",
                    "claimed_at",
                    "last_error",
                    "provider_message_id",
                    "provider_details",
                    "provider_status",
                    "provider_updated",
                    "backend",
                    "created",
                    "finished",
                ]
            },
        ),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Delivery]:
        # The detail page shows the event, user and backend too: same joins, no extra query.
        queryset: QuerySet[Delivery] = super().get_queryset(request)
        return queryset.select_related("event", "user", "backend")

    def get_search_fields(self, request: HttpRequest) -> list[str]:
        # The username field's name depends on the (possibly custom) user model.
        return [*self.search_fields, f"user__{get_user_model().USERNAME_FIELD}"]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        parts = (obj.message or {}) if obj is not None else {}
        names = [f"message_{part}" for part in ("subject", "text", "html") if part in parts]
        if set(parts) - set(KNOWN_PARTS):
            names.append("message_other_parts")
        message = (_("Message"), {"fields": names or ["message_state"]})
        return [self.fieldsets[0], message, *self.fieldsets[1:]]

    # -- columns and fields -------------------------------------------------------------

    @admin.display(description=_("status"), ordering="status")
    def status_link(self, obj: Delivery) -> str:
        return str(obj.get_status_display())

    @admin.display(description=_("event"), ordering="event")
    def event_link(self, obj: Delivery) -> SafeString:
        return _admin_link("event", obj.event_id, Truncator(str(obj.event)).chars(50))

    @admin.display(description=_("recipient"), ordering="user")
    def recipient(self, obj: Delivery) -> str:
        return obj.user.get_username() if obj.user is not None else str(_("(broadcast)"))

    @admin.display(description=_("messenger"), ordering="messenger")
    def messenger_label(self, obj: Delivery) -> str:
        return _registry_label(registry.messengers, obj.messenger)

    @admin.display(description=_("messenger"), ordering="messenger")
    def messenger_id(self, obj: Delivery) -> SafeString:
        # The id: labels are long, and the id is what settings, logs and `dsn stats` name.
        label = _registry_label(registry.messengers, obj.messenger)
        return format_html('<span title="{}">{}</span>', label, obj.messenger)

    def _due(self, obj: Delivery) -> tuple[str, str] | None:
        """When a pending delivery is tried next, exact and relative; ``None`` for the
        others, where ``next_attempt_at`` is a leftover."""
        if obj.status != DeliveryStatus.PENDING:
            return None
        when = obj.next_attempt_at
        exact = formats.date_format(timezone.localtime(when), "DATETIME_FORMAT")
        if when <= timezone.now():
            return exact, str(_("due"))
        return exact, str(_("in %(time)s") % {"time": timeuntil(when)})

    @admin.display(description=_("next attempt"), ordering="next_attempt_at")
    def next_attempt(self, obj: Delivery) -> str:
        # A read-only field shows None as "None": give it the admin's empty value.
        due = self._due(obj)
        return self.get_empty_value_display() if due is None else f"{due[0]} ({due[1]})"

    @admin.display(description=_("next attempt"), ordering="next_attempt_at")
    def next_attempt_in(self, obj: Delivery) -> SafeString | None:
        # Relative, what an operator asks; the exact time on hover.
        due = self._due(obj)
        return None if due is None else format_html('<span title="{}">{}</span>', *due)

    @admin.display(description=_("last error"))
    def short_error(self, obj: Delivery) -> SafeString | str:
        if not obj.last_error:
            return ""
        short = Truncator(obj.last_error.splitlines()[0]).chars(50)
        return format_html('<span title="{}">{}</span>', obj.last_error, short)

    def _part(self, obj: Delivery, part: str) -> str:
        return str((obj.message or {}).get(part, ""))

    @admin.display(description=KNOWN_PARTS["subject"])
    def message_subject(self, obj: Delivery) -> str:
        return self._part(obj, "subject")

    @admin.display(description=KNOWN_PARTS["text"])
    def message_text(self, obj: Delivery) -> SafeString:
        return _pre(self._part(obj, "text"))

    @admin.display(description=KNOWN_PARTS["html"])
    def message_html(self, obj: Delivery) -> SafeString:
        return _pre(self._part(obj, "html"))

    @admin.display(description=_("Other parts"))
    def message_other_parts(self, obj: Delivery) -> SafeString:
        others = sorted(set(obj.message or {}) - set(KNOWN_PARTS))
        return format_html_join(
            "", "<p><strong>{}</strong></p>{}", ((p, _pre(self._part(obj, p))) for p in others)
        )

    @admin.display(description=_("rendered"))
    def message_state(self, obj: Delivery) -> str:
        if obj.status == DeliveryStatus.SKIPPED:
            return str(_("Not rendered: the delivery was skipped before its first attempt."))
        return str(_("Not rendered yet: a message is rendered at its first attempt."))

    # -- actions ------------------------------------------------------------------------

    @admin.action(description=_("Retry selected deliveries now"), permissions=["change"])
    def retry_now(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        report = delivery_actions.retry_now(queryset, by=request.user.get_username())
        if report.retried:
            retried = ngettext(
                "%(count)d delivery is pending again and due now",
                "%(count)d deliveries are pending again and due now",
                report.retried,
            ) % {"count": report.retried}
            tasks = ngettext(
                "%(count)d task enqueued", "%(count)d tasks enqueued", report.tasks
            ) % {"count": report.tasks}
            self.message_user(request, f"{retried} ({tasks}).", messages.SUCCESS)
        else:
            self.message_user(request, _("No delivery was retried."), messages.WARNING)
        for number, level, singular, plural in [
            (
                report.in_progress_or_sent,
                messages.WARNING,
                "%(count)d delivery was left alone: it is sent or being sent.",
                "%(count)d deliveries were left alone: they are sent or being sent.",
            ),
            (
                report.backend_deleted,
                messages.ERROR,
                "%(count)d delivery cannot be retried: its backend was deleted.",
                "%(count)d deliveries cannot be retried: their backend was deleted.",
            ),
            (
                report.no_address,
                messages.ERROR,
                "%(count)d delivery cannot be retried: its recipient has no address on "
                "the messenger's channel, or the messenger is not installed.",
                "%(count)d deliveries cannot be retried: their recipients have no address on "
                "the messenger's channel, or the messenger is not installed.",
            ),
        ]:
            if number:
                self.message_user(
                    request, ngettext(singular, plural, number) % {"count": number}, level
                )

    @admin.action(description=_("Cancel selected pending deliveries"), permissions=["change"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        selected = queryset.count()
        count = delivery_actions.cancel(queryset, by=request.user.get_username())
        if count:
            self.message_user(
                request,
                ngettext(
                    "%(count)d pending delivery cancelled.",
                    "%(count)d pending deliveries cancelled.",
                    count,
                )
                % {"count": count},
                messages.SUCCESS,
            )
        else:
            self.message_user(request, _("No delivery was cancelled."), messages.WARNING)
        if left := selected - count:
            self.message_user(
                request,
                ngettext(
                    "%(count)d delivery was left alone: only a pending delivery can be cancelled.",
                    "%(count)d deliveries were left alone: only pending deliveries can be "
                    "cancelled.",
                    left,
                )
                % {"count": left},
                messages.WARNING,
            )


def _count_of(status: str) -> Coalesce:
    """One correlated count per status: scales with the page, not with the whole table
    (a GROUP BY over events joined to deliveries would count every event's rows)."""
    counted = (
        Delivery.objects.filter(event=OuterRef("pk"), status=status)
        .order_by()
        .values("event")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = [
        "created",
        "verb",
        "action_object_repr",
        "actor_object_repr",
        "target",
        "delivery_summary",
    ]
    list_filter = ["verb", "created"]
    search_fields = ["action_object_repr", "actor_object_repr", "target"]
    date_hierarchy = "created"
    fieldsets = [
        (None, {"fields": ["created", "verb", "delivery_summary"]}),
        (
            _("Objects, as they were when the signal fired"),
            {
                "fields": [
                    "action_object_repr",
                    "action_object_content_type",
                    "action_object_id",
                    "actor_object_repr",
                    "actor_object_content_type",
                    "actor_object_id",
                    "target",
                ]
            },
        ),
        (_("Matched"), {"fields": ["trigger_links", "pretty_context"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Event]:
        queryset: QuerySet[Event] = super().get_queryset(request)
        return queryset.select_related(
            "action_object_content_type", "actor_object_content_type"
        ).annotate(**{f"dsn_{status}": _count_of(status) for status in DeliveryStatus.values})

    @admin.display(description=_("deliveries"))
    def delivery_summary(self, obj: Event) -> SafeString:
        counts = [(status, int(getattr(obj, f"dsn_{status}", 0))) for status in DeliveryStatus]
        total = sum(n for _status, n in counts)
        url = reverse("admin:dsn_core_delivery_changelist") + f"?event__id__exact={obj.pk}"
        link = format_html(
            '<a href="{}">{}</a>',
            url,
            ngettext("%(count)d delivery", "%(count)d deliveries", total) % {"count": total},
        )
        summary = ", ".join(f"{n} {status.label}" for status, n in counts if n)
        return format_html("{}: {}", link, summary) if summary else link

    @admin.display(description=_("triggers"))
    def trigger_links(self, obj: Event) -> SafeString:
        return format_html_join(
            ", ", "{}", ((_admin_link("trigger", pk, f"#{pk}"),) for pk in obj.trigger_ids)
        )

    @admin.display(description=_("context"))
    def pretty_context(self, obj: Event) -> SafeString:
        return _pre(json.dumps(obj.context, indent=2, sort_keys=True, ensure_ascii=False))
