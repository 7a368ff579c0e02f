from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils.translation import ngettext

from .models import Order, new_tracking_number

if TYPE_CHECKING:
    _OrderAdminBase = admin.ModelAdmin[Order]
else:  # ModelAdmin is generic only in django-stubs, not at run time
    _OrderAdminBase = admin.ModelAdmin


@admin.register(Order)
class OrderAdmin(_OrderAdminBase):
    list_display = ("__str__", "customer", "status", "tracking_number", "created")
    list_filter = ("status",)
    search_fields = ("item", "customer__username", "tracking_number")
    readonly_fields = ("created",)
    actions = ("mark_shipped",)

    @admin.action(description="Mark shipped", permissions=["change"])
    def mark_shipped(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        actor = request.user
        shipped = sum(
            order.mark_shipped(actor, new_tracking_number())
            for order in queryset.select_related("customer")
        )
        self.message_user(
            request,
            ngettext(
                "%(count)d order shipped: see its notifications in the demo's terminal.",
                "%(count)d orders shipped: see their notifications in the demo's terminal.",
                shipped,
            )
            % {"count": shipped},
            messages.SUCCESS if shipped else messages.WARNING,
        )

    def save_model(
        self, request: HttpRequest, obj: Order, form: ModelForm[Any], change: bool
    ) -> None:
        # Setting the status to shipped in the form ships the order as the action does.
        ships = obj.status == Order.Status.SHIPPED and (not change or "status" in form.changed_data)
        if ships and not obj.tracking_number:
            obj.tracking_number = new_tracking_number()
        super().save_model(request, obj, form, change)
        if ships:
            # The admin saves inside a transaction, so DSN sends after it commits.
            obj.announce_shipped(request.user)
