"""``manage.py rundemo``: migrate, create the demo data, print the login, serve the site.

Serves with Django's development server on 127.0.0.1 (port 8000 unless ``--port`` or
``--addrport``), without the autoreloader, so the console messenger's output appears
in this terminal. ``--noserve`` stops after the set-up (tests, scripts). With
``DSN_DEMO_QUEUE=db`` it also runs a ``db_worker`` process that sends the deliveries.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from shop.demo_data import ADMIN_LOGIN, STAFF_LOGIN, ensure_demo_data


def _delivery_mode() -> str:
    if "django_tasks_db" in settings.INSTALLED_APPS:
        return "database queue, worked by a db_worker started with the server"
    return "right after each commit, in the server (Django's ImmediateBackend)"


def _browser_url(addrport: str) -> str:
    """The admin URL for an ``addr:port`` as runserver accepts it (a bare port too)."""
    host, _, port = addrport.rpartition(":")
    if host in {"", "0.0.0.0", "[::]", "::"}:  # wildcards: browse via loopback
        host = "127.0.0.1"
    return f"http://{host}:{port}/admin/"


class Command(BaseCommand):
    help = "Set up the DSN demo (migrate, demo users and notifications) and serve it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--port", type=int, default=8000, help="Port on 127.0.0.1 (default 8000)."
        )
        parser.add_argument(
            "--addrport",
            help="Address and port for runserver, e.g. 0.0.0.0:8000; wins over --port.",
        )
        parser.add_argument(
            "--noserve", action="store_true", help="Set up the demo and exit without serving."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity = int(options["verbosity"])
        # System checks run here (call_command skips them by default), so a broken
        # message template or plugin shows up before anything is served.
        call_command("migrate", interactive=False, verbosity=verbosity, skip_checks=False)
        ensure_demo_data()
        addrport = options["addrport"] or f"127.0.0.1:{options['port']}"
        self._print_welcome(_browser_url(addrport))
        if options["noserve"]:
            return
        with self._worker():
            call_command(
                "runserver",
                addrport,
                use_reloader=False,  # one process: the printed notifications stay here
                skip_checks=True,  # they ran with migrate
                shutdown_message="DSN demo stopped.",
            )

    @contextlib.contextmanager
    def _worker(self) -> Iterator[None]:
        """With the database queue, a db_worker beside the server sends the deliveries."""
        if "django_tasks_db" not in settings.INSTALLED_APPS:
            yield
            return
        manage = Path(__file__).resolve().parents[3] / "manage.py"
        command = [sys.executable, str(manage), "db_worker", "--queue-name", "*", "--no-reload"]
        self.stdout.write("Starting the delivery worker: " + " ".join(command[1:]))
        worker = subprocess.Popen(command)
        try:
            yield
        finally:
            worker.terminate()  # SIGTERM: it finishes the task at hand, then exits
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()

    def _print_welcome(self, url: str) -> None:
        database = settings.DATABASES["default"]["NAME"]
        rule = "=" * 72
        lines = [
            rule,
            "DSN demo is ready.",
            "",
            f"  Admin:     {url}",
            f"  Login:     {ADMIN_LOGIN[0]} / {ADMIN_LOGIN[1]}    (demo only; staff user: "
            f"{STAFF_LOGIN[0]} / {STAFF_LOGIN[1]})",
            f"  Database:  {database}",
            "",
            "  Try it: Shop > Orders, tick an order, choose 'Mark shipped', click Go.",
            "  Or add an order. DSN prints each notification here, in this terminal.",
            f"  Delivery:  {_delivery_mode()}",
            rule,
        ]
        self.stdout.write("\n".join(lines))
        self.stdout.flush()
