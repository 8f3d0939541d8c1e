"""Real PostgreSQL, Redis and S3 servers for the binding suite, started once per test session.

* PostgreSQL and Redis come from the system packages (``postgresql``, ``redis-server``); when
  their binaries are missing they are installed with ``apt-get`` (CI is a bare machine, as
  root). Each server runs on a free port with its data in a temporary folder, and is stopped
  when the session ends.
* S3 is moto's server mode (``moto[server]``, in the ``dev`` extra).

A server that cannot start fails the tests that need it with the reason; nothing is skipped.

Fixtures: ``postgres_url`` (``postgresql://...``), ``redis_url`` (``redis://...``),
``s3_endpoint`` (``http://127.0.0.1:<port>``, any access key is accepted).
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from adapter.devserver import find_free_port

_lock = threading.Lock()
_started: dict[str, str] = {}
_processes: list[subprocess.Popen[bytes]] = []


class BackendServerError(RuntimeError):
    """A backend server could not be installed or started; the message says why."""


def _apt_install(package: str) -> None:
    if os.geteuid() != 0:
        raise BackendServerError(
            f"{package} is not installed and this user cannot install it: run "
            f"`sudo apt-get install -y {package}`"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    lock = ["-o", "DPkg::Lock::Timeout=600"]
    for command in (
        ["apt-get", *lock, "update", "-qq"],
        ["apt-get", *lock, "install", "-y", "-qq", "--no-install-recommends", package],
    ):
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise BackendServerError(
                f"`{' '.join(command)}` failed ({done.returncode}): {done.stderr[-2000:]}"
            )


def _find(candidates: Callable[[], list[str]], package: str) -> str:
    found = candidates()
    if not found:
        _apt_install(package)
        found = candidates()
    if not found:
        raise BackendServerError(f"installed {package}, but found none of its binaries")
    return found[0]


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path, what: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BackendServerError(
                f"{what} exited with {process.returncode}: "
                f"{log.read_text(errors='replace')[-3000:]}"
            )
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise BackendServerError(f"{what} did not listen on port {port} within 60 s")


#: Runs a server as ``user`` (when given) that the kernel kills if the test process dies, even by
#: SIGKILL (Linux ``PR_SET_PDEATHSIG``; armed after the user switch, which would clear it).
_LAUNCHER = """\
import ctypes, os, pwd, signal, sys
parent, user = int(sys.argv[1]), sys.argv[2]
if user:
    entry = pwd.getpwnam(user)
    os.setgroups([]); os.setgid(entry.pw_gid); os.setuid(entry.pw_uid)
try:
    ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)
except Exception:
    pass
if os.getppid() != parent:
    sys.exit(0)
os.execv(sys.argv[3], sys.argv[3:])
"""


def _spawn(command: list[str], log: Path, user: str = "") -> subprocess.Popen[bytes]:
    """Starts a server; on Linux it runs as ``user`` (if given) and dies with this process."""
    if sys.platform.startswith("linux"):
        command = [sys.executable, "-c", _LAUNCHER, str(os.getpid()), user, *command]
    elif user:
        command = ["runuser", "-u", user, "--", *command]
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    _processes.append(process)
    return process


@atexit.register
def _stop_all() -> None:
    for process in _processes:
        if process.poll() is None:
            process.terminate()
    for process in _processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(10)
        if process.poll() is None:
            process.kill()


def _postgres_bin() -> str:
    def candidates() -> list[str]:
        versions = sorted(
            glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name)
        )
        return [d for d in reversed(versions) if Path(d, "initdb").exists()]

    return _find(candidates, "postgresql")


def start_postgres() -> str:
    """A fresh PostgreSQL cluster (trust auth, fsync off) on a free port; its URL."""
    bindir = _postgres_bin()
    root = Path(tempfile.mkdtemp(prefix="tempflare-pg-"))
    data = root / "data"
    # initdb and postgres refuse to run as root: run them as the package's `postgres` user.
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    init = subprocess.run(
        [
            *as_user,
            f"{bindir}/initdb",
            "-D",
            str(data),
            "-U",
            "tempflare",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if init.returncode != 0:
        raise BackendServerError(f"initdb failed: {init.stderr[-2000:]}")
    port = find_free_port()
    process = _spawn(
        [
            f"{bindir}/postgres",
            "-D",
            str(data),
            "-p",
            str(port),
            "-k",
            str(root),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "fsync=off",
            "-c",
            "max_connections=200",
        ],
        root / "postgres.out",
        user="postgres" if os.geteuid() == 0 else "",
    )
    _wait_for_port(port, process, root / "postgres.out", "postgres")
    # Listening is not accepting: until recovery ends, connections get "starting up".
    deadline = time.monotonic() + 60
    while True:
        ready = subprocess.run(
            [f"{bindir}/pg_isready", "-h", "127.0.0.1", "-p", str(port), "-U", "tempflare"],
            capture_output=True,
            check=False,
        )
        if ready.returncode == 0:
            break
        if time.monotonic() > deadline or process.poll() is not None:
            raise BackendServerError(
                f"postgres never accepted connections: {ready.stdout!r} "
                f"{(root / 'postgres.out').read_text(errors='replace')[-3000:]}"
            )
        time.sleep(0.1)
    return f"postgresql://tempflare@127.0.0.1:{port}/postgres"


def start_redis() -> str:
    """A Redis (or Valkey) server without persistence on a free port; its URL."""

    def candidates() -> list[str]:
        return [p for p in (shutil.which("redis-server"), shutil.which("valkey-server")) if p]

    binary = _find(candidates, "redis-server")
    root = Path(tempfile.mkdtemp(prefix="tempflare-redis-"))
    port = find_free_port()
    process = _spawn(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(root),
        ],
        root / "redis.log",
    )
    _wait_for_port(port, process, root / "redis.log", "redis-server")
    return f"redis://127.0.0.1:{port}/0"


def start_s3() -> str:
    """moto's S3 server on a free port; its endpoint URL."""
    root = Path(tempfile.mkdtemp(prefix="tempflare-s3-"))
    port = find_free_port()
    process = _spawn(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        root / "moto.log",
    )
    _wait_for_port(port, process, root / "moto.log", "moto server")
    return f"http://127.0.0.1:{port}"


def _once(name: str, start: Callable[[], str]) -> str:
    with _lock:
        if name not in _started:
            _started[name] = start()
        return _started[name]


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The session's PostgreSQL server (started on first use)."""
    return _once("postgres", start_postgres)


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The session's Redis server (started on first use)."""
    return _once("redis", start_redis)


@pytest.fixture(scope="session")
def s3_endpoint() -> str:
    """The session's S3 server (moto, started on first use)."""
    return _once("s3", start_s3)
