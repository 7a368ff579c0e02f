"""The Django admin for DSN: triggers with their subscriptions inline, backends, contact
points, and a page listing the loaded plugins and their load errors.

ConfigurationVersion is internal bookkeeping and is not registered.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import registry
from .forms import BackendForm, SubscriptionForm, TriggerForm, not_installed
from .matching import configuration_changed
from .models import Backend, ContactPoint, Subscription, Trigger
from .plugin_info import PluginInfo
from .plugins import plugin_manager
from .signals import registry as signal_registry

PLUGINS_URL_NAME = "dsn_core_plugins"


def _registry_label(entries: registry.Registry[Any], key: str) -> str:
    cls = entries.get(key)
    return not_installed(key) if cls is None else str(getattr(cls, "label", key) or key)


class RegistryValueFilter(admin.SimpleListFilter):
    """Filter on a stored registry id, labelled from the registry; ids no plugin provides
    any more are listed too, so an administrator can find the rows they break."""

    entries: registry.Registry[Any]
    stored_field: str

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        queryset = model_admin.get_queryset(request)
        stored = set(queryset.values_list(self.stored_field, flat=True).distinct())
        keys = stored | {entry.id for entry in self.entries}
        return [(key, _registry_label(self.entries, key)) for key in sorted(keys)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(**{self.stored_field: value}) if value else queryset


class MessengerFilter(RegistryValueFilter):
    title = _("messenger")
    parameter_name = stored_field = "messenger"
    entries = registry.messengers


class MessageTemplateFilter(RegistryValueFilter):
    title = _("message template")
    parameter_name = stored_field = "message_template"
    entries = registry.message_templates


class ConfigurationAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Shared by the configuration models: bulk enable/disable that refreshes matching."""

    actions = ["enable", "disable"]

    def _set_enabled(self, request: HttpRequest, queryset: QuerySet[Any], enabled: bool) -> None:
        count = queryset.update(enabled=enabled)
        # update() sends no post_save: tell every process's trigger index ourselves.
        configuration_changed(queryset.db)
        self.message_user(
            request,
            ngettext("%(count)d row updated.", "%(count)d rows updated.", count) % {"count": count},
            messages.SUCCESS,
        )

    @admin.action(description=_("Enable selected %(verbose_name_plural)s"))
    def enable(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._set_enabled(request, queryset, True)

    @admin.action(description=_("Disable selected %(verbose_name_plural)s"))
    def disable(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._set_enabled(request, queryset, False)


class SubscriptionInline(admin.StackedInline):  # type: ignore[type-arg]
    model = Subscription
    form = SubscriptionForm
    fields = [
        "name",
        "backends",
        "receiver_users",
        "receiver_groups",
        "recipient_resolver",
        "enabled",
    ]
    filter_horizontal = ["backends", "receiver_users", "receiver_groups"]
    extra = 1

    def get_extra(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> int:
        # A new trigger gets one blank subscription; an existing one only "Add another".
        return 0 if obj is not None and obj.subscriptions.exists() else 1


@admin.register(Trigger)
class TriggerAdmin(ConfigurationAdmin):
    form = TriggerForm
    inlines = [SubscriptionInline]
    # __str__ already names the actor and target; the rest are what people sort by.
    list_display = [
        "__str__",
        "verb",
        "action_object_content_type",
        "subscription_count",
        "enabled",
    ]
    list_filter = [
        "verb",
        ("action_object_content_type", admin.RelatedOnlyFieldListFilter),
        "enabled",
    ]
    list_select_related = ["action_object_content_type", "actor_object_content_type"]
    search_fields = ["verb", "target", "action_object_id", "actor_object_id"]
    readonly_fields = ["created", "updated"]
    fieldsets = [
        (None, {"fields": ["verb", "enabled"]}),
        (
            _("Action object: the signal's sender or instance"),
            {"fields": ["action_object_content_type", "action_object_id"]},
        ),
        (
            _("Actor and target: matched against the signal's arguments"),
            {"fields": ["actor_object_content_type", "actor_object_id", "target"]},
        ),
        (_("History"), {"fields": ["created", "updated"], "classes": ["collapse"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Trigger]:
        queryset: QuerySet[Trigger] = super().get_queryset(request)
        return queryset.annotate(subscription_total=Count("subscriptions"))

    @admin.display(description=_("subscriptions"), ordering="subscription_total")
    def subscription_count(self, obj: Trigger) -> int:
        return int(getattr(obj, "subscription_total", 0))


@admin.register(Backend)
class BackendAdmin(ConfigurationAdmin):
    form = BackendForm
    list_display = ["__str__", "messenger_label", "message_template_label", "enabled"]
    list_filter = [MessengerFilter, MessageTemplateFilter, "enabled"]
    search_fields = ["name", "messenger", "message_template"]

    @admin.display(description=_("messenger"), ordering="messenger")
    def messenger_label(self, obj: Backend) -> str:
        return _registry_label(registry.messengers, obj.messenger)

    @admin.display(description=_("message template"), ordering="message_template")
    def message_template_label(self, obj: Backend) -> str:
        return _registry_label(registry.message_templates, obj.message_template)

    def get_urls(self) -> list[URLPattern]:
        # Before the defaults: "<path:object_id>/" would swallow "plugins/".
        plugins = path(
            "plugins/",
            self.admin_site.admin_view(self.plugins_view),
            name=PLUGINS_URL_NAME,
        )
        return [plugins, *super().get_urls()]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        broken = [info for info in plugin_manager.plugins.values() if info.errors]
        if broken and request.method == "GET":
            self.message_user(
                request,
                format_html(
                    '{} <a href="{}">{}</a>',
                    ngettext(
                        "A DSN plugin failed to load and was skipped: %(names)s.",
                        "%(count)d DSN plugins failed to load and were skipped: %(names)s.",
                        len(broken),
                    )
                    % {
                        "count": len(broken),
                        "names": ", ".join(info.display_name for info in broken),
                    },
                    reverse(f"{self.admin_site.name}:{PLUGINS_URL_NAME}"),
                    _("See the DSN plugins page."),
                ),
                messages.WARNING,
            )
        return super().changelist_view(request, extra_context)

    def plugins_view(self, request: HttpRequest) -> HttpResponse:
        """What was discovered, what each plugin provides, and why a plugin was skipped."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": _("DSN plugins"),
            "opts": self.opts,
            "plugins": [_plugin_row(info) for info in plugin_manager.plugins.values()],
            "signals": list(signal_registry),
            "error_count": len(plugin_manager.errors),
        }
        return TemplateResponse(request, "admin/dsn_core/plugins.html", context)


def _plugin_row(info: PluginInfo) -> dict[str, Any]:
    return {
        "info": info,
        "provides": [(kind, sorted(ids)) for kind, ids in sorted(info.provides.items())],
        "status": _("blocked by settings")
        if info.blocked
        else _("loaded")
        if info.loaded and not info.errors
        else _("skipped"),
    }


@admin.register(Subscription)
class SubscriptionAdmin(ConfigurationAdmin):
    form = SubscriptionForm
    list_display = ["__str__", "trigger", "backend_list", "recipient_resolver", "enabled"]
    list_filter = ["enabled", "trigger__verb", "backends"]
    list_select_related = ["trigger", "trigger__action_object_content_type"]
    search_fields = ["name", "trigger__verb", "trigger__target", "recipient_resolver"]
    filter_horizontal = ["backends", "receiver_users", "receiver_groups"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Subscription]:
        queryset: QuerySet[Subscription] = super().get_queryset(request)
        return queryset.prefetch_related("backends")

    @admin.display(description=_("backends"))
    def backend_list(self, obj: Subscription) -> str:
        return format_html_join(", ", "{}", ((str(b),) for b in obj.backends.all()))


class InvalidFilter(admin.SimpleListFilter):
    title = _("invalid")
    parameter_name = "invalid"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", str(_("Yes"))), ("no", str(_("No")))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.exclude(invalid_reason="")
        if self.value() == "no":
            return queryset.filter(invalid_reason="")
        return queryset


@admin.register(ContactPoint)
class ContactPointAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["address", "channel", "user", "verified", "is_valid", "updated"]
    list_filter = ["channel", "verified", InvalidFilter]
    list_select_related = ["user"]
    search_fields = ["address", "channel"]
    # No autocomplete: it needs an admin for the user model, which a custom one may lack.
    raw_id_fields = ["user"]
    readonly_fields = ["created", "updated"]

    def get_search_fields(self, request: HttpRequest) -> list[str]:
        # The username field's name depends on the (possibly custom) user model.
        return [*self.search_fields, f"user__{get_user_model().USERNAME_FIELD}"]

    @admin.display(description=_("valid"), boolean=True, ordering="invalid_reason")
    def is_valid(self, obj: ContactPoint) -> bool:
        return not obj.invalid_reason


from . import admin_outbox  # noqa: E402, F401 (registers Event and Delivery)
