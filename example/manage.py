#!/usr/bin/env python
"""The demo site's manage.py. From the repository root: ``python example/manage.py rundemo``."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def main() -> None:
    # Python already puts this script's folder first on sys.path; say so explicitly so the
    # demo's packages (demo_site, shop) import however manage.py is started.
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo_site.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
