"""Runtime hooks and the Django signals DSN sends to the host project."""

from __future__ import annotations

from typing import Any

import pytest

from dsn_core import hookimpl
from dsn_core.messages import Sent
from dsn_core.models import Trigger
from dsn_core.signals import post_send, pre_send
from tests.testapp.models import TestModel1

pytestmark = pytest.mark.django_db


class Recorder:
    def __init__(self) -> None:
        self.finished: list[Any] = []

    @hookimpl
    def dsn_delivery_finished(self, delivery: Any) -> None:
        self.finished.append(delivery)


class ExplodingObserver:
    @hookimpl
    def dsn_delivery_finished(self, delivery: Any) -> None:
        raise RuntimeError("metrics backend down")


class PagerAddresses:
    """A plugin answering addresses for its own channel, and deferring on others."""

    @hookimpl
    def dsn_resolve_address(self, user: Any, channel: str) -> str | None:
        return f"pager:{user.get_username()}" if channel == "console" else None


@pytest.fixture
def watched(subscribe: Any, user_factory: Any) -> Any:
    return subscribe(
        Trigger.save_by_model("post_save", action_object=TestModel1),
        users=[user_factory("ann"), user_factory("bob")],
        options={"fail_for": ["bob"]},
    )


def test_every_final_outcome_reaches_dsn_delivery_finished(
    watched, dsn_plugin, django_capture_on_commit_callbacks
):
    recorder = Recorder()
    dsn_plugin(ExplodingObserver(), name="exploding")  # must not stop the others
    dsn_plugin(recorder, name="recorder")

    with django_capture_on_commit_callbacks(execute=True):
        TestModel1.objects.create(name="x")

    outcomes = {d.user.username: (d.status, d.attempts) for d in recorder.finished}
    assert outcomes == {"ann": ("sent", 1), "bob": ("failed", 1)}


def test_a_plugin_answers_addresses_before_core(
    watched, dsn_plugin, dsn_outbox, django_capture_on_commit_callbacks
):
    dsn_plugin(PagerAddresses(), name="pager")

    with django_capture_on_commit_callbacks(execute=True):
        TestModel1.objects.create(name="x")

    assert [m.recipient.address for m in dsn_outbox] == ["pager:ann"]


def test_pre_and_post_send_signals_wrap_each_batch(watched, django_capture_on_commit_callbacks):
    seen: list[tuple[str, int, list[str]]] = []

    def before(sender: Any, backend: Any, messages: Any, **kwargs: Any) -> None:
        seen.append(("pre", len(messages), []))

    def after(sender: Any, backend: Any, messages: Any, outcomes: Any, **kwargs: Any) -> None:
        seen.append(("post", len(messages), [type(o).__name__ for o in outcomes]))

    pre_send.connect(before)
    post_send.connect(after)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            TestModel1.objects.create(name="x")
    finally:
        pre_send.disconnect(before)
        post_send.disconnect(after)

    assert seen == [("pre", 2, []), ("post", 2, [Sent.__name__, "PermanentFailure"])]
