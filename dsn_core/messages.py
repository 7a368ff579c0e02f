"""Value types passed between core and messengers: what to send, to whom, and how it went."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class RenderedMessage:
    """A rendered message template: named parts such as ``subject``, ``text``, ``html``."""

    parts: Mapping[str, str]

    @property
    def text(self) -> str:
        return self.parts.get("text", "")

    @property
    def subject(self) -> str:
        return self.parts.get("subject", "")

    @property
    def html(self) -> str:
        return self.parts.get("html", "")


@dataclass(frozen=True)
class Recipient:
    """Who a message goes to. ``user`` is ``None`` for a broadcast (a channel, a group chat)."""

    user: Any
    address: str | None

    def __str__(self) -> str:
        if self.user is None:
            return self.address or "(broadcast)"
        name = self.user.get_username()
        return f"{name} <{self.address}>" if self.address and self.address != name else name


@dataclass(frozen=True)
class OutgoingMessage:
    """One message for one recipient; ``reference`` lets a messenger report back per message."""

    recipient: Recipient
    message: RenderedMessage
    reference: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)
    #: 1 for the first try. A retry after a timeout may find the first try delivered
    #: (X refuses a duplicate post): a messenger can tell that from a real refusal.
    attempt: int = 1


@dataclass(frozen=True)
class Sent:
    """The provider accepted the message. ``details``: what the admin should show about
    it, as JSON (an SMS's segment count and encoding, say)."""

    provider_id: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    status: Literal["sent"] = "sent"


@dataclass(frozen=True)
class PermanentFailure:
    """Retrying cannot help: bad address, blocked bot, rejected credentials."""

    reason: str
    status: Literal["permanent"] = "permanent"


@dataclass(frozen=True)
class TransientFailure:
    """The provider may accept it later; ``retry_after`` is in seconds when it said."""

    reason: str
    retry_after: float | None = None
    status: Literal["transient"] = "transient"


@dataclass(frozen=True)
class Skipped:
    """Nothing to send, on purpose (an empty post): recorded as skipped, not failed."""

    reason: str
    status: Literal["skipped"] = "skipped"


Outcome = Sent | PermanentFailure | TransientFailure | Skipped
