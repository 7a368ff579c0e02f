from __future__ import annotations

from django.apps import AppConfig


class TestAppConfig(AppConfig):
    name = "tests.testapp"
    label = "testapp"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from dsn_core.models import Trigger

        from .signals import custom_signal, notify_audiences

        # The seed's way of registering custom signals, with DSN's declared arguments.
        Trigger.registered_verb_signal("custom_signal", custom_signal, ("parameter1",))
        Trigger.registered_verb_signal("notify_audiences", notify_audiences, ("movie",))
