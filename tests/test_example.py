"""The example site end to end: set-up, the notifications it prints, and the live server.

The demo runs only in subprocesses (``example/`` is no package of the test settings), on
a temporary SQLite file named by ``DSN_DEMO_DB``, so ``example/db.sqlite3`` is never
touched. Deprecation warnings are errors in the subprocesses, as in this suite.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from importlib.util import find_spec
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MANAGE = ROOT / "example" / "manage.py"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("DSN_TEST_DB") == "postgres",
        reason="the demo always runs on SQLite; the SQLite run of the suite covers it",
    ),
]


EMAIL_PLUGIN = find_spec("dsn_email") is not None


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, str(MANAGE), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, (
        f"manage.py {' '.join(args)} exited {result.returncode}\n"
        f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    )
    return result


@pytest.fixture(scope="module")
def demo_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        # pytest-django exported the core test settings; the demo has its own.
        DJANGO_SETTINGS_MODULE="demo_site.settings",
        DSN_DEMO_DB=str(tmp_path_factory.mktemp("demo") / "demo.sqlite3"),
        PYTHONUNBUFFERED="1",
        PYTHONWARNINGS="error::DeprecationWarning,error::PendingDeprecationWarning",
    )
    return env


@pytest.fixture(scope="module")
def demo_setup(demo_env: dict[str, str]) -> str:
    """Output of the first ``rundemo --noserve`` on a fresh database."""
    return _manage(demo_env, "rundemo", "--noserve").stdout


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_rundemo_noserve_sets_up_and_prints_the_login(demo_setup, demo_env):
    assert "Applying shop.0001_initial... OK" in demo_setup
    assert "Admin:     http://127.0.0.1:8000/admin/" in demo_setup
    assert "Login:     admin / admin" in demo_setup
    assert demo_env["DSN_DEMO_DB"] in demo_setup

    again = _manage(demo_env, "rundemo", "--noserve", "--port", "8123")
    assert "No migrations to apply." in again.stdout
    assert "http://127.0.0.1:8123/admin/" in again.stdout
    # Idempotent: the second run created nothing twice, and printed no notification.
    counts = _manage(
        demo_env,
        "shell",
        "-c",
        "from django.contrib.auth.models import User, Group\n"
        "from dsn_core.models import Backend, Subscription, Trigger\n"
        "from shop.models import Order\n"
        "admin = User.objects.get(username='admin')\n"
        "print('counts', User.objects.count(), Group.objects.count(), Trigger.objects.count(),"
        " Backend.objects.count(), Subscription.objects.count(),"
        " Order.objects.filter(item='Blue mug').count(),"
        " admin.is_superuser, admin.check_password('admin'))",
    )
    # dsn-email installed (nox installs every plugin): the demo also emails the admin.
    backends = 3 if EMAIL_PLUGIN else 2
    assert f"counts 4 1 2 {backends} {backends} 1 True True" in counts.stdout
    assert "-- DSN message" not in again.stdout + counts.stdout


def test_shipping_an_order_prints_both_notifications(demo_setup, demo_env):
    script = """
from django.contrib.auth.models import User
from dsn_core import registry
from shop.models import Order

