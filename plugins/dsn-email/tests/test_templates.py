"""The plugin's email template, and the text part derived from HTML."""

from __future__ import annotations

import html
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from dsn_core.snapshot import Snapshot
from dsn_email.templates import EmailTemplate, PlainEmailTemplate
from dsn_email.text import html_to_text
from tests.conftest import email_settings


def render(template: Any, user: Any, **context: Any) -> dict[str, str]:
    trigger = {"verb": "order_shipped", "action_object": None, "actor_object": None, "target": ""}
    return dict(template.render_message(user, {**trigger, **context}, {}).parts)


def test_plain_template_has_subject_text_and_escaped_html(user_factory: Any) -> None:
    ann = user_factory("ann", first_name="Ann", last_name="Lee")
    order_repr = "<script>alert(1)</script> & co"
    order = Snapshot({"name": order_repr}, order_repr, "shop.order")
    parts = render(PlainEmailTemplate(), ann, action_object=order)
    assert parts["subject"] == f"{order_repr}: order_shipped"
    assert parts["text"] == f"Hello Ann Lee,\n\norder_shipped on {order_repr}."
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in parts["html"]
    assert "<script>" not in parts["html"]


def test_object_url_is_absolute_when_the_site_url_is_set(user_factory: Any, settings: Any) -> None:
    email_settings(settings, SITE_URL="https://shop.example.com/")
    order = Snapshot({"get_absolute_url": "/orders/7/"}, "Order 7", "shop.order")
    parts = render(PlainEmailTemplate(), user_factory("ann"), action_object=order)
    assert "https://shop.example.com/orders/7/" in parts["text"]
    assert '<a href="https://shop.example.com/orders/7/">' in parts["html"]


def test_no_link_without_a_site_url(user_factory: Any) -> None:
    order = Snapshot({"get_absolute_url": "/orders/7/"}, "Order 7", "shop.order")
    parts = render(PlainEmailTemplate(), user_factory("ann"), action_object=order)
    assert "/orders/7/" not in parts["text"] + parts["html"]


class HtmlOnly(EmailTemplate):
    id = "test_html_only"
    parts = {
        "subject": "Shipped\n  today",
        "html": "<h1>Hi {{ user.get_username }}</h1>"
        "<p>See <a href='https://x.test/o'>your order</a><br>Thanks</p>"
        "<style>p {color: red}</style>",
    }


def test_text_part_is_derived_when_a_template_has_only_html(user_factory: Any) -> None:
    parts = render(HtmlOnly(), user_factory("ann"))
    assert parts["subject"] == "Shipped today"  # a header: one line
    assert parts["text"] == "Hi ann\nSee your order (https://x.test/o)\nThanks"


@given(st.text(alphabet=st.characters(exclude_categories=["Cs", "Cc"]), max_size=200))
def test_html_to_text_gives_back_escaped_text(text: str) -> None:
    expected = " ".join(text.split())
    assert " ".join(html_to_text(f"<p>{html.escape(text)}</p>").split()) == expected
