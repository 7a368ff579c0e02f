"""``manage.py rundemo``: migrate, create the demo data, print the login, serve the site.

Serves with Django's development server on 127.0.0.1 (port 8000 unless ``--port`` or
``--addrport``), without the autoreloader, so the console messenger's output appears
in this terminal. ``--noserve`` stops after the set-up (tests, scripts).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from shop.demo_data import ADMIN_LOGIN, STAFF_LOGIN, ensure_demo_data


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
        call_command(
            "runserver",
            addrport,
            use_reloader=False,  # one process: the printed notifications stay here
            skip_checks=True,  # they ran with migrate
            shutdown_message="DSN demo stopped.",
        )

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
            rule,
        ]
        self.stdout.write("\n".join(lines))
        self.stdout.flush()
