"""Dev and CI tasks. `python -m nox` runs lint, typecheck, tests and build (what CI runs).

    python -m nox -s "tests(py3.11-django5.2)" -- -x -k outbox
    python -m nox -s demo          # example project on 127.0.0.1, prints a login
    python -m nox -s bench         # benchmarks on SQLite, then PostgreSQL

Tests and benchmarks run twice: on SQLite, then on a throwaway PostgreSQL server
(tools/pgserver.py) whose address reaches the code as DSN_TEST_DB=postgres and
PGHOST/PGPORT/PGUSER/PGDATABASE; the SQLite runs get DSN_TEST_DB=sqlite.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import zipfile
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))  # nox does not put the noxfile's directory on sys.path

from tools.pgserver import PostgresNotInstalled, throwaway_postgres  # noqa: E402

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["lint", "typecheck", "tests", "plugin_alone", "build"]

PYTHON = "3.11"
PYPROJECT = nox.project.load_toml(ROOT / "pyproject.toml")
PLUGINS = sorted(p.parent for p in ROOT.glob("plugins/*/pyproject.toml"))
PLUGIN_TOML = {plugin.name: nox.project.load_toml(plugin / "pyproject.toml") for plugin in PLUGINS}
SQLITE = {"DSN_TEST_DB": "sqlite"}
ALONE_CHECK = """import sys, importlib.metadata as m
found = {e.dist.name for e in m.entry_points(group="dsn")}
sys.exit(f"other plugins installed: {found}" if found - {sys.argv[1]} else None)"""


def _expose_pyenv_pythons() -> None:
    """Put pyenv's interpreters on PATH (newest patch of each 3.1x).

    Why: only pyenv's global version is exposed, its `python3.12` shim fails, and
    nox then asks uv to download a Python, which needs a host CI cannot reach.
    The running interpreter's minor goes first so a bare `python3` stays the same.
    """
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    newest: dict[int, tuple[int, Path]] = {}
    for bindir in root.glob("versions/3.1*/bin"):
        match = re.fullmatch(r"3\.(1\d)\.(\d+)", bindir.parent.name)
        if match and (bindir / "python3").exists():
            minor, patch = int(match[1]), int(match[2])
            if minor not in newest or patch > newest[minor][0]:
                newest[minor] = (patch, bindir)
    order = sorted(newest, key=lambda minor: (minor != sys.version_info.minor, -minor))
    paths = os.environ.get("PATH", "").split(os.pathsep)
    add = [str(newest[m][1]) for m in order if str(newest[m][1]) not in paths]
    os.environ["PATH"] = os.pathsep.join([*add, *paths])


_expose_pyenv_pythons()
# Compiled bytecode in the venvs: the tests start Django processes (workers, the demo),
# and each compiles every module it imports when no .pyc exists.
os.environ.setdefault("UV_COMPILE_BYTECODE", "1")


def _plugin_groups(group: str, plugins: list[Path] = PLUGINS) -> list[str]:
    """A dependency group (test, typecheck) of each plugin's own pyproject.toml."""
    found: list[str] = []
    for plugin in plugins:
        found += nox.project.dependency_groups(PLUGIN_TOML[plugin.name], group)
    return found


def _pytest_everywhere(session: nox.Session, env: dict[str, str]) -> None:
    """Core's suite, then each plugin's from its own directory (its own pytest config,
    its own Django settings, its entry point loaded as a site would)."""
    # With a selection (-k, a path) some suites may match nothing: pytest's 5 is fine
    # then. Without one, "no tests collected" is a failure.
    codes = [0, 5] if session.posargs else [0]
    session.run("pytest", *session.posargs, env=env, success_codes=codes)
    for plugin in PLUGINS:
        with session.chdir(plugin):
            session.run("pytest", *session.posargs, env=env, success_codes=codes)


def _postgres_unavailable(session: nox.Session, what: str) -> None:
    """On CI a missing PostgreSQL is an error (else the PG run silently vanishes);
    locally it only skips the PostgreSQL half, loudly."""
    if os.environ.get("CI"):
        session.error(
            f"PostgreSQL is not installed, so the PostgreSQL {what} cannot run: install "
            "postgresql (.ci/run does: apt-get install -y postgresql)"
        )
    session.warn("=" * 72)
    session.warn(f"PostgreSQL is not installed: SKIPPING the PostgreSQL {what}.")
    session.warn("Only SQLite was tested. Install it: apt-get install postgresql")
    session.warn("=" * 72)


@nox.session
@nox.parametrize(
    ("python", "django"),
    [
        nox.param("3.11", "Django>=5.2,<6", id="py3.11-django5.2"),
        nox.param("3.12", "Django>=6.0,<7", id="py3.12-django6"),
    ],
)
def tests(session: nox.Session, django: str) -> None:
    """pytest on SQLite, then on PostgreSQL, for each supported Django.

    pytest's exit code 5 (no tests collected) fails the session, as any non-zero does.
    """
    plugins = [arg for plugin in PLUGINS for arg in ("-e", str(plugin))]
    session.install(
        "-e",
        ".",
        *plugins,
        *nox.project.dependency_groups(PYPROJECT, "test"),
        *_plugin_groups("test"),
        "psycopg[binary]",
        django,  # one resolve, so the Django pin holds for every package
    )
    _pytest_everywhere(session, SQLITE)
    try:
        with throwaway_postgres() as pg_env:
            session.log(f"PostgreSQL on {pg_env['PGHOST']}:{pg_env['PGPORT']}")
            _pytest_everywhere(session, pg_env)
    except PostgresNotInstalled:
        _postgres_unavailable(session, "tests")