source = registry.message_templates.source_of
print("sources", source("shop.order_shipped"), source("OrderAuditTemplate"))
alice = User.objects.get(username="alice")
order = Order.objects.create(customer=alice, item="Red kettle", quantity=3)
print("== shipping", order.pk)
order.mark_shipped(User.objects.get(username="clerk"), "TRACK-42")
"""
    output = _manage(demo_env, "shell", "-c", script).stdout
    # The plugin module's hook and the seed-style Add_Message_Template both registered.
    assert "sources shop.dsn_plugin shop.message_templates" in output
    created, shipping = output.split("== shipping ")
    pk = int(shipping.split()[0])

    for name in ("admin", "packer"):  # the subscribed user and the Warehouse group's member
        assert (
            f"-- DSN message to {name}\n"
            f"Subject: New order #{pk}: 3 x Red kettle\n"
            f"Hello {name}: alice ordered 3 x Red kettle (order #{pk}).\n"
        ) in created
        assert (
            f"-- DSN message to {name}\n"
            f"Subject: Order changed #{pk}: 3 x Red kettle\n"
            f"Hello {name}: order #{pk} of alice was changed; its status is shipped.\n"
        ) in shipping
        # order_shipped matched its trigger's actor type and target, and renders both.
        assert (
            f"-- DSN message to {name}\n"
            f"Subject: Order #{pk} shipped\n"
            f"Hello {name}: clerk shipped order #{pk} (3 x Red kettle for alice) "
            "from warehouse-1. Tracking number: TRACK-42.\n"
        ) in shipping
    assert created.count("-- DSN message to") == 2
    assert shipping.count("-- DSN message to") == 4
    if EMAIL_PLUGIN:  # Django's console email backend prints the email
        assert shipping.count("To: admin@example.com") == 1
        assert f"Subject: Order #{pk} shipped" in shipping
        assert "From: DSN demo shop <shop@example.com>" in shipping


def test_rundemo_serves_the_admin_and_its_action_notifies(demo_setup, demo_env):
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, str(MANAGE), "rundemo", "--port", str(port)],
        cwd=ROOT,
        env=demo_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        deadline = time.monotonic() + 15
        while True:
            assert server.poll() is None, "rundemo exited before serving"
            try:
                with opener.open(f"{base}/admin/login/", timeout=2) as response:
                    status, login_page = response.status, response.read().decode()
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, "the demo did not answer within 15 s"
                time.sleep(0.1)
        assert status == 200
        assert "csrfmiddlewaretoken" in login_page

        def post(path: str, data: dict[str, str], page: str) -> str:
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
            assert token is not None, page
            body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": token[1]}).encode()
            with opener.open(f"{base}{path}", data=body, timeout=10) as response:
                return str(response.read().decode())

        changelist = post(
            "/admin/login/",
            {"username": "admin", "password": "admin", "next": "/admin/shop/order/"},
            login_page,
        )
        assert "Blue mug" in changelist  # logged in, on the orders page
        # The demo's sample order is the first one on a fresh database.
        done = post(
            "/admin/shop/order/",
            {"action": "mark_shipped", "_selected_action": "1", "index": "0"},
            changelist,
        )
        assert "1 order shipped" in done

        # Saving the form with status "shipped" ships too (OrderAdmin.save_model).
        with opener.open(f"{base}/admin/shop/order/add/", timeout=10) as response:
            add_page = response.read().decode()
        alice = re.search(r'<option value="(\d+)">alice</option>', add_page)
        assert alice is not None, add_page
        order_data = {"customer": alice[1], "item": "Green teapot", "quantity": "1"}
        post("/admin/shop/order/add/", {**order_data, "status": "shipped"}, add_page)
    finally:
        server.send_signal(signal.SIGINT)  # Ctrl-C, as a person would stop it
        try:
            stdout, stderr = server.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            stdout, stderr = server.communicate()
    assert server.returncode == 0, stderr
    assert f"Admin:     {base}/admin/" in stdout
    assert (
        "-- DSN message to packer\n"
        "Subject: Order #1 shipped\n"
        "Hello packer: admin shipped order #1 (2 x Blue mug for alice) from warehouse-1. "
        "Tracking number: DEMO-"
    ) in stdout
    created = re.search(r"Hello admin: alice ordered 1 x Green teapot \(order #(\d+)\)", stdout)
    assert created is not None, stdout
    assert (
        f"Hello admin: admin shipped order #{created[1]} (1 x Green teapot for alice) "
        "from warehouse-1. Tracking number: DEMO-"
    ) in stdout
    assert "DSN demo stopped." in stdout
