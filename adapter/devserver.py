"""Obtain and run the official ``temporal`` CLI dev server.

The dev server (``temporal server start-dev``) is a single binary that runs a whole Temporal
cluster in one process, with SQLite persistence and the Web UI built in. tempflare uses it for
local development and for the test suite, so that neither needs Docker.

Typical use::

    from .devserver import DevServer

    with DevServer(port=7233, db_filename=Path(".temporal/dev.sqlite")) as server:
        print(server.address, server.ui_url)
        ...  # run a worker / client against server.address

Finding the binary (:func:`ensure_temporal_cli`) tries, in order: the ``TEMPFLARE_TEMPORAL_CLI``
environment variable, a ``temporal`` on ``PATH``, a cached copy under the tempflare cache
directory, a ``go install`` of the pinned version, and finally the official release archive.
Only the last two touch the network, and only once per machine.

The command line (:func:`dev_server_args`) registers tempflare's search attributes
(:data:`adapter._constants.SEARCH_ATTRIBUTES`) and turns on the dynamic-config features that
tempflare relies on (updates, update-with-start, eager activities).

One dev server per data folder: while a :class:`DevServer` with a SQLite file runs, it holds an
exclusive lock on ``devserver.lock`` in the folder that holds the file (a ``filelock`` lock on a
descriptor that the server process inherits, so the lock lasts as long as the parent *or* the
server lives), and records there who holds it (:class:`DevServerOwner`). A second server on the
same folder is refused with :class:`DevServerDataFolderLockedError`, which names the running
server so the caller can reuse it (:func:`server_answers`) instead.

No orphans: the server runs in its own process group and is stopped by :meth:`DevServer.stop`,
the context manager and an ``atexit`` hook; on Linux the kernel also SIGKILLs it when the parent
dies abruptly (``PR_SET_PDEATHSIG``), as long as it was launched from the main thread (see
:meth:`DevServer.start` and :meth:`DevServer.astart`). Elsewhere that last guard is missing, and
the lock keeps a leftover server from being joined by a second one.

This module is POSIX-only (Linux and macOS): it relies on ``flock`` locks, process groups and
POSIX signals.

Errors::

    RuntimeError
    └── DevServerError
        ├── TemporalCliUnavailableError      no binary could be found, built or downloaded
        ├── DevServerPortInUseError          the requested port is taken by another process
        ├── DevServerDataFolderLockedError   another dev server runs on the same data folder
        └── DevServerStartError              the server exited or did not answer in time
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import errno
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Final

from filelock import FileLock, Timeout, lock_descriptor, unlock_descriptor

from ._shared.constants import DEFAULT_NAMESPACE, DEFAULT_UI_PORT, SEARCH_ATTRIBUTES
from ._shared.errors import TempflareError

__all__ = [
    "CACHE_DIR_ENV",
    "CLI_PATH_ENV",
    "DATA_FOLDER_LOCK_NAME",
    "TEMPORAL_CLI_VERSION",
    "DevServer",
    "DevServerDataFolderLockedError",
    "DevServerError",
    "DevServerOwner",
    "DevServerPortInUseError",
    "DevServerStartError",
    "TemporalCliUnavailableError",
    "dev_server_args",
    "dev_server_extra_args",
    "ensure_temporal_cli",
    "find_free_port",
    "port_is_free",
    "server_answers",
]

#: Version of the ``temporal`` CLI that tempflare provisions. v1.5.1 embeds Temporal server
#: v1.29.1 and UI v2.42.1, the same server version as the docker-compose cluster.
TEMPORAL_CLI_VERSION: Final = "v1.5.1"

#: Environment variable naming an explicit ``temporal`` binary; it wins over everything else.
CLI_PATH_ENV: Final = "TEMPFLARE_TEMPORAL_CLI"

#: Environment variable overriding the cache directory (default ``~/.cache/tempflare``).
CACHE_DIR_ENV: Final = "TEMPFLARE_CACHE_DIR"

#: The lock file a running :class:`DevServer` holds in its data folder (the folder of its SQLite
#: file); it also records the holder as JSON (:class:`DevServerOwner`).
DATA_FOLDER_LOCK_NAME: Final = "devserver.lock"

_GO_PACKAGE: Final = "github.com/temporalio/cli/cmd/temporal"
#: The release build's link flags (the CLI's .goreleaser.yml): strip debug info, which halves
#: the binary, and stamp the version, which ``go install`` would otherwise report as 0.0.0-DEV.
_GO_LDFLAGS: Final = (
    f"-s -w -X github.com/temporalio/cli/temporalcli.Version={TEMPORAL_CLI_VERSION.lstrip('v')}"
)
_RELEASE_URL: Final = "https://temporal.download/cli/archive/{version}?platform={os}&arch={arch}"
_GO_BUILD_TIMEOUT_S: Final = 30 * 60.0
_DOWNLOAD_TIMEOUT_S: Final = 120.0
_LOG_TAIL_BYTES: Final = 4000

#: Dynamic config that ``WorkflowEnvironment.start_local`` already passes on its own
#: (sdk-core ``ephemeral_server/mod.rs``), so :func:`dev_server_extra_args` leaves them out.
_DYNAMIC_CONFIG_ALSO_SET_BY_SDK: Final[tuple[str, ...]] = (
    # The version check phones home to temporal.io; pointless (and slow offline) for a dev server.
    "frontend.enableServerVersionCheck=false",
    "frontend.enableUpdateWorkflowExecution=true",
    "frontend.enableUpdateWorkflowExecutionAsyncAccepted=true",
)
#: Dynamic config tempflare needs on top of what the SDK sets.
_DYNAMIC_CONFIG_EXTRA: Final[tuple[str, ...]] = (
    # Update-with-start (ExecuteMultiOperation) backs tempflare's create-and-wait paths.
    "frontend.enableExecuteMultiOperation=true",
    # Off by default in server 1.29; the SDK's own test suites turn it on explicitly.
    "system.enableActivityEagerExecution=true",
    # Timers fire within ~10 ms instead of up to ~1 s late, so short sleeps and retry delays
    # take about as long as they say (the default shift batches timer processing).
    'history.timerProcessorMaxTimeShift="10ms"',
)


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class DevServerError(TempflareError, RuntimeError):
    """Base class for every error raised by this module."""


class TemporalCliUnavailableError(DevServerError):
    """No runnable ``temporal`` binary could be found, built or downloaded.

    Attributes:
        attempts: One human-readable line per source that was tried, in order.
    """

    def __init__(self, attempts: list[str]) -> None:
        """Build the message from the list of attempts.

        Args:
            attempts: What was tried and why each step did not give a binary.
        """
        self.attempts = list(attempts)
        tried = "\n".join(f"  - {line}" for line in self.attempts)
        super().__init__(
            f"Could not obtain the Temporal CLI ({TEMPORAL_CLI_VERSION}), which runs the local "
            f"dev server. Tried:\n{tried}\n"
            "Fix it in one of these ways:\n"
            "  - install Go >= 1.25 (https://go.dev/dl/) so tempflare can build the CLI itself;\n"
            "  - install the Temporal CLI (https://docs.temporal.io/cli) and put `temporal` on "
            f"PATH, or point {CLI_PATH_ENV} at the binary;\n"
            "  - or skip the dev server and use an existing Temporal cluster by setting "
            "TEMPORAL_ADDRESS=host:port (for example `docker compose up -d`, then "
            "TEMPORAL_ADDRESS=localhost:7233)."
        )


class DevServerPortInUseError(DevServerError):
    """A port the dev server needs is already bound by another process.

    Attributes:
        port: The port that was busy.
    """

    def __init__(self, port: int, *, what: str, ip: str) -> None:
        """Describe the busy port and how to get around it.

        Args:
            port: The port that was busy.
            what: Which listener wanted it ("gRPC frontend" or "Web UI").
            ip: The address the dev server tried to bind.
        """
        self.port = port
        super().__init__(
            f"Cannot start the Temporal dev server: port {port} on {ip} ({what}) is already in "
            "use. If a Temporal server is already running there, reuse it by setting "
            f"TEMPORAL_ADDRESS={_connect_host(ip)}:{port} instead of starting another one; "
            "otherwise stop the process holding the port or choose another port "
            "(find_free_port() picks one)."
        )


@dataclass(frozen=True)
class DevServerOwner:
    """Who holds a data folder: what a running :class:`DevServer` wrote into its lock file.

    Attributes:
        pid: The process that started the server and took the lock.
        server_pid: The server process (``None`` for a moment while it is being launched).
        address: ``host:port`` of its gRPC frontend (what ``TEMPORAL_ADDRESS`` takes).
        ui_url: Its Web UI, or ``None`` when headless.
        namespace: The namespace it created.
        db_filename: Its SQLite file.
        started_at: ``time.time()`` when it took the lock.
    """

    pid: int
    server_pid: int | None
    address: str
    ui_url: str | None
    namespace: str
    db_filename: str
    started_at: float

    @classmethod
    def read(cls, lock_file: Path) -> DevServerOwner | None:
        """The record in ``lock_file``, or ``None`` if it is missing, empty or unreadable."""
        try:
            data: Any = json.loads(Path(lock_file).read_text(encoding="utf-8"))
            return cls(
                pid=int(data["pid"]),
                server_pid=None if data.get("server_pid") is None else int(data["server_pid"]),
                address=str(data["address"]),
                ui_url=None if data.get("ui_url") is None else str(data["ui_url"]),
                namespace=str(data.get("namespace", DEFAULT_NAMESPACE)),
                db_filename=str(data.get("db_filename", "")),
                started_at=float(data.get("started_at", 0.0)),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def describe(self) -> str:
        """One line: server pid, addresses, and the process that started it."""
        server = f"pid {self.server_pid}" if self.server_pid is not None else "being launched"
        ui = f", Web UI {self.ui_url}" if self.ui_url else ""
        parent = f"started by pid {self.pid}"
        if not _pid_alive(self.pid):
            parent += ", which has exited"
        return f"the dev server {server} (gRPC {self.address}{ui}; {parent})"


class DevServerDataFolderLockedError(DevServerError):
    """Another dev server runs on the same data folder, so this one must not open its SQLite file.

    Attributes:
        data_dir: The contended folder.
        lock_file: The lock file in it.
        owner: What the running server recorded about itself, or ``None`` if it has not yet.
    """

    def __init__(self, data_dir: Path, owner: DevServerOwner | None) -> None:
        """Say who holds the folder and what to do.

        Args:
            data_dir: The folder of the SQLite file.
            owner: The holder's record, if readable.
        """
        self.data_dir = data_dir
        self.lock_file = data_dir / DATA_FOLDER_LOCK_NAME
        self.owner = owner
        if owner is None:
            holder = "another process that has not recorded itself yet (it may be starting)"
            advice = f"wait for it, or find it with `fuser {self.lock_file}`"
        else:
            holder = owner.describe()
            stop = owner.pid if _pid_alive(owner.pid) else owner.server_pid
            advice = (
                f"reuse it (TEMPORAL_ADDRESS={owner.address}), stop it (kill {stop}), or give "
                "this server another data folder"
            )
        super().__init__(
            f"Cannot start the Temporal dev server: its data folder {data_dir} is locked by "
            f"{holder}. Two dev servers must never open one SQLite file. To go on, {advice}."
        )


class DevServerStartError(DevServerError):
    """The dev server process exited early or did not become ready in time.

    Attributes:
        log_tail: The last lines the server wrote to its log (may be empty).
        returncode: The exit code if the process exited, else ``None``.
    """

    def __init__(self, message: str, *, log_tail: str, returncode: int | None) -> None:
        """Attach the log tail to the message.

        Args:
            message: What went wrong.
            log_tail: The last lines of the server's output.
            returncode: The process exit code, if it exited.
        """
        self.log_tail = log_tail
        self.returncode = returncode
        tail = log_tail.strip() or "(the server wrote nothing)"
        super().__init__(f"{message}\n--- last lines of the dev server log ---\n{tail}")


class _ProvisionError(Exception):
    """Internal: one provisioning route (go install, download) failed."""


# --------------------------------------------------------------------------------------------
# Finding or provisioning the binary
# --------------------------------------------------------------------------------------------


def ensure_temporal_cli(*, cache_dir: Path | None = None) -> Path:
    """Return a path to a runnable ``temporal`` CLI binary, provisioning it if needed.

    Sources, in order (the first that yields a binary wins):

    1. the ``TEMPFLARE_TEMPORAL_CLI`` environment variable (an error if it points nowhere);
    2. a ``temporal`` executable on ``PATH`` (whatever version it is);
    3. the cached binary ``<cache>/temporal-cli/v1.5.1/temporal``, where ``<cache>`` is
       ``cache_dir``, else ``$TEMPFLARE_CACHE_DIR``, else ``~/.cache/tempflare``;
    4. when ``go`` is on ``PATH``: ``go install github.com/temporalio/cli/cmd/temporal@v1.5.1``
       into the cache (a one-off that takes a few minutes; a note goes to stderr);
    5. otherwise, or if the build fails: the official release archive from temporal.download.

    Steps 1-3 cost a few ``stat`` calls, so calling this repeatedly is cheap. Steps 4-5 run
    under an exclusive file lock in the cache directory, so concurrent processes (pytest
    workers, a worker and a test run) provision once and the others wait and reuse the result.
    The binary is written under a temporary name and renamed into place, so a crash never
    leaves a half-written file at the cached path.

    Args:
        cache_dir: Root of the tempflare cache; see step 3 for the default.

    Returns:
        Path to an executable ``temporal`` binary.

    Raises:
        TemporalCliUnavailableError: Every source failed. The message lists what was tried
            and how to fix it.
    """
    attempts: list[str] = []

    override = os.environ.get(CLI_PATH_ENV, "").strip()
    if override:
        candidate = Path(override).expanduser()
        if _is_executable(candidate):
            return candidate
        # An explicit setting that is wrong must not silently fall back to another binary.
        raise TemporalCliUnavailableError(
            [f"{CLI_PATH_ENV}={override!r}: not an executable file (fix or unset it)"]
        )
    attempts.append(f"{CLI_PATH_ENV}: not set")

    on_path = shutil.which("temporal")
    if on_path is not None:
        return Path(on_path)
    attempts.append("`temporal` on PATH: not found")

    target = _cached_binary_path(cache_dir)
    if _is_executable(target):
        return target
    attempts.append(f"cache: no binary at {target}")

    return _provision(target, attempts)


def _cache_root(cache_dir: Path | None) -> Path:
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    from_env = os.environ.get(CACHE_DIR_ENV, "").strip()
    if from_env:
        return Path(from_env).expanduser()
    return Path.home() / ".cache" / "tempflare"


def _cached_binary_path(cache_dir: Path | None) -> Path:
    return _cache_root(cache_dir) / "temporal-cli" / TEMPORAL_CLI_VERSION / "temporal"


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _provision(target: Path, attempts: list[str]) -> Path:
    """Build or download the CLI into ``target`` under an exclusive lock."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        attempts.append(f"cache: cannot create {target.parent}: {exc}")
        raise TemporalCliUnavailableError(attempts) from exc

    with _exclusive_lock(target.parent / ".lock"):
        # Another process may have finished provisioning while we waited for the lock.
        if _is_executable(target):
            return target

        go = shutil.which("go")
        if go is None:
            attempts.append("go install: `go` not found on PATH")
        else:
            try:
                _build_with_go(Path(go), target)
            except (_ProvisionError, OSError, subprocess.SubprocessError) as exc:
                attempts.append(f"go install {_GO_PACKAGE}@{TEMPORAL_CLI_VERSION}: {exc}")
            else:
                return target

        try:
            _download_release(target)
        except (_ProvisionError, OSError, tarfile.TarError, subprocess.SubprocessError) as exc:
            attempts.append(f"download {_release_url()}: {exc}")
        else:
            return target

    raise TemporalCliUnavailableError(attempts)


