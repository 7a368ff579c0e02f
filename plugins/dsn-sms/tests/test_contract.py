"""The messenger contract every DSN channel plugin passes, against the fake Twilio."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from dsn_core.messages import Recipient
from dsn_core.testing.contract import MessengerContract, RecipientFactory
from dsn_sms.messenger import TwilioSmsMessenger

from .conftest import FakeTwilio, sms_settings


class TestTwilioSmsContract(MessengerContract):
    @pytest.fixture
    def messenger(self, fake_twilio: FakeTwilio) -> TwilioSmsMessenger:
        return TwilioSmsMessenger({})

    @pytest.fixture
    def received_texts(self, fake_twilio: FakeTwilio) -> Callable[[], list[str]]:
        return fake_twilio.bodies

    @pytest.fixture
    def recipient_factory(self) -> RecipientFactory:
        return lambda n: Recipient(user=None, address=f"+1415555{n + 200:04d}")

    @pytest.fixture
    def unreachable_messenger(self, settings: Any, closed_port: int) -> TwilioSmsMessenger:
        sms_settings(settings, API_BASE=f"http://127.0.0.1:{closed_port}")
        return TwilioSmsMessenger({})
