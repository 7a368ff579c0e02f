"""Both messengers held to core's messenger contract, against the fake X API."""

from __future__ import annotations

from typing import Any

import pytest

from dsn_core.messages import Recipient
from dsn_core.testing.contract import MessengerContract
from dsn_twitter.messengers import TwitterDirectMessenger, TwitterPostMessenger


def point_at_closed_port(settings: Any, port: int) -> None:
    settings.DSN = {
        **settings.DSN,
        "TWITTER": {**settings.DSN["TWITTER"], "API_URL": f"http://127.0.0.1:{port}"},
    }


@pytest.mark.django_db
class TestDirectMessageContract(MessengerContract):
    @pytest.fixture
    def messenger(self, fake_x):
        fake_x.accept_dms()
        return TwitterDirectMessenger({})

    @pytest.fixture
    def received_texts(self, fake_x):
        return fake_x.texts

    @pytest.fixture
    def recipient_factory(self):
        return lambda n: Recipient(user=None, address=str(1000 + n))

    @pytest.fixture
    def unreachable_messenger(self, settings, closed_port):
        point_at_closed_port(settings, closed_port)
        return TwitterDirectMessenger({})


@pytest.mark.django_db
class TestPostContract(MessengerContract):
    @pytest.fixture
    def messenger(self, fake_x):
        fake_x.accept_posts()
        return TwitterPostMessenger({})

    @pytest.fixture
    def received_texts(self, fake_x):
        return fake_x.texts

    @pytest.fixture
    def recipient_factory(self):
        return lambda n: Recipient(user=None, address=None)  # a broadcast: no one in particular

    @pytest.fixture
    def unreachable_messenger(self, settings, closed_port):
        point_at_closed_port(settings, closed_port)
        return TwitterPostMessenger({})
