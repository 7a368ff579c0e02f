"""System checks turn misconfiguration into ids with hints."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.checks import run_checks

from dsn_core import hookimpl, tasks
from dsn_core.message_templates import BaseMessageTemplate
from dsn_core.models import Backend


def ids(**kwargs: Any) -> list[str]:
    return [message.id for message in run_checks(**kwargs) if message.id and "dsn" in message.id]


def test_default_configuration_is_clean(db):
    assert ids() == []


@pytest.mark.parametrize(
    ("dsn", "expected"),
    [
        ("not a dict", "dsn.E001"),
        ({"PLUGINS": "one.module"}, "dsn.E001"),
        ({"BLOCKED_PLUGINS": [1]}, "dsn.E001"),
        ({"REFRESH_INTERVAL": -1}, "dsn.E001"),
        ({"REFRESH_INTERVAL": "5"}, "dsn.E001"),
        ({"REFRESH_INTERVALS": 5}, "dsn.W002"),
    ],
)
def test_wrong_settings_are_reported(db, settings, dsn, expected):
    settings.DSN = dsn
    messages = [m for m in run_checks() if m.id == expected]
    assert messages, run_checks()
    assert messages[0].hint


@pytest.mark.parametrize(
    ("dsn", "expected"),
    [
        ({"TASK_BACKEND": "missing"}, "'missing', which is not a usable TASKS backend"),
        ({"QUEUE": "notifications"}, "DSN['QUEUE'] is 'notifications'"),
    ],
)
def test_task_backend_misconfiguration_is_reported(db, settings, dsn, expected):
    settings.TASKS = {
        "default": {
            "BACKEND": type(tasks.task_backends["default"]).__module__
            + "."
            + type(tasks.task_backends["default"]).__qualname__,
            "QUEUES": ["default"],
        }
    }
    settings.DSN = {**settings.DSN, **dsn}

    errors = [m for m in run_checks() if m.id == "dsn.E002"]

    assert len(errors) == 1
    assert expected in errors[0].msg


def test_a_plugin_section_is_not_an_unknown_setting(db, settings):
    settings.DSN = {**settings.DSN, "EMAIL": {"FROM": "x@example.com"}}
    assert ids() == []


class BrokenTemplate(BaseMessageTemplate):
    id = "broken_template"
    template_string = "{% for %}"


class BrokenTemplatePlugin:
    @hookimpl
    def dsn_register_message_templates(self, register: Any) -> None:
        register(BrokenTemplate)


def test_template_syntax_error_is_a_check_error(db, dsn_plugin):
    dsn_plugin(BrokenTemplatePlugin(), name="broken-template-plugin")

    errors = [m for m in run_checks() if m.id == "dsn.E006"]

    assert [e.obj for e in errors] == ["broken_template"]
    assert "registered by broken-template-plugin" in (errors[0].hint or "")


class RaisingPlugin:
    @hookimpl
    def dsn_register_messengers(self, register: Any) -> None:
        raise RuntimeError("cannot import the SDK")


def test_a_plugin_that_raises_is_a_warning_and_django_still_starts(db, dsn_plugin):
    dsn_plugin(RaisingPlugin(), name="raising-plugin")

    warnings = [m for m in run_checks() if m.id == "dsn.W001"]

    assert len(warnings) == 1
    assert "cannot import the SDK" in warnings[0].msg
    assert "BLOCKED_PLUGINS" in (warnings[0].hint or "")


def test_backend_naming_an_uninstalled_messenger_is_reported(db):
    Backend.objects.create(name="Old SMS", messenger="twilio_sms", message_template="event_summary")

    warnings = [m for m in run_checks() if m.id == "dsn.W003"]

    assert len(warnings) == 1
    assert "twilio_sms" in warnings[0].msg
    assert "Old SMS" in warnings[0].msg