@contextlib.contextmanager
def _exclusive_lock(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive ``filelock`` lock on ``lock_path`` for the duration of the block."""
    lock = FileLock(str(lock_path))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        _note(f"waiting for another process that is provisioning the Temporal CLI ({lock_path})")
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


def _note(message: str) -> None:
    print(f"tempflare: {message}", file=sys.stderr, flush=True)


def _build_with_go(go: Path, target: Path) -> None:
    """Run ``go install`` into a private GOBIN next to ``target``, then rename into place."""
    _note(
        f"building the Temporal CLI {TEMPORAL_CLI_VERSION} with Go into {target.parent} "
        "(one-off; this takes a few minutes)..."
    )
    build_log = target.parent / "go-install.log"
    gobin = Path(tempfile.mkdtemp(prefix=".gobin-", dir=target.parent))
    try:
        env = dict(os.environ)
        env["GOBIN"] = str(gobin)
        # The CLI is pure Go (SQLite via modernc.org) and released with cgo off; that way no C
        # toolchain is needed either.
        env["CGO_ENABLED"] = "0"
        with open(build_log, "wb") as log:
            result = subprocess.run(
                [
                    str(go),
                    "install",
                    f"-ldflags={_GO_LDFLAGS}",
                    f"{_GO_PACKAGE}@{TEMPORAL_CLI_VERSION}",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                timeout=_GO_BUILD_TIMEOUT_S,
                check=False,
            )
        if result.returncode != 0:
            raise _ProvisionError(
                f"exited with status {result.returncode}; see {build_log}:\n"
                f"{_read_tail(build_log, 1500)}"
            )
        built = gobin / "temporal"
        if not _is_executable(built):
            raise _ProvisionError(f"finished but produced no {built}")
        _check_runs(built)
        os.replace(built, target)
    finally:
        shutil.rmtree(gobin, ignore_errors=True)


def _release_url() -> str:
    """URL of the official release archive for this machine's OS and CPU."""
    os_name = {"linux": "linux", "darwin": "darwin"}.get(sys.platform, sys.platform)
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        machine, machine
    )
    return _RELEASE_URL.format(version=TEMPORAL_CLI_VERSION, os=os_name, arch=arch)


