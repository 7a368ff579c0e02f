"""A throwaway redis-server on 127.0.0.1 for the tests that run a real RQ worker.

Why: a distributed task queue is only tested for real with its broker. Nobody should
have to run one: this starts a private redis-server on a free loopback port, with no
persistence, and always stops it. It needs Debian's ``redis-server`` (.ci/run installs
it); :func:`require_redis_server` skips without it locally and fails on CI, where a
silently skipped broker test would pass for nothing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

START_TIMEOUT = 10.0  # seconds for the server to answer PING


def require_redis_server() -> str:
    """The redis-server executable; skip loudly without one, or fail on CI (env CI set)."""
    path = shutil.which("redis-server")
    if path is None:
        message = "redis-server is not installed (apt-get install -y redis-server)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}: .ci/run must install it", pytrace=False)
        pytest.skip(f"SKIPPING the RQ worker test: {message}")
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ping(port: int) -> bool:
    """True when a Redis server on 127.0.0.1:port answers PING (RESP, no client library)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextlib.contextmanager
def throwaway_redis(executable: str, workdir: Path) -> Iterator[int]:
    """Run redis-server on a free 127.0.0.1 port until the block ends; yield the port."""
    port = free_port()
    log = workdir / f"redis-{port}.log"
    options = {"bind": "127.0.0.1", "port": str(port), "save": "", "appendonly": "no"}
    command = [
        executable,
        *(arg for name, value in options.items() for arg in (f"--{name}", value)),
    ]
    with log.open("w") as output:
        server = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, cwd=workdir)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not ping(port):
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.05)
        yield port
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
