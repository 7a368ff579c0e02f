"""``path("dsn/", include("dsn_core.urls"))`` mounts each plugin's URLs under its name."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path

from .plugins import plugin_manager

app_name = "dsn"

urlpatterns: list[URLPattern | URLResolver] = [
    path(f"{name}/", include((patterns, name))) for name, patterns in plugin_manager.urls.items()
]
