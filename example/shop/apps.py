from __future__ import annotations

from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "shop"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here, not at module level: models are not loaded before ready().
        from dsn_core.message_templates import Add_Message_Template
        from dsn_core.models import Trigger

        from .message_templates import OrderAuditTemplate
        from .signals import order_shipped

        # The seed's way to make a custom signal a verb, plus the arguments it sends, so
        # DSN can check a subscription's templates against them.
        Trigger.registered_verb_signal("order_shipped", order_shipped, ("order", "tracking_number"))
        # The seed's way to add a template still works; shop/dsn_plugin.py shows the hook.
        Add_Message_Template(OrderAuditTemplate)
