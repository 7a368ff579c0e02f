"""URLs for a plugin's test suite: the admin, and DSN's plugin URLs under ``dsn/``."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("dsn/", include("dsn_core.urls")),
]
