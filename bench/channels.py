"""Section 6: one event to 10,000 recipients through dsn-email's SendGrid messenger.

The real ``sendgrid`` SDK posts to a fake v3 API on 127.0.0.1 (pytest-httpserver's
server, answering 202 at once), so the figures are DSN's and the SDK's cost plus
loopback HTTP, not SendGrid's. Baseline, in the same run: the same deliveries through
core's console messenger writing to a null stream. ``send_pending`` runs in this
process, as a worker would run the task.
"""

from __future__ import annotations

import contextlib
import io
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.test.utils import override_settings

from bench.outbox import add_users, pop_held_task, tasks_held
from bench.scenario import UNWATCHED_TRIGGERS, Fixture, load_index, watch
from dsn_core import hookimpl
from dsn_core.message_templates import BaseMessageTemplate
from dsn_core.models import Backend, Delivery, DeliveryStatus
from dsn_core.sending import send_pending
from dsn_core.testing import register_plugin

RECIPIENTS = 10_000


class SameForEveryone(BaseMessageTemplate):
    """Identical content for every recipient: SendGrid batches 1,000 per call."""

    id = "bench_same_for_everyone"
    parts = {"subject": "{{ verb }}: {{ action_object }}"}
    template_string = "{{ action_object }} changed ({{ verb }})."


class _Templates:
    @hookimpl
    def dsn_register_message_templates(self, register: Callable[[type], None]) -> None:
        register(SameForEveryone)


@dataclass(frozen=True)
class ChannelResult:
    label: str
    deliveries: int
    seconds: float
    http_calls: int | None

    @property
    def per_second(self) -> float:
        return self.deliveries / self.seconds


@contextlib.contextmanager
def fake_sendgrid() -> Iterator[Any]:
    from pytest_httpserver import HTTPServer
    from werkzeug import Response

    server = HTTPServer(host="127.0.0.1", port=0)
    server.expect_request("/v3/mail/send", method="POST").respond_with_response(
        Response(status=202, headers={"X-Message-Id": "bench"})
    )
    server.start()
    try:
        yield server
    finally:
        server.clear()
        server.stop()


def available() -> bool:
    try:
        import pytest_httpserver  # noqa: F401

        import dsn_email.plugin  # noqa: F401
    except ImportError:
        return False
    return True


def measure_sendgrid(fixture: Fixture) -> list[ChannelResult]:
    import dsn_email.plugin

    users = list(get_user_model().objects.order_by("pk")[:RECIPIENTS])  # section 3 made them
    fixture = (
        add_users(fixture, RECIPIENTS) if len(users) < RECIPIENTS else replace(fixture, users=users)
    )
    content_type = ContentType.objects.get_for_model(fixture.matched_object)
    with (
        fake_sendgrid() as server,
        register_plugin(dsn_email.plugin, name="email"),
        register_plugin(_Templates(), name="bench_templates"),
    ):
        dsn = {
            **settings.DSN,
            "BATCH_SIZE": 1000,  # SendGrid's most personalizations per call
            "EMAIL": {
                "SENDGRID_API_KEY": "SG.bench",
                "SENDGRID_HOST": server.url_for("/").rstrip("/"),
                "FROM_EMAIL": "bench@example.com",
            },
        }
        with override_settings(DSN=dsn):
            runs = [
                ("console, identical text (baseline)", "console", SameForEveryone.id),
                ("SendGrid, identical content", "sendgrid", SameForEveryone.id),
                ("SendGrid, per-user content", "sendgrid", "event_summary"),
            ]
            return [
                _deliver(fixture, content_type, server, label, messenger, template)
                for label, messenger, template in runs
            ]


def _deliver(
    fixture: Fixture,
    content_type: ContentType,
    server: Any,
    label: str,
    messenger: str,
    template: str,
) -> ChannelResult:
    backend = Backend.objects.create(
        name=label, messenger=messenger, message_template=template, options={"stream": "null"}
    )
    trigger = watch("post_save", content_type, "", backend, fixture.users[:RECIPIENTS])
    load_index(UNWATCHED_TRIGGERS + 1)
    try:
        with tasks_held(), transaction.atomic():
            fixture.matched_object.save()
        event_id, backend_id = pop_held_task()
        calls_before = len(server.log)
        with contextlib.redirect_stdout(io.StringIO()):
            start = time.perf_counter()
            sent = send_pending(event_id, backend_id)
            seconds = time.perf_counter() - start
        left = Delivery.objects.filter(event_id=event_id).exclude(status=DeliveryStatus.SENT)
        if sent != RECIPIENTS or left.exists():
            raise RuntimeError(f"{label}: sent {sent} of {RECIPIENTS}")
        calls = len(server.log) - calls_before if messenger == "sendgrid" else None
        return ChannelResult(label, sent, seconds, calls)
    finally:
        trigger.delete()
        load_index(UNWATCHED_TRIGGERS)


def print_sendgrid(results: list[ChannelResult]) -> None:
    print()
    print(f"6. Channel plugin dsn-email: one event to {RECIPIENTS:,} recipients, one worker")
    print(
        "   send_pending() in this process: claim, render, the messenger, record outcomes.\n"
        "   SendGrid: the real sendgrid SDK against a fake v3 API on 127.0.0.1 answering 202\n"
        "   at once (loopback HTTP, no provider latency), DSN['BATCH_SIZE'] = 1000.\n"
        "   Baseline: core's console messenger to a null stream, same recipients, same run."
    )
    print()
    head = f"   {'messenger':<38}{'seconds':>9}{'deliveries/s':>14}{'HTTP calls':>12}{'ratio':>8}"
    print(head)
    print("   " + "-" * (len(head) - 3))
    baseline = results[0].seconds
    for r in results:
        calls = "-" if r.http_calls is None else f"{r.http_calls:,}"
        print(
            f"   {r.label:<38}{r.seconds:>9.2f}{r.per_second:>14,.0f}{calls:>12}"
            f"{r.seconds / baseline:>8.2f}"
        )
    print("   ratio = seconds / the baseline's seconds.")