@nox.session(python=PYTHON)
@nox.parametrize("plugin", [plugin.name for plugin in PLUGINS])
def plugin_alone(session: nox.Session, plugin: str) -> None:
    """One plugin with only dsn-core, both built as distributions: proves it needs no
    other plugin, and that its wheel carries what its tests use (templates, py.typed)."""
    path = ROOT / "plugins" / plugin
    reinstall = ["--reinstall-package", "dsn-core", "--reinstall-package", plugin]
    session.install(
        *(reinstall if session.venv_backend == "uv" else []),
        str(ROOT),
        str(path),
        *_plugin_groups("test", [path]),
    )
    # Only dsn-core's built-in plugin and this one answer in the "dsn" entry-point group.
    session.run("python", "-c", ALONE_CHECK, plugin)
    with session.chdir(path):
        session.run("pytest", *session.posargs, env=SQLITE)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff lint and format check over the whole repo."""
    session.install(*nox.project.dependency_groups(PYPROJECT, "lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy --strict (settings in pyproject); django-stubs loads tests/settings.py."""
    plugins = [arg for plugin in PLUGINS for arg in ("-e", str(plugin))]
    session.install(
        "-e",
        ".",
        *plugins,
        *nox.project.dependency_groups(PYPROJECT, "typecheck"),
        *_plugin_groups("typecheck"),
        "psycopg[binary]",
    )
    session.run("mypy", "dsn_core", "tests")
    for plugin in PLUGINS:  # each with its own config: its tests have their own settings
        with session.chdir(plugin):
            session.run("python", "-m", "mypy", "src", "tests")  # -m: cwd first on sys.path


@nox.session(python=PYTHON)
def demo(session: nox.Session) -> None:
    """The example project: migrates, prints a login, serves on 127.0.0.1. Ctrl-C stops it.

    DSN_DEMO_QUEUE=db delivers through django-tasks-db's database queue and a worker.
    """
    # dsn-email: the demo also emails, through Django's console email backend.
    session.install("-e", ".", "-e", "plugins/dsn-email", "django-tasks-db[compat]")
    try:
        session.run(
            "python",
            "example/manage.py",
            "rundemo",
            *session.posargs,
            external=False,
            interrupt_timeout=10,  # let the server shut down on its own after Ctrl-C
        )
    except KeyboardInterrupt:
        session.log("demo stopped")


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Benchmarks on SQLite, then on a throwaway PostgreSQL if one can be started."""
    # django-tasks-db: the benchmark also times a real db_worker process.
    session.install(
        "-e",
        ".",
        "-e",
        "plugins/dsn-email",  # section 6: SendGrid through its real SDK, to a fake API
        "pytest-httpserver",
        "psycopg[binary]",
        "django-tasks-db[compat]>=0.13",
    )
    session.run("python", "bench/run.py", *session.posargs, env=SQLITE)
    try:
        with throwaway_postgres() as pg_env:
            session.run("python", "bench/run.py", *session.posargs, env=pg_env)
    except PostgresNotInstalled:
        session.log("PostgreSQL is not installed: skipping the PostgreSQL benchmark.")


@nox.session(python=PYTHON)
def build(session: nox.Session) -> None:
    """Build sdist+wheel of dsn-core and every plugin; check what PyPI would get.

    Why: a wheel without py.typed loses its types for users, and one without the
    migrations breaks `migrate`; twine --strict catches bad metadata and README.
    """
    uv = session.venv_backend == "uv"
    session.install("twine", *([] if uv else ["build"]))
    with tempfile.TemporaryDirectory(prefix="dsn-dist-") as tmp:
        dist = Path(tmp)
        for project in [ROOT, *PLUGINS]:
            if uv:
                session.run("uv", "build", "--sdist", "--wheel", "-o", str(dist), str(project))
            else:
                session.run("python", "-m", "build", "--outdir", str(dist), str(project))
        artifacts = [*dist.glob("*.tar.gz"), *dist.glob("*.whl")]  # skips uv's .gitignore
        session.run("twine", "check", "--strict", *sorted(map(str, artifacts)))

        wheels = sorted(dist.glob("*.whl"))
        problems = []
        if len(wheels) != 1 + len(PLUGINS):
            problems.append(f"expected {1 + len(PLUGINS)} wheels: {[w.name for w in wheels]}")
        for wheel in wheels:
            package = wheel.name.split("-")[0]  # normalized dist name: dsn_core, dsn_<channel>
            required = {f"{package}/py.typed"}
            if package == "dsn_core":
                required.add("dsn_core/migrations/0001_initial.py")
            with zipfile.ZipFile(wheel) as zf:
                missing = required - set(zf.namelist())
            problems += [f"{wheel.name} lacks {name}" for name in sorted(missing)]
        if problems:
            session.error("; ".join(problems))
        session.log(f"{len(wheels)} wheels have py.typed; dsn_core has its migrations")