def _download_release(target: Path) -> None:
    """Download the release ``.tar.gz``, extract ``temporal`` and rename it to ``target``."""
    url = _release_url()
    if not url.startswith(("https://", "file://")):
        raise _ProvisionError(f"refusing to download from {url!r}")
    _note(f"downloading the Temporal CLI {TEMPORAL_CLI_VERSION} from {url} ...")
    fd, archive_name = tempfile.mkstemp(prefix=".download-", suffix=".tar.gz", dir=target.parent)
    archive = Path(archive_name)
    fd2, binary_name = tempfile.mkstemp(prefix=".temporal-", dir=target.parent)
    binary = Path(binary_name)
    try:
        with (
            os.fdopen(fd, "wb") as out,
            urllib.request.urlopen(url, timeout=_DOWNLOAD_TIMEOUT_S) as response,
        ):
            shutil.copyfileobj(response, out)
        with tarfile.open(archive, "r:gz") as tar, os.fdopen(fd2, "wb") as out_bin:
            member = next(
                (m for m in tar.getmembers() if m.isfile() and Path(m.name).name == "temporal"),
                None,
            )
            if member is None:
                raise _ProvisionError("the archive contains no `temporal` executable")
            source = tar.extractfile(member)
            if source is None:
                raise _ProvisionError("cannot read `temporal` from the archive")
            with source:
                shutil.copyfileobj(source, out_bin)
        binary.chmod(0o755)
        _check_runs(binary)
        os.replace(binary, target)
    finally:
        archive.unlink(missing_ok=True)
        binary.unlink(missing_ok=True)


