"""The demo's users, orders and DSN configuration, created if missing.

Idempotent: it creates only what is missing and never overwrites what someone changed in
the admin, so ``rundemo`` can run it at every start. It builds the configuration through
the ORM exactly as an administrator would in the admin: triggers, backends, subscriptions.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from dsn_core import registry
from dsn_core.models import Backend, Subscription, Trigger

from .message_templates import NewOrderTemplate, OrderShippedTemplate
from .models import WAREHOUSE, Order

#: Demo only: printed by rundemo, set when the user is first created.
ADMIN_LOGIN = ("admin", "admin")
STAFF_LOGIN = ("clerk", "clerk")
WAREHOUSE_GROUP = "Warehouse"


def _user(username: str, password: str | None = None, **fields: Any) -> Any:
    user_model = get_user_model()
    user = user_model._default_manager.filter(username=username).first()
    if user is None:
        user = user_model(username=username, email=f"{username}@example.com", **fields)
        user.set_password(password)  # None: an unusable password, the user cannot log in
        user.save()
    return user


def _subscription(
    name: str, trigger: Trigger, backend: Backend, users: list[Any], group: Group | None
) -> None:
    subscription, created = Subscription.objects.get_or_create(
        name=name, defaults={"trigger": trigger}
    )
    if created:  # leave recipients alone once someone may have edited them
        subscription.backends.add(backend)
        subscription.receiver_users.add(*users)
        if group is not None:
            subscription.receiver_groups.add(group)


@transaction.atomic
def ensure_demo_data() -> None:
    user_model = get_user_model()
    admin = _user(*ADMIN_LOGIN, is_staff=True, is_superuser=True)
    clerk = _user(*STAFF_LOGIN, is_staff=True, first_name="Clara", last_name="Clerk")
    clerk.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="shop", content_type__model="order")
    )
    packer = _user("packer", first_name="Pat", last_name="Packer")
    customer = _user("alice", first_name="Alice")
    warehouse, _ = Group.objects.get_or_create(name=WAREHOUSE_GROUP)
    warehouse.user_set.add(packer)

    # Before the triggers exist, so setting up the demo prints no notification.
    if not Order.objects.exists():
        Order.objects.create(customer=customer, item="Blue mug", quantity=2)

    new_orders = Backend.objects.get_or_create(
        name="Console: new or changed order",
        defaults={"messenger": "console", "message_template": NewOrderTemplate.id},
    )[0]
    shipped = Backend.objects.get_or_create(
        name="Console: order shipped",
        defaults={"messenger": "console", "message_template": OrderShippedTemplate.id},
    )[0]
    # save_by_model returns the existing trigger when an identical one exists.
    order_saved = Trigger.save_by_model("post_save", action_object=Order)
    order_shipped = Trigger.save_by_model(
        "order_shipped", action_object=Order, actor_object=user_model, target=WAREHOUSE
    )
    _subscription("Orders saved: admin and warehouse", order_saved, new_orders, [admin], warehouse)
    _subscription("Orders shipped: admin and warehouse", order_shipped, shipped, [admin], warehouse)
    if "django_email" in registry.messengers:  # dsn-email is installed (nox -s demo does)
        emailed = Backend.objects.get_or_create(
            name="Email (Django's console email backend): order shipped",
            defaults={"messenger": "django_email", "message_template": OrderShippedTemplate.id},
        )[0]
        _subscription("Orders shipped: email the admin", order_shipped, emailed, [admin], None)
