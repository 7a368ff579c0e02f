"""DSN's benchmark: ``python bench/run.py`` (``nox -s bench``)."""
