"""Django template engines for message templates, independent of ``TEMPLATES`` backends.

Message templates always use the Django template language (the seed's contract), even
when a site renders its pages with Jinja2. Files are looked up in the project's template
dirs and installed apps first, so a site can override them, then in the ``templates/``
folder of the package that defines the template class, so a plugin's files render
without the plugin being in ``INSTALLED_APPS``.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template import Engine, Template, TemplateDoesNotExist


def _django_backend_options() -> tuple[list[str], dict[str, Any]]:
    backends: list[dict[str, Any]] = settings.TEMPLATES
    for backend in backends:
        if backend.get("BACKEND") == "django.template.backends.django.DjangoTemplates":
            options: dict[str, Any] = backend.get("OPTIONS", {})
            extra: dict[str, Any] = {
                k: options[k] for k in ("libraries", "builtins") if k in options
            }
            return [str(d) for d in backend.get("DIRS", [])], extra
    return [], {}


@functools.cache
def project_engine(autoescape: bool) -> Engine:
    dirs, extra = _django_backend_options()
    return Engine(dirs=dirs, app_dirs=True, autoescape=autoescape, **extra)


@functools.cache
def _package_engine(package_dir: str, autoescape: bool) -> Engine:
    _, extra = _django_backend_options()
    return Engine(dirs=[package_dir], app_dirs=False, autoescape=autoescape, **extra)


def package_templates_dir(module: str) -> str | None:
    spec = importlib.util.find_spec(module.split(".")[0])
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "templates"
    return str(path) if path.is_dir() else None


def from_string(source: str, *, autoescape: bool) -> Template:
    return project_engine(autoescape).from_string(source)


def from_file(name: str, *, module: str, autoescape: bool) -> Template:
    try:
        return project_engine(autoescape).get_template(name)
    except TemplateDoesNotExist:
        package_dir = package_templates_dir(module)
        if package_dir is None:
            raise
        return _package_engine(package_dir, autoescape).get_template(name)


@receiver(setting_changed)
def _reset_engines(*, setting: str, **kwargs: Any) -> None:
    if setting in {"TEMPLATES", "INSTALLED_APPS"}:
        project_engine.cache_clear()
        _package_engine.cache_clear()
