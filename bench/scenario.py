"""The benchmark's data: 1,000 users, 50 triggers that watch other models, and the rows
whose saves are timed. Built through the ORM, so DSN's own configuration-change
receivers run exactly as they do on a real site."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType

from dsn_core.matching import ObjectRef, TriggerIndex, holder
from dsn_core.models import Backend, Subscription, Trigger
from tests.testapp.models import TestModel1, TestModel2

USERS = 1000
UNWATCHED_TRIGGERS = 50
VERBS = ("post_save", "pre_save")
ROW_POOL = 2000
UNWATCHED_APPS = ("dsn_core", "django_tasks_database")


@dataclass(frozen=True)
class Fixture:
    users: list[Any]
    backend: Backend
    subject: TestModel1  # saved in the hot path: no trigger watches it
    row_pool: list[TestModel1]  # more unwatched rows, updated in turn inside transactions
    other_row: TestModel1  # a row of the same model, for the "+1 trigger" row
    matched_object: TestModel2  # saved in the matched-trigger part
    index_description: str


def load_index(expected: int) -> TriggerIndex:
    """Build this process's trigger index now, so no timed save pays for it."""
    holder.invalidate()
    index = holder.current()
    if len(index) != expected:
        raise RuntimeError(f"trigger index holds {len(index)} triggers, expected {expected}")
    return index


def watch(
    verb: str, content_type: ContentType, object_id: str, backend: Backend, recipients: list[Any]
) -> Trigger:
    """One trigger with an enabled subscription and backend: what puts it in the index."""
    trigger = Trigger.objects.create(
        verb=verb, action_object_content_type=content_type, action_object_id=object_id
    )
    subscription = Subscription.objects.create(trigger=trigger)
    subscription.backends.add(backend)
    subscription.receiver_users.add(*recipients)
    return trigger


def populate() -> Fixture:
    user_model = get_user_model()
    users = user_model.objects.bulk_create(
        user_model(username=f"reader{n:04d}", email=f"reader{n:04d}@example.com", password="!")
        for n in range(USERS)
    )
    backend = Backend.objects.create(
        name="bench console",
        messenger="console",
        message_template="event_summary",
        options={"stream": "stdout"},
    )
    # Not the timed models, not DSN's own (a trigger on Trigger would notify while the
    # benchmark configures itself), and not the task queue's (enqueueing would notify).
    # Proxies of the timed models count as timed: a trigger on a proxy is not on the
    # saved model, but its content type's concrete model is.
    timed = {TestModel1, TestModel2}
    other_types = [
        ct
        for ct in ContentType.objects.exclude(app_label__in=UNWATCHED_APPS).order_by("pk")
        if (model := ct.model_class()) is not None and model._meta.concrete_model not in timed
    ]
    # Every other model is watched on both verbs; the first pass watches any row, later
    # passes watch one row each ("other instances"), until there are 50 triggers.
    combinations = [(verb, ct) for ct in other_types for verb in VERBS]
    for n in range(UNWATCHED_TRIGGERS):
        verb, content_type = combinations[n % len(combinations)]
        object_id = "" if n < len(combinations) else str(n)
        watch(verb, content_type, object_id, backend, users[:1])
    index = load_index(UNWATCHED_TRIGGERS)
    subject = TestModel1.objects.create(name="subject")
    if index.candidates("post_save", ObjectRef.of(subject)):
        raise RuntimeError("the hot-path model is watched; the benchmark setup is wrong")
    verbs = Counter(t.verb for t in Trigger.objects.all())
    description = (
        f"Trigger index: {len(index)} triggers ("
        + ", ".join(f"{count} {verb}" for verb, count in sorted(verbs.items()))
        + f") on {len(other_types)} other models, each with an enabled subscription and "
        "backend;\n   none on the saved model."
    )
    return Fixture(
        users=users,
        backend=backend,
        subject=subject,
        row_pool=TestModel1.objects.bulk_create(
            TestModel1(name=f"row {n}") for n in range(ROW_POOL)
        ),
        other_row=TestModel1.objects.create(name="watched row"),
        matched_object=TestModel2.objects.create(name="matched"),
        index_description=description,
    )


@contextlib.contextmanager
def add_same_model_trigger(fixture: Fixture) -> Iterator[None]:
    """A post_save trigger on another row of the saved model: the save finds a candidate
    in the index and must compare ids before it knows nothing matched."""
    content_type = ContentType.objects.get_for_model(fixture.other_row)
    trigger = watch(
        "post_save", content_type, str(fixture.other_row.pk), fixture.backend, fixture.users[:1]
    )
    load_index(UNWATCHED_TRIGGERS + 1)
    try:
        yield
    finally:
        trigger.delete()
        load_index(UNWATCHED_TRIGGERS)


@contextlib.contextmanager
def matched_subscription(fixture: Fixture) -> Iterator[Callable[[int], None]]:
    """A post_save trigger on the matched model; yields ``set_recipients(count)``."""
    content_type = ContentType.objects.get_for_model(fixture.matched_object)
    trigger = watch("post_save", content_type, "", fixture.backend, [])
    subscription = trigger.subscriptions.get()
    load_index(UNWATCHED_TRIGGERS + 1)

    def set_recipients(count: int) -> None:
        subscription.receiver_users.set(fixture.users[:count])

    try:
        yield set_recipients
    finally:
        trigger.delete()
        load_index(UNWATCHED_TRIGGERS)
