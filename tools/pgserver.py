"""A throwaway PostgreSQL server for tests and benchmarks.

Why: DSN's delivery relies on row locks and ``skip_locked``, which SQLite cannot
exercise, so the suite also runs on PostgreSQL. Nobody should have to configure a
server for that: this module starts a private cluster in a temp dir, listening only
on 127.0.0.1 at a free port, and always stops and deletes it afterwards.

    with throwaway_postgres() as env:   # DSN_TEST_DB, PGHOST, PGPORT, PGUSER, PGDATABASE
        subprocess.run(["pytest"], env={**os.environ, **env}, check=True)

    python tools/pgserver.py -- pytest -x     # run one command against a fresh server

Standard library only: noxfile.py imports it before any virtualenv exists.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

START_TIMEOUT = 60  # seconds for pg_ctl to see the server ready
DEBIAN_BINDIRS = "/usr/lib/postgresql/*/bin"

# Appended to postgresql.conf; later settings win. Durability is pointless for a
# cluster that is deleted at exit, and turning it off makes tests much faster.
_CONF = """
listen_addresses = '127.0.0.1'
unix_socket_directories = '{sockdir}'
fsync = off
full_page_writes = off
synchronous_commit = off
"""


class PostgresNotInstalled(RuntimeError):
    """initdb/pg_ctl were found neither on PATH nor under /usr/lib/postgresql/*/bin."""


class PostgresStartError(RuntimeError):
    """The cluster could not be created or did not start."""


def find_bindir() -> Path | None:
    """Directory holding initdb, pg_ctl and postgres: PATH first, then Debian's
    /usr/lib/postgresql/<version>/bin, highest version first. None if absent."""
    candidates: list[Path] = []
    if initdb := shutil.which("initdb"):
        candidates.append(Path(initdb).resolve().parent)
    debian = sorted(Path("/").glob(DEBIAN_BINDIRS.lstrip("/")), key=_version_key, reverse=True)
    candidates.extend(debian)
    for bindir in candidates:
        if all((bindir / exe).is_file() for exe in ("initdb", "pg_ctl", "postgres")):
            return bindir
    return None


def _version_key(bindir: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", bindir.parent.name))


def _server_owner() -> pwd.struct_passwd | None:
    """initdb and postgres refuse to run as root: then run them as `postgres`."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        raise PostgresStartError(
            "running as root, and PostgreSQL refuses to run as root, but there is no "
            "'postgres' OS user to run it as (Debian's postgresql package creates one)"
        ) from None


def _run(
    args: Sequence[str | Path], owner: pwd.struct_passwd | None, cwd: Path
) -> subprocess.CompletedProcess[str]:
    # A new session keeps a terminal's Ctrl-C away from the server: we stop it ourselves.
    # PG* variables are dropped so that an outer PGPORT/PGDATA cannot leak in.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    return subprocess.run(
        [str(arg) for arg in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        start_new_session=True,
        user=owner.pw_uid if owner else None,
        group=owner.pw_gid if owner else None,
        extra_groups=[] if owner else None,
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no server log)"
    return "\n".join(text.splitlines()[-lines:])


def _accepts_tcp(port: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)


def _start(bindir: Path, data: Path, log: Path, owner: pwd.struct_passwd | None) -> int:
    """Start the server on a free port; retry if another process grabbed the port."""
    for attempt in range(3):
        port = _free_port()
        log.unlink(missing_ok=True)
        res = _run(
            [
                bindir / "pg_ctl",
                "start",
                "-D",
                data,
                "-l",
                log,
                "-w",
                "-t",
                str(START_TIMEOUT),
                "-o",
                f"-p {port}",
            ],
            owner,
            data.parent,
        )
        if res.returncode == 0 and _accepts_tcp(port):
            return port
        tail = _tail(log)
        if "could not bind" in tail and attempt < 2:
            continue
        raise PostgresStartError(
            f"PostgreSQL did not start on 127.0.0.1:{port} within {START_TIMEOUT}s\n"
            f"pg_ctl said: {(res.stdout + res.stderr).strip()}\n"
            f"--- last lines of {log} ---\n{tail}"
        )
    raise AssertionError("unreachable")


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[dict[str, str]]:
    """Run a private PostgreSQL cluster; yield the env vars that point at it.

    Raises PostgresNotInstalled before doing anything if the binaries are absent.
    The server is stopped and its directory deleted on any exit, Ctrl-C included.
    """
    bindir = find_bindir()
    if bindir is None:
        raise PostgresNotInstalled(
            "PostgreSQL server binaries (initdb, pg_ctl) were not found on PATH or in "
            f"{DEBIAN_BINDIRS}; install PostgreSQL (Debian/Ubuntu: apt-get install postgresql)"
        )
    owner = _server_owner()
    # As root the server runs as `postgres`, which must reach the dir: /tmp is safe.
    tmp = Path(tempfile.mkdtemp(prefix="dsn-pg-", dir="/tmp" if owner else None))
    data = tmp / "data"
    try:
        if owner:
            os.chown(tmp, owner.pw_uid, owner.pw_gid)
        res = _run(
            [
                bindir / "initdb",
                "-D",
                data,
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ],
            owner,
            tmp,
        )
        if res.returncode != 0:
            raise PostgresStartError(f"initdb failed:\n{(res.stdout + res.stderr).strip()}")
        with (data / "postgresql.conf").open("a") as conf:
            conf.write(_CONF.format(sockdir=tmp))
        port = _start(bindir, data, tmp / "server.log", owner)
        yield {
            "DSN_TEST_DB": "postgres",
            "PGHOST": "127.0.0.1",
            "PGPORT": str(port),
            "PGUSER": "postgres",
            "PGDATABASE": "postgres",
        }
    finally:
        if (data / "postmaster.pid").exists():
            _run([bindir / "pg_ctl", "stop", "-D", data, "-m", "fast", "-w"], owner, tmp)
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    """`python tools/pgserver.py -- CMD ARGS`: run CMD against a throwaway server."""
    cmd = list(sys.argv[1:] if argv is None else argv)
    if cmd[:1] == ["--"]:
        cmd = cmd[1:]
    if not cmd:
        print("usage: python tools/pgserver.py -- CMD [ARGS...]", file=sys.stderr)
        return 2
    try:
        with throwaway_postgres() as env:
            print(f"pgserver: PostgreSQL on 127.0.0.1:{env['PGPORT']}", file=sys.stderr)
            try:
                proc = subprocess.Popen(cmd, env={**os.environ, **env})
            except OSError as exc:
                print(f"pgserver: cannot run {cmd[0]}: {exc}", file=sys.stderr)
                return 127
            try:
                return proc.wait()
            except KeyboardInterrupt:  # the child got the same Ctrl-C; let it finish
                proc.wait()
                return 130
    except (PostgresNotInstalled, PostgresStartError) as exc:
        print(f"pgserver: {exc}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
