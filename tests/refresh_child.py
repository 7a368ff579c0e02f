"""A second process of the site for test_config_refresh: saves in a loop until notified.

Prints READY once its trigger index is loaded, then DELIVERED <seconds since READY>
when the first notification reaches its outbox.
"""

from __future__ import annotations

import os
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
django.setup()

from dsn_core.testing import outbox, register_plugin, testing_plugin  # noqa: E402
from tests.testapp.models import TestModel1  # noqa: E402


def main() -> int:
    deadline = time.monotonic() + float(sys.argv[1])
    with register_plugin(testing_plugin, name="dsn_core.testing"):
        obj = TestModel1.objects.create(name="child")
        print("READY", flush=True)
        while time.monotonic() < deadline:
            obj.save()
            if outbox:
                print("DELIVERED", outbox[0].message.text, flush=True)
                return 0
            time.sleep(0.05)
    print("TIMEOUT", flush=True)
    return 1


if __name__ == "__main__":
    sys.exit(main())
