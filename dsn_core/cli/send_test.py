"""``dsn send-test``: one real message through a Backend, to check a channel end to end."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from dsn_core import registry
from dsn_core.events import SignalEvent
from dsn_core.messages import Sent, Skipped, TransientFailure
from dsn_core.sending import DirectReport, send_direct

from . import Options, argument, subcommand

#: The verb of the test event; no signal is registered under it, so no trigger can match.
TEST_VERB = "dsn_test"


@subcommand(
    "send-test",
    argument("--backend", required=True, type=int, metavar="ID", help="The Backend's id."),
    argument("--to", required=True, metavar="USER", help="The recipient's username or id."),
)
def send_test(command: BaseCommand, options: Options) -> None:
    """Send one test message through a Backend to one user, now, without the outbox.

    The backend's message template is rendered for an event with the verb 'dsn_test'
    and no action object. Exits non-zero unless every message was sent.
    """
    backend = _backend(options["backend"])
    user = _user(options["to"])
    for kind, key, known in (
        ("messenger", backend.messenger, registry.messengers),
        ("message template", backend.message_template, registry.message_templates),
    ):
        if key not in known:
            raise CommandError(
                f"Backend {_describe(backend)} uses {kind} {key!r}, which is not installed: "
                "no loaded plugin provides it. 'manage.py dsn plugins' lists what is loaded."
            )
    if not backend.enabled:
        command.stdout.write(
            command.style.WARNING(f"Backend {_describe(backend)} is disabled; sending anyway.")
        )
    event = SignalEvent(
        verb=TEST_VERB,
        sender=None,
        action_object=None,
        actor_object=None,
        target=None,
        signal_kwargs={},
        trigger_ids=(),
    )
    reports = send_direct(backend, [user], event)
    if not reports:
        raise CommandError(f"Backend {_describe(backend)} sent nothing; see the log.")
    failures = 0
    for report in reports:
        if isinstance(report.outcome, Sent):
            command.stdout.write(command.style.SUCCESS(_outcome(report)))
        else:
            failures += 1
            command.stderr.write(_outcome(report))
    if failures:
        raise CommandError(
            f"{failures} of {len(reports)} test messages via backend {_describe(backend)} "
            "were not sent."
        )


def _describe(backend: Any) -> str:
    return f"#{backend.pk} ({backend})"


def _backend(pk: int) -> Any:
    from dsn_core.models import Backend

    try:
        return Backend.objects.get(pk=pk)
    except Backend.DoesNotExist:
        known = ", ".join(f"#{b.pk} ({b})" for b in Backend.objects.all()[:20]) or "none"
        raise CommandError(f"No backend with id {pk}. Backends: {known}.") from None


def _user(value: str) -> Any:
    """Look ``value`` up as a username first (usernames may be digits), then as a pk."""
    manager = get_user_model()._default_manager
    user = manager.filter(**{get_user_model().USERNAME_FIELD: value}).first()
    if user is None:
        try:
            user = manager.filter(pk=value).first()
        except (ValueError, ValidationError):  # not a valid pk for this user model
            user = None
    if user is None:
        raise CommandError(f"No user with username or id {value!r}.")
    return user


def _outcome(report: DirectReport) -> str:
    recipient = report.recipient
    outcome = report.outcome
    if outcome is None:
        return f"Skipped {recipient}: {report.skipped_reason}."
    if isinstance(outcome, Sent):
        return f"Sent to {recipient} (provider id: {outcome.provider_id or 'none'})."
    if isinstance(outcome, Skipped):
        return f"Skipped {recipient}: {outcome.reason}."
    if isinstance(outcome, TransientFailure):
        retry = (
            f"; the provider asks to retry after {outcome.retry_after:g} s"
            if (outcome.retry_after is not None)
            else ""
        )
        return f"Transient failure for {recipient}: {outcome.reason}{retry}."
    return f"Permanent failure for {recipient}: {outcome.reason}."
