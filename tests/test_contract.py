"""Core's own messengers pass the contract every plugin's messenger must pass."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from dsn_core.messages import Recipient
from dsn_core.messengers import BaseMessenger, ConsoleMessenger
from dsn_core.testing import OutboxMessenger, outbox
from dsn_core.testing.contract import MessengerContract


class TestConsoleMessengerContract(MessengerContract):
    @pytest.fixture
    def messenger(self) -> BaseMessenger:
        return ConsoleMessenger({})

    @pytest.fixture
    def received_texts(self, capsys: pytest.CaptureFixture[str]) -> Callable[[], list[str]]:
        return lambda: [text for text in [capsys.readouterr().out] if text]


class TestOutboxMessengerContract(MessengerContract):
    @pytest.fixture
    def messenger(self) -> BaseMessenger:
        outbox.clear()
        return OutboxMessenger({})

    @pytest.fixture
    def received_texts(self) -> Callable[[], list[str]]:
        return lambda: [m.message.text for m in outbox]

    @pytest.fixture
    def unreachable_messenger(self) -> BaseMessenger:
        return OutboxMessenger({"fail": "transient"})


class BrokenMessenger(BaseMessenger):
    """Returns one outcome too few: the contract must catch it."""

    id = "broken"
    channel = "console"

    def send(self, messages: Any) -> list[Any]:
        return []


def test_contract_fails_a_messenger_that_drops_outcomes() -> None:
    """The contract itself must be able to fail."""
    contract = MessengerContract()
    recipient = lambda n: Recipient(user=None, address=f"r{n}@example.com")  # noqa: E731
    with pytest.raises(AssertionError):
        contract.test_single_message_is_sent(BrokenMessenger({}), recipient, lambda: [])
    with pytest.raises(AssertionError):
        contract.test_batch_gets_one_outcome_per_message(BrokenMessenger({}), recipient, lambda: [])
