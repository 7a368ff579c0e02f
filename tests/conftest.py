from __future__ import annotations

from collections.abc import Callable
from importlib.util import find_spec
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from dsn_core.models import Backend, Subscription, Trigger


@pytest.fixture
def user_factory(db: None) -> Callable[..., Any]:
    def make(username: str, **fields: Any) -> Any:
        fields.setdefault("email", f"{username}@example.com")
        return get_user_model().objects.create_user(username=username, **fields)

    return make


@pytest.fixture
def group_factory(db: None) -> Callable[..., Group]:
    def make(name: str, *users: Any) -> Group:
        group = Group.objects.create(name=name)
        group.user_set.add(*users)
        return group

    return make


@pytest.fixture
def subscribe(db: None, dsn_outbox: list[Any]) -> Callable[..., Subscription]:
    """``subscribe(trigger, users=[...], groups=[...], template=..., options=...)``: a
    subscription delivering to the test outbox."""

    def make(
        trigger: Trigger,
        users: list[Any] = (),  # type: ignore[assignment]
        groups: list[Group] = (),  # type: ignore[assignment]
        template: str = "event_summary",
        messenger: str = "dsn_test_outbox",
        resolver: str = "",
        options: dict[str, Any] | None = None,
    ) -> Subscription:
        backend = Backend.objects.create(
            name=f"{messenger}/{template}",
            messenger=messenger,
            message_template=template,
            options=options or {},
        )
        subscription = Subscription.objects.create(trigger=trigger, recipient_resolver=resolver)
        subscription.backends.add(backend)
        subscription.receiver_users.add(*users)
        subscription.receiver_groups.add(*groups)
        return subscription

    return make


@pytest.fixture
def dummy_tasks(settings: Any) -> Any:
    """TASKS on the DummyBackend (it can defer): enqueued tasks are kept in ``.results``,
    never run. Returns the backend."""
    from dsn_core.tasks import task_backends

    package = "django.tasks" if find_spec("django.tasks") else "django_tasks"
    settings.TASKS = {"default": {"BACKEND": f"{package}.backends.dummy.DummyBackend"}}
    return task_backends["default"]


@pytest.fixture(autouse=True)
def _fresh_trigger_index() -> None:
    """Each test starts by reading the configuration: the index a previous test left in
    this process describes rows its transaction rolled back."""
    from dsn_core.matching import holder

    holder.invalidate()
