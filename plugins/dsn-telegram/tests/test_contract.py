"""The core's messenger contract, against the fake Bot API."""

from __future__ import annotations

import pytest

from dsn_core.messages import Recipient
from dsn_core.testing.contract import MessengerContract
from dsn_telegram.messenger import TelegramBroadcastMessenger, TelegramMessenger

from .conftest import telegram_settings


class TestTelegramContract(MessengerContract):
    @pytest.fixture
    def messenger(self, fake_telegram):
        return TelegramMessenger({})

    @pytest.fixture
    def received_texts(self, fake_telegram):
        return fake_telegram.texts

    @pytest.fixture
    def recipient_factory(self):
        return lambda n: Recipient(user=None, address=str(5000 + n))

    @pytest.fixture
    def unreachable_messenger(self, settings, closed_port):
        telegram_settings(settings, API_URL=f"http://127.0.0.1:{closed_port}", TIMEOUT=2.0)
        return TelegramMessenger({})


class TestTelegramBroadcastContract(TestTelegramContract):
    batch_size = 2

    @pytest.fixture
    def messenger(self, fake_telegram, settings):
        telegram_settings(settings, CHAT_ID="-1001234")
        return TelegramBroadcastMessenger({})

    @pytest.fixture
    def unreachable_messenger(self, settings, closed_port):
        telegram_settings(
            settings, API_URL=f"http://127.0.0.1:{closed_port}", TIMEOUT=2.0, CHAT_ID="-1001"
        )
        return TelegramBroadcastMessenger({})
