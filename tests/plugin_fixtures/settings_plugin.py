"""A plugin kept inside the project, loaded by dotted path from ``DSN["PLUGINS"]``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from dsn_core import hookimpl
from dsn_core.messages import Outcome, OutgoingMessage, Sent
from dsn_core.messengers import BaseMessenger
from dsn_core.resolvers import BaseRecipientResolver


class ProjectMessenger(BaseMessenger):
    id = "project_messenger"
    label = "Project messenger (test fixture)"

    def send(self, messages: Sequence[OutgoingMessage]) -> Sequence[Outcome]:
        return [Sent() for _ in messages]


class NobodyResolver(BaseRecipientResolver):
    id = "project_nobody"

    def resolve(
        self, trigger_context: Mapping[str, Any], signal_kwargs: Mapping[str, Any]
    ) -> Iterable[Any]:
        return []


@hookimpl
def dsn_register_messengers(register: Callable[[type], None]) -> None:
    register(ProjectMessenger)


@hookimpl
def dsn_register_recipient_resolvers(register: Callable[[type], None]) -> None:
    register(NobodyResolver)
