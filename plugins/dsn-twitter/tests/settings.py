"""dsn-twitter's test settings: DSN's plugin test settings, plus this plugin's section."""

from __future__ import annotations

from dsn_core.testing.settings import *  # noqa: F403
from dsn_core.testing.settings import DSN

DSN = {
    **DSN,
    "TWITTER": {
        "CONSUMER_KEY": "test-consumer-key",
        "CONSUMER_SECRET": "test-consumer-secret",
        "ACCESS_TOKEN": "1234-test-access-token",
        "ACCESS_TOKEN_SECRET": "test-access-token-secret",
        "TIMEOUT": 5,
        # conftest.py's `fake_x` points API_URL at a fake X API on 127.0.0.1; without it
        # pytest-socket refuses the real host.
    },
}
