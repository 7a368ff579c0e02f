"""The messenger contract: every channel plugin's tests subclass :class:`MessengerContract`.

Like hydra's launcher suite, the contract is a class of tests that hold any messenger to
what core relies on: identity attributes, one outcome per message in order, an empty
batch, messages reaching the provider, and an unreachable provider giving transient
outcomes rather than exceptions. Subclass it and override the fixtures::

    class TestSendGridContract(MessengerContract):
        @pytest.fixture
        def messenger(self, fake_sendgrid):
            return SendGridMessenger({})

        @pytest.fixture
        def received_texts(self, fake_sendgrid):
            return lambda: [p["content"] for p in fake_sendgrid.requests]

        @pytest.fixture
        def unreachable_messenger(self, settings, closed_port):
            settings.DSN = {"EMAIL": {"SENDGRID_HOST": f"http://127.0.0.1:{closed_port}"}}
            return SendGridMessenger({})
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import pytest

from dsn_core.exceptions import TransientDeliveryError
from dsn_core.messages import (
    OutgoingMessage,
    PermanentFailure,
    Recipient,
    RenderedMessage,
    Sent,
    TransientFailure,
)
from dsn_core.messengers import BaseMessenger

RecipientFactory = Callable[[int], Recipient]


class MessengerContract:
    """Tests every messenger must pass. Override the fixtures marked "override"."""

    batch_size = 5

    @pytest.fixture
    def messenger(self) -> BaseMessenger:
        """Override: a messenger wired to a fake provider that accepts every message."""
        raise NotImplementedError("MessengerContract subclasses must define `messenger`.")

    @pytest.fixture
    def received_texts(self) -> Callable[[], list[str]]:
        """Override: returns what the fake provider received, as text, so far."""
        raise NotImplementedError("MessengerContract subclasses must define `received_texts`.")

    @pytest.fixture
    def recipient_factory(self) -> RecipientFactory:
        """Override when the channel needs real users or specific addresses."""
        return lambda n: Recipient(user=None, address=f"recipient-{n}@example.com")

    @pytest.fixture
    def unreachable_messenger(self) -> BaseMessenger:
        """Override: the messenger pointed at a closed port on 127.0.0.1."""
        pytest.skip("this messenger talks to no provider")

    @staticmethod
    def outgoing(recipient: Recipient, text: str | None = None) -> OutgoingMessage:
        text = text or f"DSN contract message {uuid.uuid4().hex}"
        return OutgoingMessage(
            recipient, RenderedMessage({"subject": "DSN contract", "text": text}), reference=text
        )

    def test_declares_identity(self, messenger: BaseMessenger) -> None:
        cls = type(messenger)
        assert re.match(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,99}$", cls.id), cls.id
        assert isinstance(cls.label, str)
        assert cls.label
        assert isinstance(cls.channel, str)
        assert cls.channel
        assert isinstance(cls.broadcast, bool)
        assert cls.max_batch_size is None or cls.max_batch_size >= 1
        assert not cls.is_seed_style(), "use the batch API: send(messages) -> outcomes"

    def test_empty_batch_sends_nothing(
        self, messenger: BaseMessenger, received_texts: Callable[[], list[str]]
    ) -> None:
        assert list(messenger.send([])) == []
        assert received_texts() == []

    def test_single_message_is_sent(
        self,
        messenger: BaseMessenger,
        recipient_factory: RecipientFactory,
        received_texts: Callable[[], list[str]],
    ) -> None:
        message = self.outgoing(recipient_factory(0))
        outcomes = list(messenger.send([message]))
        assert len(outcomes) == 1
        assert isinstance(outcomes[0], Sent), outcomes[0]
        assert any(message.message.text in text for text in received_texts())

    def test_batch_gets_one_outcome_per_message(
        self,
        messenger: BaseMessenger,
        recipient_factory: RecipientFactory,
        received_texts: Callable[[], list[str]],
    ) -> None:
        size = min(self.batch_size, type(messenger).max_batch_size or self.batch_size)
        messages = [self.outgoing(recipient_factory(n)) for n in range(size)]
        outcomes = list(messenger.send(messages))
        assert len(outcomes) == len(messages)
        assert all(isinstance(outcome, Sent) for outcome in outcomes), outcomes
        ids = [o.provider_id for o in outcomes if isinstance(o, Sent) and o.provider_id]
        assert len(ids) == len(set(ids)) or len(set(ids)) == 1, "ids are per message or per call"
        received = "\n".join(received_texts())
        assert all(m.message.text in received for m in messages)

    def test_unreachable_provider_is_transient(
        self, unreachable_messenger: BaseMessenger, recipient_factory: RecipientFactory
    ) -> None:
        messages = [self.outgoing(recipient_factory(n)) for n in range(2)]
        try:
            outcomes = list(unreachable_messenger.send(messages))
        except TransientDeliveryError:
            return  # allowed: the whole batch failed the same way
        assert len(outcomes) == 2
        assert all(isinstance(o, TransientFailure) for o in outcomes), outcomes
        assert not any(isinstance(o, PermanentFailure) for o in outcomes)
