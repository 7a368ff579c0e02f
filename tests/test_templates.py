"""Message templates: parts, escaping, files from plugin packages, and errors."""

from __future__ import annotations

import importlib
import textwrap
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User

from dsn_core.exceptions import TemplateRenderError
from dsn_core.message_templates import BaseMessageTemplate, SimplePrintMessageTemplate

TRIGGER_CONTEXT = {"verb": "order_shipped", "action_object": "Order 7", "actor_object": None}


def user(name: str = "ann") -> User:
    return User(username=name)


def test_parts_render_with_trigger_context_signal_kwargs_and_user():
    class Shipped(BaseMessageTemplate):
        parts = {"subject": "Order {{ order }} shipped"}
        template_string = "{{ user.get_username }}: {{ verb }}, tracking {{ tracking_number }}"

    message = Shipped().render_message(
        user(), TRIGGER_CONTEXT, {"order": 7, "tracking_number": "TN1"}
    )
    assert message.parts == {
        "text": "ann: order_shipped, tracking TN1",
        "subject": "Order 7 shipped",
    }


def test_only_the_html_part_is_autoescaped():
    class Both(BaseMessageTemplate):
        template_string = "{{ note }}"
        parts = {"html": "<p>{{ note }}</p>", "subject": "{{ note }}"}

    message = Both().render_message(user(), TRIGGER_CONTEXT, {"note": "<b>Tom & Jerry</b>"})
    assert message.html == "<p>&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;</p>"
    assert message.text == message.subject == "<b>Tom & Jerry</b>"


def test_seed_style_context_variable_and_get_template_context():
    class Seed(BaseMessageTemplate):
        template_string = "{{ context.verb }} at {{ now }}"

        def get_template_context(self, context: dict[str, Any]) -> dict[str, Any]:
            context = super().get_template_context(context)
            context["now"] = "noon"
            return context

    assert Seed().render(user(), TRIGGER_CONTEXT, {}) == "order_shipped at noon"


def test_signal_values_are_context_not_code():
    class Echo(BaseMessageTemplate):
        template_string = "{{ payload }}"

    text = Echo().render(user(), TRIGGER_CONTEXT, {"payload": "{{ user.password }}{% now 'Y' %}"})
    assert text == "{{ user.password }}{% now 'Y' %}"


def test_seed_demo_template():
    text = SimplePrintMessageTemplate().render(user("admin"), TRIGGER_CONTEXT, {})
    assert text == "order_shipped on Order 7, for admin"


def test_file_shipped_in_a_package_outside_installed_apps(tmp_path: Path, monkeypatch):
    package = tmp_path / "dsn_shipped_templates"
    (package / "templates" / "dsn_shipped_templates").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "templates" / "dsn_shipped_templates" / "hello.html").write_text(
        "<p>Hi {{ user.get_username }}</p>"
    )
    (package / "message_templates.py").write_text(
        textwrap.dedent(
            """
            from dsn_core.message_templates import BaseMessageTemplate

            class Hello(BaseMessageTemplate):
                template_string = "Hi {{ user.get_username }}"
                part_files = {"html": "dsn_shipped_templates/hello.html"}
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("dsn_shipped_templates.message_templates")

    message = module.Hello().render_message(user("<zed>"), TRIGGER_CONTEXT, {})

    assert message.html == "<p>Hi &lt;zed&gt;</p>"


def test_project_template_dirs_come_first():
    class Greeting(BaseMessageTemplate):
        file_name = "overrides/greeting.txt"

    assert Greeting().render(user("bo"), TRIGGER_CONTEXT, {}) == "Project override for bo"


def test_syntax_error_is_found_at_registration_not_at_send():
    class Broken(BaseMessageTemplate):
        template_string = "{% if %}"

    error = Broken.try_compile()
    assert error is not None
    assert "Broken" in error
    with pytest.raises(TemplateRenderError, match="Broken"):
        Broken().render_message(user(), TRIGGER_CONTEXT, {})


def test_missing_file_names_where_it_looked():
    class Missing(BaseMessageTemplate):
        file_name = "nowhere/none.txt"

    with pytest.raises(TemplateRenderError, match=r"nowhere/none.txt.*templates/ folder"):
        Missing.compile()


def test_a_template_without_source_is_an_error():
    class Empty(BaseMessageTemplate):
        pass

    with pytest.raises(TemplateRenderError, match="defines no template_string"):
        Empty.compile()


def test_render_error_is_wrapped():
    class Raises(BaseMessageTemplate):
        template_string = "{{ obj.explode }}"

    class Bomb:
        def explode(self) -> str:
            raise ValueError("kaboom")

    with pytest.raises(TemplateRenderError, match="kaboom"):
        Raises().render_message(user(), TRIGGER_CONTEXT, {"obj": Bomb()})