def _check_runs(binary: Path) -> None:
    """Fail unless ``binary --version`` succeeds (catches wrong-arch or truncated files)."""
    result = subprocess.run(
        [str(binary), "--version"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        output = (result.stdout + result.stderr).decode(errors="replace").strip()
        raise _ProvisionError(f"{binary} --version failed ({result.returncode}): {output}")


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def dev_server_extra_args() -> list[str]:
    """Arguments tempflare needs on top of what ``WorkflowEnvironment.start_local`` passes.

    ``start_local`` already passes ``--port``, ``--namespace``, ``--ip``, ``--log-format``,
    ``--log-level``, ``--db-filename``, ``--ui-port``/``--headless`` and the dynamic configs
    ``frontend.enableServerVersionCheck=false``, ``frontend.enableUpdateWorkflowExecution=true``
    and ``frontend.enableUpdateWorkflowExecutionAsyncAccepted=true``; none of those are here.
    What is left: one ``--search-attribute NAME=Type`` per entry of
    :data:`adapter._constants.SEARCH_ATTRIBUTES`, plus
    ``frontend.enableExecuteMultiOperation=true`` and
    ``system.enableActivityEagerExecution=true``::

        await WorkflowEnvironment.start_local(
            dev_server_existing_path=str(ensure_temporal_cli()),
            dev_server_extra_args=dev_server_extra_args(),
        )

    Register the search attributes here rather than through ``start_local``'s
    ``search_attributes=`` parameter: that parameter only turns typed keys back into the same
    ``--search-attribute`` flags, and keeping them here gives one source of truth shared with
    :func:`dev_server_args` and :class:`DevServer`. (Passing both would be harmless, since the
    CLI keeps the last value per name, but redundant.)

    Returns:
        A fresh list of CLI arguments.
    """
    args: list[str] = []
    for name, value_type in SEARCH_ATTRIBUTES.items():
        args += ["--search-attribute", f"{name}={value_type}"]
    for setting in _DYNAMIC_CONFIG_EXTRA:
        args += ["--dynamic-config-value", setting]
    return args


def dev_server_args(
    *,
    port: int,
    ui_port: int | None,
    db_filename: Path | None,
    namespace: str = DEFAULT_NAMESPACE,
    ip: str = "127.0.0.1",
) -> list[str]:
    """Arguments for ``temporal server start-dev`` (without the binary or the subcommand).

    Args:
        port: gRPC frontend port.
        ui_port: Web UI port, or ``None`` to run headless (no UI).
        db_filename: SQLite file that keeps state across restarts, or ``None`` for an
            in-memory database that is lost when the server stops.
        namespace: Namespace to create at start-up (``default`` always exists as well).
        ip: Address to bind (the UI binds the same one).

    Returns:
        A fresh list of CLI arguments: port, address, namespace, database, UI, a ``warn`` log
        level, tempflare's search attributes and the dynamic config it relies on.
    """
    args = ["--port", str(port), "--ip", ip, "--namespace", namespace]
    if db_filename is not None:
        args += ["--db-filename", str(db_filename)]
    if ui_port is None:
        args.append("--headless")
    else:
        args += ["--ui-port", str(ui_port)]
    args += ["--log-level", "warn"]
    for setting in _DYNAMIC_CONFIG_ALSO_SET_BY_SDK:
        args += ["--dynamic-config-value", setting]
    args += dev_server_extra_args()
    return args


def find_free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free now and unlikely to be handed out soon.

    The port is bound and released by this call, so another process could in theory take it
    before the caller binds it. To make that unlikely on Linux, where ephemeral ports are
    randomised and may repeat quickly, a connection to the port is opened and closed from the
    listening side first: that leaves it in ``TIME_WAIT``, during which the kernel will not
    hand it out for ``bind(0)``, while servers that set ``SO_REUSEADDR`` (as Go's do) can
    still bind it explicitly.

    Returns:
        The port number.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        # Needed for the trick below: the TIME_WAIT socket inherits this flag from the listener,
        # and Linux only lets a later SO_REUSEADDR bind through if both sides carry it.
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port: int = listener.getsockname()[1]
        if sys.platform.startswith("linux"):
            with socket.create_connection(("127.0.0.1", port), timeout=1.0) as client:
                accepted, _ = listener.accept()
                # Closing the accepted (server) side first puts *it* in TIME_WAIT.
                accepted.close()
                client.recv(1)
    return port


# --------------------------------------------------------------------------------------------
# Running the server
# --------------------------------------------------------------------------------------------


def _connect_host(ip: str) -> str:
    """The host a local client should dial for a server bound to ``ip``."""
    if ip in ("0.0.0.0", ""):
        return "127.0.0.1"
    if ip == "::":
        return "::1"
    return ip


def port_is_free(port: int, ip: str = "127.0.0.1") -> bool:
    """True if ``ip:port`` can be bound right now (with ``SO_REUSEADDR``, like Go servers)."""
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((ip, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            raise
    return True


def server_answers(address: str, namespace: str = DEFAULT_NAMESPACE, timeout: float = 3.0) -> bool:
    """Whether a Temporal frontend at ``address`` (``host:port``) serves ``namespace`` now.

    Blocks for at most about ``timeout`` seconds; safe to call inside a running event loop (the
    probe runs on a helper thread), though from async code ``asyncio.to_thread`` is kinder.
    """
    host, _, port = address.rpartition(":")
    host = host.strip("[]")
    if not port.isdigit() or not _tcp_accepts(host, int(port), min(1.0, timeout)):
        return False
    return _probe_frontend(address, namespace, timeout) is None


def _pid_alive(pid: int) -> bool:
    """Whether a process with this pid is running (on Linux a zombie counts as exited)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no procfs (macOS): the signal probe is all we have
    return stat[stat.rfind(")") + 2 :][:1] not in ("Z", "X")


def _read_tail(path: Path, limit: int = _LOG_TAIL_BYTES) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - limit))
            return handle.read().decode(errors="replace")
    except OSError:
        return ""


#: Tiny launcher used on Linux: it asks the kernel to SIGKILL the server when the thread that
#: started it dies (even on SIGKILL of the parent), then execs the real binary under the same
#: pid. Done in a separate interpreter rather than ``preexec_fn``, which is unsafe when the
#: parent has threads (the Temporal SDK runtime always does). SIGKILL rather than SIGTERM: a
#: server whose parent is gone has nobody left to escalate if a clean shutdown hangs, and
#: SQLite's journal makes a killed server's file safe to open again (the crash test does so).
_PDEATHSIG_LAUNCHER: Final = """\
import ctypes, os, signal, sys
try:
    ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
except Exception:
    pass
if os.getppid() != int(sys.argv[1]):
    sys.exit(0)  # the parent died before we could arm the signal
os.execv(sys.argv[2], sys.argv[2:])
"""


class DevServer:
    """A ``temporal server start-dev`` child process.

    The server runs in its own process group, so a Ctrl-C in the terminal reaches only the
    parent, which then shuts the server down in order. :meth:`stop` sends SIGTERM (a clean
    shutdown keeps the SQLite file consistent) and falls back to SIGKILL. If the parent exits
    without calling :meth:`stop`, an ``atexit`` hook stops the server; on Linux the server also
    gets SIGKILL from the kernel if the parent dies abruptly (SIGKILL, ``os._exit``), as long
    as it was launched from the main thread (:meth:`start` called there, or :meth:`astart`
    awaited on an event loop that runs there).

    With a ``db_filename``, the server holds ``devserver.lock`` in that file's folder while it
    runs (see the module docstring); a second server on the folder raises
    :class:`DevServerDataFolderLockedError` from :meth:`start` without launching anything.

    Example::

        with DevServer(port=find_free_port(), ui_port=None) as server:
            client = await Client.connect(server.address)
    """

    def __init__(
        self,
        *,
        port: int = 7233,
        ui_port: int | None = DEFAULT_UI_PORT,
        db_filename: Path | None = None,
        namespace: str = DEFAULT_NAMESPACE,
        log_file: Path | None = None,
        ip: str = "127.0.0.1",
        executable: Path | None = None,
    ) -> None:
        """Configure the server; nothing is started until :meth:`start`.

        Args:
            port: gRPC frontend port.
            ui_port: Web UI port, or ``None`` for a headless server.
            db_filename: SQLite file for persistent state (its folder is created), or ``None``
                for an in-memory database that is lost on stop.
            namespace: Namespace to create (``default`` always exists too).
            log_file: File that receives the server's stdout and stderr (appended to). With
                ``None`` the output goes to an anonymous temporary file, used only to explain
                start-up failures.
            ip: Address to bind.
            executable: The ``temporal`` binary; ``None`` means :func:`ensure_temporal_cli`.
        """
        self._port = port
        self._ui_port = ui_port
        self._db_filename = db_filename
        self._namespace = namespace
        self._log_file = log_file
        self._ip = ip
        self._executable = executable
        self._process: subprocess.Popen[bytes] | None = None
        self._log_handle: IO[bytes] | None = None
        self._log_start = 0
        self._lock_fd: int | None = None

    # -- properties ---------------------------------------------------------------------------

    @property
    def address(self) -> str:
        """``host:port`` for ``Client.connect`` (and for ``TEMPORAL_ADDRESS``)."""
        host = _connect_host(self._ip)
        if ":" in host:
            host = f"[{host}]"
        return f"{host}:{self._port}"

    @property
    def ui_url(self) -> str | None:
        """``http://localhost:<ui_port>``, or ``None`` when headless."""
        return None if self._ui_port is None else f"http://localhost:{self._ui_port}"

    @property
    def port(self) -> int:
        """The gRPC frontend port."""
        return self._port

    @property
    def namespace(self) -> str:
        """The namespace created at start-up."""
        return self._namespace

    @property
    def db_filename(self) -> Path | None:
        """The SQLite file, or ``None`` for an in-memory database."""
        return self._db_filename

    @property
    def data_dir(self) -> Path | None:
        """The folder of the SQLite file, which the running server locks; ``None`` in memory."""
        if self._db_filename is None:
            return None
        return self._db_filename.expanduser().resolve().parent

    @property
    def log_file(self) -> Path | None:
        """The log file given to the constructor, if any."""
        return self._log_file

    @property
    def pid(self) -> int | None:
        """Process id of the running server, or ``None`` when not started or stopped."""
        return None if self._process is None else self._process.pid

    @property
    def running(self) -> bool:
        """Whether the server process is alive."""
        return self._process is not None and self._process.poll() is None

    def __repr__(self) -> str:
        state = f"pid={self.pid}" if self.running else "stopped"
        return f"<DevServer {self.address} namespace={self._namespace!r} {state}>"

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self, timeout: float = 60.0) -> None:
        """Launch the server and block until its gRPC frontend serves the namespace.

        Provisioning the binary (see :func:`ensure_temporal_cli`) happens first and is not
        counted in ``timeout``. Safe to call from inside a running event loop: the readiness
        probe runs its own loop on a helper thread (but it does block the calling thread, so
        from async code prefer :meth:`astart`). On Linux the server dies with this process only
        when this is called from the main thread.

        Args:
            timeout: Seconds to wait for the server to become ready after launching it.

        Raises:
            DevServerError: The server is already running.
            TemporalCliUnavailableError: No binary could be obtained.
            DevServerDataFolderLockedError: Another dev server runs on the same data folder.
            DevServerPortInUseError: The gRPC or UI port is taken.
            DevServerStartError: The process exited, or did not answer within ``timeout``
                (it is stopped first); the message carries the tail of its log.
        """
        if self.running:
            raise DevServerError(f"{self!r} is already running")
        self.stop()  # tidy up after a previous run whose process died on its own
        self._launch(self._executable or ensure_temporal_cli())
        try:
            self._wait_until_ready(timeout)
        except BaseException:
            self.stop()
            raise

    async def astart(self, timeout: float = 60.0) -> None:
        """:meth:`start` for async code, without blocking the event loop for long.

        Provisioning and the readiness wait run on worker threads; the process itself is launched
        from the calling thread (the loop's, which is normally the main thread), so on Linux the
        server dies with this process even when that is killed. If the awaiting task is
        cancelled, the server is stopped before the cancellation propagates.

        Args:
            timeout: Seconds to wait for the server to become ready after launching it.

        Raises:
            The same errors as :meth:`start`.
        """
        if self.running:
            raise DevServerError(f"{self!r} is already running")
        self.stop()
        executable = self._executable
        if executable is None:
            executable = await asyncio.to_thread(ensure_temporal_cli)
        self._launch(executable)
        try:
            await asyncio.to_thread(self._wait_until_ready, timeout)
        except BaseException:
            self.stop()
            raise

    def stop(self, timeout: float = 15.0) -> None:
        """Shut the server down: SIGTERM, wait up to ``timeout`` seconds, then SIGKILL.

        Releases the data-folder lock once the process is gone. Idempotent; does nothing if the
        server is not running.

        Args:
            timeout: Seconds to wait for a clean exit before killing the process.
        """
        process = self._process
        try:
            if process is not None:
                atexit.unregister(self._stop_at_exit)
                if process.poll() is None:
                    _signal_group(process, signal.SIGTERM)
                    try:
                        process.wait(timeout)
                    except subprocess.TimeoutExpired:
                        _signal_group(process, signal.SIGKILL)
                        process.wait()
        finally:
            self._process = None
            self._close_log()
            self._unlock_data_folder()

    def __enter__(self) -> DevServer:
        """Start the server (with the default timeout) and return it."""
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server."""
        self.stop()

    # -- internals ----------------------------------------------------------------------------

    def _launch(self, executable: Path) -> None:
        """Lock the data folder, check the ports and start the process (no waiting)."""
        db_filename = self._db_filename
        if db_filename is not None:
            db_filename = db_filename.expanduser().resolve()
            db_filename.parent.mkdir(parents=True, exist_ok=True)
            # Before the ports: a server already on this folder is the more useful news.
            self._lock_data_folder(db_filename)
        try:
            if not port_is_free(self._port, self._ip):
                raise DevServerPortInUseError(self._port, what="gRPC frontend", ip=self._ip)
            if self._ui_port is not None and not port_is_free(self._ui_port, self._ip):
                raise DevServerPortInUseError(self._ui_port, what="Web UI", ip=self._ip)
            self._open_log()
            assert self._log_handle is not None

            command = [
                str(executable),
                "server",
                "start-dev",
                *dev_server_args(
                    port=self._port,
                    ui_port=self._ui_port,
                    db_filename=db_filename,
                    namespace=self._namespace,
                    ip=self._ip,
                ),
            ]
            if (
                sys.platform.startswith("linux")
                and sys.executable
                and threading.current_thread() is threading.main_thread()
            ):
                command = [sys.executable, "-c", _PDEATHSIG_LAUNCHER, str(os.getpid()), *command]
            try:
                self._process = subprocess.Popen(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=self._log_handle,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    close_fds=True,
                    # The server shares the lock: it stays held while the server lives, even if
                    # this process dies first.
                    pass_fds=() if self._lock_fd is None else (self._lock_fd,),
                )
            except OSError as exc:
                raise DevServerStartError(
                    f"Cannot execute {executable}: {exc}", log_tail="", returncode=None
                ) from exc
        except BaseException:
            self._close_log()
            self._unlock_data_folder()
            raise
        self._write_owner(db_filename)
        atexit.register(self._stop_at_exit)

    def _lock_data_folder(self, db_filename: Path) -> None:
        """Take the folder's lock without waiting, or raise naming its holder."""
        data_dir = db_filename.parent
        lock_file = data_dir / DATA_FOLDER_LOCK_NAME
        fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            locked = lock_descriptor(fd, blocking=False)
        except BaseException:
            os.close(fd)
            raise
        if not locked:
            os.close(fd)
            raise DevServerDataFolderLockedError(data_dir, DevServerOwner.read(lock_file))
        self._lock_fd = fd
        self._write_owner(db_filename)

    def _write_owner(self, db_filename: Path | None) -> None:
        """Record who holds the lock, in the lock file itself."""
        fd = self._lock_fd
        if fd is None or db_filename is None:
            return
        owner = DevServerOwner(
            pid=os.getpid(),
            server_pid=self.pid,
            address=self.address,
            ui_url=self.ui_url,
            namespace=self._namespace,
            db_filename=str(db_filename),
            started_at=time.time(),
        )
        data = json.dumps(asdict(owner)).encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)

    def _unlock_data_folder(self) -> None:
        """Clear the record and release the lock (only once the server process is gone)."""
        fd, self._lock_fd = self._lock_fd, None
        if fd is None:
            return
        try:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            unlock_descriptor(fd)
        finally:
            os.close(fd)

    def _stop_at_exit(self) -> None:
        with contextlib.suppress(Exception):
            self.stop(timeout=10.0)

    def _open_log(self) -> None:
        if self._log_file is not None:
            self._log_file.parent.mkdir(parents=True, exist_ok=True)
            handle: IO[bytes] = open(self._log_file, "a+b")
        else:
            handle = tempfile.TemporaryFile()
        self._log_handle = handle
        self._log_start = os.fstat(handle.fileno()).st_size

    def _close_log(self) -> None:
        if self._log_handle is not None:
            self._log_handle.close()
            self._log_handle = None

    def _log_tail(self) -> str:
        """The last few KB the server wrote during this run (never moves the write offset)."""
        if self._log_handle is None:
            return ""
        fd = self._log_handle.fileno()
        size = os.fstat(fd).st_size
        start = max(self._log_start, size - _LOG_TAIL_BYTES)
        return os.pread(fd, size - start, start).decode(errors="replace")

    def _wait_until_ready(self, timeout: float) -> None:
        process = self._process
        assert process is not None
        deadline = time.monotonic() + timeout
        host = _connect_host(self._ip)
        last_error = "no answer yet"
        while True:
            returncode = process.poll()
            if returncode is not None:
                self._raise_exited(returncode)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DevServerStartError(
                    f"The Temporal dev server at {self.address} did not become ready within "
                    f"{timeout:g}s (last probe: {last_error}).",
                    log_tail=self._log_tail(),
                    returncode=None,
                )
            if _tcp_accepts(host, self._port, min(1.0, remaining)):
                error = _probe_frontend(self.address, self._namespace, min(5.0, remaining))
                if error is None:
                    return
                last_error = error
            else:
                last_error = "connection refused"
            time.sleep(0.1)

    def _raise_exited(self, returncode: int) -> None:
        tail = self._log_tail()
        lowered = tail.lower()
        # The CLI checks its ports itself and says which one it could not bind.
        if self._ui_port is not None and (
            "can't set ui port" in lowered or "can't use default ui port" in lowered
        ):
            raise DevServerPortInUseError(self._ui_port, what="Web UI", ip=self._ip)
        if "can't set frontend port" in lowered:
            raise DevServerPortInUseError(self._port, what="gRPC frontend", ip=self._ip)
        raise DevServerStartError(
            f"The Temporal dev server exited with status {returncode} during start-up.",
            log_tail=tail,
            returncode=returncode,
        )


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    """Signal the server's process group (its pid, since it leads its own session)."""
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass
    except PermissionError:
        process.send_signal(sig)


def _tcp_accepts(host: str, port: int, timeout: float) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _probe_frontend(address: str, namespace: str, timeout: float) -> str | None:
    """Connect a Temporal client and describe ``namespace``; ``None`` means ready.

    Runs on a short-lived helper thread with its own event loop, so it works whether or not
    the caller is inside a running loop.
    """

    async def probe() -> None:
        # Imported lazily: the SDK is heavy and only needed once a server is being started.
        from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
        from temporalio.client import Client

        client = await asyncio.wait_for(
            Client.connect(address, namespace=namespace), timeout=timeout
        )
        await client.workflow_service.describe_namespace(
            DescribeNamespaceRequest(namespace=namespace), timeout=timedelta(seconds=timeout)
        )

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        try:
            pool.submit(asyncio.run, probe()).result(timeout=timeout + 5.0)
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
    return None
