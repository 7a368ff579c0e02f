from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DsnCoreConfig(AppConfig):
    name = "dsn_core"
    label = "dsn_core"
    verbose_name = _("Signal notifications")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Never read the database here: it breaks migrate on a fresh database. The trigger
        # index loads lazily on the first signal.
        from . import checks, config_changes  # noqa: F401 (connects receivers, registers checks)
        from .plugins import plugin_manager

        plugin_manager.load()
