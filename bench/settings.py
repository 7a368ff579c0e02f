"""Benchmark settings: the test suite's apps and database choice (SQLite, or PostgreSQL
when ``DSN_TEST_DB=postgres``), a database of the benchmark's own, and a DSN
configuration that never checks the configuration version while timing."""

from __future__ import annotations

import copy
import os
import tempfile
from pathlib import Path
from typing import Any

from tests import settings as test_settings

# Every setting of the test suite (apps, templates, logging at WARNING to nowhere, the
# database choice); the overrides below replace the database name and DSN.
globals().update(
    {name: getattr(test_settings, name) for name in dir(test_settings) if name.isupper()}
)

DATABASES: dict[str, dict[str, Any]] = copy.deepcopy(test_settings.DATABASES)
_default = DATABASES["default"]
if str(_default["ENGINE"]).endswith("sqlite3"):
    # A fresh file per run: the runner deletes it, and never touches the tests' file.
    _db_file = str(Path(tempfile.gettempdir()) / f"dsn-bench-{os.getpid()}.sqlite3")
    _default["NAME"] = _db_file
    _default["TEST"] = {"NAME": _db_file}
else:
    # Django's test-database machinery creates, migrates and drops this one.
    _default["TEST"] = {"NAME": f"dsn_bench_{os.getpid()}"}

DSN = {
    # No plugin discovery: the benchmark measures core with its built-in console messenger.
    "LOAD_ENTRY_POINTS": False,
    # An hour: the trigger index is built once before timing and the configuration
    # version is never re-read inside a measurement (production's default is 5 s, which
    # adds one tiny query per process every 5 s, not per save).
    "REFRESH_INTERVAL": 3600,
    # Raise instead of logging: a benchmark that silently timed an error path would lie.
    "STRICT": True,
}
