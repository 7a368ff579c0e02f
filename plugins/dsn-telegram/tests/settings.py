"""dsn-telegram's test settings: DSN's plugin test settings, plus this plugin's section."""

from __future__ import annotations

import os

from dsn_core.testing.settings import *  # noqa: F403
from dsn_core.testing.settings import DSN

# python-telegram-bot 22 warns (a deprecation, an error under -W error) unless told to
# return timedeltas, which the plugin handles; see PLUGINS.md.
os.environ.setdefault("PTB_TIMEDELTA", "true")

BOT_TOKEN = "123456789:AAtest-token_for-DSN-tests-only-xyz"

DSN = {
    **DSN,
    "TELEGRAM": {
        "BOT_TOKEN": BOT_TOKEN,
        "BOT_USERNAME": "dsn_test_bot",
        "WEBHOOK_SECRET": "test-webhook-secret_123",
        # conftest.py points API_URL at a fake Bot API on 127.0.0.1.
        "API_URL": "http://127.0.0.1:9",
        "TIMEOUT": 5.0,
    },
}
