"""The shop's message templates: Django template language, with a subject and a text part.

Each renders with the trigger context (``verb``, ``action_object``, ``actor_object``,
``target``), the signal's arguments and ``user``, the recipient.
"""

from __future__ import annotations

from dsn_core.message_templates import BaseMessageTemplate


class NewOrderTemplate(BaseMessageTemplate):
    """For ``post_save`` on orders: says whether the order is new or was changed."""

    id = "shop.new_order"
    label = "Shop: new or changed order"
    required_signal_args = ("instance", "created")
    parts = {
        "subject": (
            "{% if created %}New order{% else %}Order changed{% endif %} #{{ instance.pk }}: "
            "{{ instance.quantity }} x {{ instance.item }}"
        ),
    }
    template_string = (
        "Hello {{ user.get_username }}: "
        "{% if created %}{{ instance.customer }} ordered {{ instance.quantity }} x "
        "{{ instance.item }} (order #{{ instance.pk }})."
        "{% else %}order #{{ instance.pk }} of {{ instance.customer }} was changed; "
        "its status is {{ instance.get_status_display }}.{% endif %}"
    )


class OrderShippedTemplate(BaseMessageTemplate):
    """For ``order_shipped``: who shipped which order from where, and its tracking number."""

    id = "shop.order_shipped"
    label = "Shop: order shipped"
    required_signal_args = ("order", "tracking_number")
    parts = {"subject": "Order #{{ order.pk }} shipped"}
    template_string = (
        "Hello {{ user.get_username }}: {{ actor_object }} shipped order #{{ order.pk }} "
        "({{ order.quantity }} x {{ order.item }} for {{ order.customer }}) "
        "from {{ target }}. Tracking number: {{ tracking_number }}."
    )


class OrderAuditTemplate(BaseMessageTemplate):
    """A seed-style template: added with ``Add_Message_Template``, so its id is the class
    name, and it reads the merged context as ``context``, as the original DSN did."""

    label = "Shop: audit line (seed style)"
    template_string = (
        "[audit] {{ context.verb }}: {{ context.instance|default:context.order }}"
        "{% if context.actor_object %} by {{ context.actor_object }}{% endif %}"
        "{% if context.target %} at {{ context.target }}{% endif %}"
    )
