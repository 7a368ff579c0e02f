"""Messengers carry rendered messages over a channel. Subclass :class:`BaseMessenger`.

The recommended API is batch ``send(messages) -> outcomes``: one call per batch, one
outcome per message, in order. A messenger written the seed's way, overriding
``send(template, users, trigger_context, signal_kwargs)`` and rendering itself, still
works: core detects that signature and calls it once per event.
"""

from __future__ import annotations

import inspect
import logging
import sys
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, TextIO

from django.core.checks import CheckMessage

from .contributions import Contribution
from .messages import Outcome, OutgoingMessage, Sent

logger = logging.getLogger(__name__)


class BaseMessenger(Contribution):
    """Base class for every messenger.

    Class attributes:

    - ``id``: stable string stored on Backend rows; defaults to the class name, so
      classes registered the seed's way keep their configuration.
    - ``label``: what the admin shows.
    - ``channel``: which address a recipient needs (``"email"``, ``"telegram"``...);
      core asks the ``dsn_resolve_address`` hook for it.
    - ``broadcast``: ``True`` when the messenger posts to one channel-wide destination
      (a public post, a group chat): one message per event, with no user.
    - ``max_batch_size``: the most messages one ``send()`` call accepts (``None``: any).
    """

    channel: ClassVar[str] = "console"
    broadcast: ClassVar[bool] = False
    max_batch_size: ClassVar[int | None] = None

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        #: The Backend's options (JSON); never secrets, which come from settings.
        self.options: dict[str, Any] = dict(options or {})

    def send(self, messages: Sequence[OutgoingMessage]) -> Sequence[Outcome]:
        """Send ``messages`` and return one outcome per message, in the same order.

        Raise :class:`~dsn_core.exceptions.TransientDeliveryError` or
        :class:`~dsn_core.exceptions.PermanentDeliveryError` only when the whole batch
        failed the same way; any other exception counts as transient and is logged.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement send(messages).")

    @classmethod
    def check(cls) -> list[CheckMessage]:
        """System check messages about this messenger's settings (id ``dsn_<channel>.E00x``)."""
        return []

    @classmethod
    def is_seed_style(cls) -> bool:
        """True when ``send`` has the seed's ``(template, users, ...)`` signature."""
        try:
            parameters = inspect.signature(cls.send).parameters
        except (TypeError, ValueError):
            return False
        return "template" in parameters and "users" in parameters


def _stream(name: str) -> TextIO | None:
    if name == "stdout":
        return sys.stdout
    if name == "stderr":
        return sys.stderr
    return None


class ConsoleMessenger(BaseMessenger):
    """Prints each message, like Django's console email backend: the demo's default.

    ``DSN["CONSOLE_STREAM"]`` picks ``"stdout"``, ``"stderr"`` or a logger name; the
    Backend option ``stream`` overrides it.
    """

    id = "console"
    label = "Console (print each message)"
    channel = "console"

    def send(self, messages: Sequence[OutgoingMessage]) -> Sequence[Outcome]:
        from .conf import get_setting

        target = str(self.options.get("stream") or get_setting("CONSOLE_STREAM"))
        stream = _stream(target)
        outcomes: list[Outcome] = []
        for outgoing in messages:
            block = self.format(outgoing)
            if stream is None:
                logging.getLogger(target).info("%s", block)
            else:
                stream.write(block + "\n")
                stream.flush()
            outcomes.append(Sent(provider_id=None))
        return outcomes

    @staticmethod
    def format(outgoing: OutgoingMessage) -> str:
        message = outgoing.message
        lines = [f"-- DSN message to {outgoing.recipient}"]
        if message.subject:
            lines.append(f"Subject: {message.subject}")
        lines.append(message.text or message.html)
        return "\n".join(line.rstrip() for line in lines)


class SimplePrintMessengerTemplateBased(ConsoleMessenger):
    """The seed's print messenger, kept under its original id for old configurations."""

    id = "SimplePrintMessengerTemplateBased"
    label = "Simple print messenger (seed)"


def Add_Messenger(messenger_class: type[BaseMessenger]) -> None:
    """Register a messenger from code, as the seed did in ``AppConfig.ready()``."""
    from .registry import messengers

    messengers.register(messenger_class, source=messenger_class.__module__)
