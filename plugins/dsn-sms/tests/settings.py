"""dsn-sms's test settings: DSN's plugin test settings, plus this plugin's section."""

from __future__ import annotations

from dsn_core.testing.settings import *  # noqa: F403
from dsn_core.testing.settings import DSN

DSN = {
    **DSN,
    "SMS": {
        "ACCOUNT_SID": "AC" + "0123456789abcdef" * 2,
        "AUTH_TOKEN": "fedcba9876543210" * 2,
        "FROM_NUMBER": "+14155550100",
        "BASE_URL": "https://sms.example.com",
        # Tests point Twilio at a fake API on 127.0.0.1 (see conftest.py).
        "TIMEOUT": 2,
    },
}
