"""Obtain the official ``temporal`` CLI and run its dev server.

The dev server (``temporal server start-dev``) is one binary that runs a whole Temporal cluster,
with SQLite persistence and the Web UI built in; tempflare uses it for local development and
for the test suite, so that neither needs Docker.

* A throwaway server (the test session, the benchmarks) is the SDK's business:
  ``WorkflowEnvironment.start_local(dev_server_existing_path=str(ensure_temporal_cli()),
  dev_server_extra_args=dev_server_extra_args())``.
* The main job's long-lived server (``main.py``) is a :class:`DevServer`. ``start_local`` cannot
  run it: its server shares the parent's process group (a Ctrl-C would stop it before the
  worker drains) and output (no log file), is stopped with SIGKILL only, outlives a parent that
  is killed, and neither its pid nor its exit status reaches Python (no lock record, no early
  exit detection). :class:`DevServer` therefore supervises the process itself, for exactly
  these guarantees:

  - one dev server per data folder: while it runs it holds a ``filelock`` lock on
    ``devserver.lock`` next to its SQLite file, on a descriptor the server inherits (so the lock
    lasts as long as the parent *or* the server lives), and records there who holds it
    (:class:`DevServerOwner`); a second server on the folder gets
    :class:`DevServerDataFolderLockedError`, which names the first so it can be reused
    (:func:`server_answers`);
  - no orphans: the server leads its own process group, :meth:`DevServer.stop` and an ``atexit``
    hook stop it (SIGTERM, then SIGKILL), and on Linux the kernel SIGKILLs it if the parent
    dies abruptly (``PR_SET_PDEATHSIG``, armed when it is launched from the main thread);
  - a log file, and typed start-up errors that carry its tail.

:func:`ensure_temporal_cli` finds or provisions the binary for both; the SDK's own download is
only its last resort, as ``temporal.download`` is not reachable everywhere (the Go proxy often
is). POSIX only (Linux and macOS): ``flock`` locks, process groups and POSIX signals.

Errors::

    TempflareError, RuntimeError
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
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Coroutine, Sequence
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Final, TypeVar

import platformdirs
from filelock import FileLock, Timeout, lock_descriptor, unlock_descriptor
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

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

#: Environment variable overriding the cache directory (default: ``platformdirs``' user cache
#: folder for ``tempflare``, ``~/.cache/tempflare`` on Linux).
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
_GO_BUILD_TIMEOUT_S: Final = 30 * 60.0
_DOWNLOAD_TIMEOUT_S: Final = 300.0
_LOG_TAIL_BYTES: Final = 4000

#: Dynamic config that ``WorkflowEnvironment.start_local`` passes on its own (sdk-core
#: ``ephemeral_server/mod.rs``): :func:`dev_server_args` adds them, :func:`dev_server_extra_args`
#: leaves them out.
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
    # instance.delete() waits until the instance is gone; by default the server retries a closed
    # execution's delete task with backoff until its close task is acknowledged (30-60 s here).
    "history.transferProcessorEnsureCloseBeforeDelete=false",
)

_T = TypeVar("_T")


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
            return cls(**json.loads(Path(lock_file).read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None

    def describe(self) -> str:
        """One line: server pid, addresses, and the process that started it."""
        server = f"pid {self.server_pid}" if self.server_pid is not None else "being launched"
        ui = f", Web UI {self.ui_url}" if self.ui_url else ""
        parent = f"started by pid {self.pid}" + ("" if _alive(self.pid) else ", which has exited")
        return f"the dev server {server} (gRPC {self.address}{ui}; {parent})"


class DevServerDataFolderLockedError(DevServerError):
    """Another dev server runs on the same data folder, so this one must not open its SQLite file.

    Attributes:
        data_dir: The contended folder.
        lock_file: The lock file in it.
        owner: What the running server recorded about itself, or ``None`` if it has not yet.
    """

    def __init__(self, data_dir: Path, owner: DevServerOwner | None) -> None:
        self.data_dir = data_dir
        self.lock_file = data_dir / DATA_FOLDER_LOCK_NAME
        self.owner = owner
        if owner is None:
            holder = "another process that has not recorded itself yet (it may be starting)"
            advice = f"wait for it, or find it with `fuser {self.lock_file}`"
        else:
            holder = owner.describe()
            stop = owner.pid if _alive(owner.pid) else owner.server_pid
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

    1. ``$TEMPFLARE_TEMPORAL_CLI`` (an error if it points nowhere);
    2. a ``temporal`` executable on ``PATH`` (whatever version it is);
    3. the cached binary ``<cache>/temporal-cli/v1.5.1/temporal``, where ``<cache>`` is
       ``cache_dir``, else ``$TEMPFLARE_CACHE_DIR``, else ``platformdirs.user_cache_dir
       ("tempflare")`` (``~/.cache/tempflare`` on Linux);
    4. when ``go`` is on ``PATH``: ``go install github.com/temporalio/cli/cmd/temporal@v1.5.1``
       into the cache (a one-off of a few minutes; a note goes to stderr);
    5. otherwise, or if the build fails: the release archive, downloaded by the SDK (what
       ``WorkflowEnvironment.start_local`` does when it is given no binary).

    Steps 1-3 cost a few ``stat`` calls. Steps 4-5 run under a ``filelock`` lock in the cache
    folder, so concurrent processes provision once; the binary is renamed into place only
    once it runs, so a crash never leaves a half-written file at the cached path.

    Args:
        cache_dir: Root of the tempflare cache; see step 3 for the default.

    Returns:
        Path to an executable ``temporal`` binary.

    Raises:
        TemporalCliUnavailableError: Every source failed; the message lists what was tried and
            how to fix it.
    """
    override = os.environ.get(CLI_PATH_ENV, "").strip()
    if override:
        if _is_executable(explicit := Path(override).expanduser()):
            return explicit
        # An explicit setting that is wrong must not silently fall back to another binary.
        raise TemporalCliUnavailableError(
            [f"{CLI_PATH_ENV}={override!r}: not an executable file (fix or unset it)"]
        )
    attempts = [f"{CLI_PATH_ENV}: not set"]

    on_path = shutil.which("temporal")
    if on_path is not None:
        return Path(on_path)
    attempts.append("`temporal` on PATH: not found")

    target = _cache_root(cache_dir) / "temporal-cli" / TEMPORAL_CLI_VERSION / "temporal"
    if _is_executable(target):
        return target
    attempts.append(f"cache: no binary at {target}")
    return _provision(target, attempts)


def _cache_root(cache_dir: Path | None) -> Path:
    from_env = os.environ.get(CACHE_DIR_ENV, "").strip()
    if cache_dir is None and from_env:
        cache_dir = Path(from_env)
    if cache_dir is None:
        return platformdirs.user_cache_path("tempflare", appauthor=False)
    return Path(cache_dir).expanduser()


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _provision(target: Path, attempts: list[str]) -> Path:
    """Build or download the CLI into ``target`` under an exclusive lock."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        attempts.append(f"cache: cannot create {target.parent}: {exc}")
        raise TemporalCliUnavailableError(attempts) from exc

    lock = FileLock(target.parent / ".lock")
    try:
        held = lock.acquire(blocking=False)
    except Timeout:
        _note(f"waiting for another process that is provisioning the Temporal CLI ({lock})")
        held = lock.acquire()
    with held:  # releases the lock
        if _is_executable(target):  # another process finished while we waited
            return target
        go = shutil.which("go")
        routes = [("download by the temporalio SDK", _download_with_sdk)]
        if go is None:
            attempts.append("go install: `go` not found on PATH")
        else:
            routes.insert(0, (f"go install {_GO_PACKAGE}@{TEMPORAL_CLI_VERSION}", _go_install))
        for what, route in routes:
            try:
                route(target)
            except (_ProvisionError, OSError, subprocess.SubprocessError) as exc:
                attempts.append(f"{what}: {exc}")
            else:
                return target
    raise TemporalCliUnavailableError(attempts)


def _note(message: str) -> None:
    print(f"tempflare: {message}", file=sys.stderr, flush=True)


def _go_install(target: Path) -> None:
    """Run ``go install`` into a private GOBIN next to ``target``, then rename into place."""
    _note(
        f"building the Temporal CLI {TEMPORAL_CLI_VERSION} with Go into {target.parent} "
        "(one-off; this takes a few minutes)..."
    )
    build_log = target.parent / "go-install.log"
    gobin = Path(tempfile.mkdtemp(prefix=".gobin-", dir=target.parent))
    # The CLI is pure Go (SQLite via modernc.org) and released with cgo off: no C toolchain.
    env = {**os.environ, "GOBIN": str(gobin), "CGO_ENABLED": "0"}
    command = ["go", "install", f"-ldflags={_GO_LDFLAGS}", f"{_GO_PACKAGE}@{TEMPORAL_CLI_VERSION}"]
    try:
        with open(build_log, "w+b") as log:
            result = subprocess.run(
                command,
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
                    f"{_tail(log.fileno(), 0, 1500)}"
                )
        _install(gobin / "temporal", target)
    finally:
        shutil.rmtree(gobin, ignore_errors=True)


def _download_with_sdk(target: Path) -> None:
    """Let the SDK download the release archive, as ``start_local`` does without a binary.

    The SDK has no download-only call, so this starts (and at once stops) a throwaway server;
    the SDK leaves the binary as ``temporal-<version>`` in ``download_dest_dir``.
    """
    _note(f"downloading the Temporal CLI {TEMPORAL_CLI_VERSION} through the temporalio SDK...")
    downloaded = target.parent / f"temporal-{TEMPORAL_CLI_VERSION}"

    async def download() -> None:
        env = await WorkflowEnvironment.start_local(
            download_dest_dir=str(target.parent),
            dev_server_download_version=TEMPORAL_CLI_VERSION,
            dev_server_log_level="error",
            dev_server_startup_timeout=timedelta(seconds=60),
        )
        await env.shutdown()

    try:
        _run_sync(download(), _DOWNLOAD_TIMEOUT_S)
    except Exception as exc:
        if not _is_executable(downloaded):  # else it downloaded, and only the server failed
            raise _ProvisionError(f"{type(exc).__name__}: {exc}") from exc
    _install(downloaded, target)


def _install(binary: Path, target: Path) -> None:
    """Rename ``binary`` to ``target`` once ``binary --version`` runs (catches a wrong-arch or
    truncated file)."""
    if not _is_executable(binary):
        raise _ProvisionError(f"finished but produced no {binary}")
    result = subprocess.run(
        [str(binary), "--version"], stdin=subprocess.DEVNULL, capture_output=True, timeout=60
    )
    if result.returncode != 0:
        output = (result.stdout + result.stderr).decode(errors="replace").strip()
        raise _ProvisionError(f"{binary} --version failed ({result.returncode}): {output}")
    os.replace(binary, target)


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def dev_server_extra_args() -> list[str]:
    """Arguments tempflare needs on top of what ``WorkflowEnvironment.start_local`` passes.

    ``start_local`` already passes ``--port``, ``--namespace``, ``--ip``, ``--log-format``,
    ``--log-level``, ``--db-filename``, ``--ui-port``/``--headless`` and the dynamic configs in
    ``_DYNAMIC_CONFIG_ALSO_SET_BY_SDK``. What is left: one ``--search-attribute NAME=Type`` per
    entry of :data:`adapter._shared.constants.SEARCH_ATTRIBUTES` (one source of truth with
    :func:`dev_server_args`, rather than ``start_local``'s ``search_attributes=``, which only
    turns typed keys back into the same flags), and tempflare's own dynamic config.
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
        What ``start_local`` would pass plus :func:`dev_server_extra_args`, at log level ``warn``.
    """
    args = ["--port", str(port), "--ip", ip, "--namespace", namespace]
    if db_filename is not None:
        args += ["--db-filename", str(db_filename)]
    args += ["--headless"] if ui_port is None else ["--ui-port", str(ui_port)]
    args += ["--log-level", "warn"]
    for setting in _DYNAMIC_CONFIG_ALSO_SET_BY_SDK:
        args += ["--dynamic-config-value", setting]
    return args + dev_server_extra_args()


# --------------------------------------------------------------------------------------------
# Ports and probes
# --------------------------------------------------------------------------------------------


def find_free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free now and unlikely to be handed out soon.

    The port is bound and released, so another process could take it before the caller binds
    it. To make that unlikely on Linux, where ephemeral ports are randomised, a connection to
    it is closed from the listening side first (as sdk-core's ``get_free_port`` does): that
    leaves the port in ``TIME_WAIT``, during which ``bind(0)`` will not hand it out, while
    servers that set ``SO_REUSEADDR`` (as Go's do) can still bind it explicitly.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        # The TIME_WAIT socket inherits this flag; Linux lets a later SO_REUSEADDR bind through
        # only if both sides carry it.
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port: int = listener.getsockname()[1]
        if sys.platform.startswith("linux"):
            with socket.create_connection(("127.0.0.1", port), timeout=1.0) as client:
                accepted, _ = listener.accept()
                accepted.close()  # the server side closes first, so *it* goes to TIME_WAIT
                client.recv(1)
    return port


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

    Blocks for at most about ``timeout`` seconds; safe inside a running event loop (the probe
    runs on a helper thread), though from async code ``asyncio.to_thread`` is kinder.
    """
    return _run_sync(_probe(address, namespace, timeout), timeout + 5.0) is None


async def _probe(address: str, namespace: str, timeout: float) -> str | None:
    """Connect and describe ``namespace``: ``None`` if that works, else what went wrong."""
    try:
        client = await asyncio.wait_for(Client.connect(address, namespace=namespace), timeout)
        await client.workflow_service.describe_namespace(
            DescribeNamespaceRequest(namespace=namespace), timeout=timedelta(seconds=timeout)
        )
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def _run_sync(coroutine: Coroutine[Any, Any, _T], timeout: float) -> _T:
    """Run ``coroutine`` on a helper thread with its own event loop, so that sync code may call
    this whether or not a loop runs in the calling thread. Waits at most ``timeout`` seconds
    (the thread is a daemon, left to finish on its own after that)."""
    outcome: concurrent.futures.Future[_T] = concurrent.futures.Future()

    def run() -> None:
        try:
            outcome.set_result(asyncio.run(coroutine))
        except Exception as exc:
            outcome.set_exception(exc)

    threading.Thread(target=run, name="tempflare-devserver", daemon=True).start()
    return outcome.result(timeout)


def _connect_host(ip: str) -> str:
    """The host a local client should dial for a server bound to ``ip``."""
    return {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(ip, ip)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def _tail(fd: int, start: int, limit: int = _LOG_TAIL_BYTES) -> str:
    """The last ``limit`` bytes written to ``fd`` after offset ``start`` (the offset is kept)."""
    size = os.fstat(fd).st_size
    begin = max(start, size - limit)
    return os.pread(fd, max(0, size - begin), begin).decode(errors="replace")


# --------------------------------------------------------------------------------------------
# DevServer: a supervised, long-lived server
# --------------------------------------------------------------------------------------------

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
    """A supervised ``temporal server start-dev`` child process; see the module docstring for
    what it guarantees and why ``start_local`` cannot.

    Example::

        with DevServer(port=find_free_port(), ui_port=None) as server:
            client = await Client.connect(server.address)

    Args:
        port: gRPC frontend port.
        ui_port: Web UI port, or ``None`` for a headless server.
        db_filename: SQLite file for persistent state (its folder is created), or ``None`` for
            an in-memory database that is lost on stop.
        namespace: Namespace to create (``default`` always exists too).
        log_file: File that receives the server's stdout and stderr (appended to). With
            ``None`` the output goes to an anonymous temporary file, used only to explain
            start-up failures.
        ip: Address to bind.
        executable: The ``temporal`` binary; ``None`` means :func:`ensure_temporal_cli`.
        extra_args: More ``temporal server start-dev`` flags, such as
            ``["--ui-codec-endpoint", "http://localhost:8081"]``.
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
        extra_args: Sequence[str] = (),
    ) -> None:
        self.port = port
        self.extra_args = list(extra_args)
        self.ui_port = ui_port
        self.db_filename = None if db_filename is None else Path(db_filename).expanduser()
        self.namespace = namespace
        self.log_file = log_file
        self.ip = ip
        self.executable = executable
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._log_start = 0
        self._lock_fd: int | None = None

    @property
    def address(self) -> str:
        """``host:port`` for ``Client.connect`` (and for ``TEMPORAL_ADDRESS``)."""
        host = _connect_host(self.ip)
        return f"[{host}]:{self.port}" if ":" in host else f"{host}:{self.port}"

    @property
    def ui_url(self) -> str | None:
        """``http://localhost:<ui_port>``, or ``None`` when headless."""
        return None if self.ui_port is None else f"http://localhost:{self.ui_port}"

    @property
    def data_dir(self) -> Path | None:
        """The folder of the SQLite file, which the running server locks; ``None`` in memory."""
        return None if self.db_filename is None else self.db_filename.resolve().parent

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
        return f"<DevServer {self.address} namespace={self.namespace!r} {state}>"

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self, timeout: float = 60.0) -> None:
        """Launch the server and block until its gRPC frontend serves the namespace.

        Provisioning the binary (:func:`ensure_temporal_cli`) comes first and is not counted in
        ``timeout``. Safe to call inside a running event loop (the readiness probe runs its own
        loop on a helper thread), though from async code :meth:`astart` does not block it.

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
        self._launch(self.executable or ensure_temporal_cli())
        try:
            _run_sync(self._wait_until_ready(timeout), timeout + 30.0)
        except BaseException:
            self.stop()
            raise

    async def astart(self, timeout: float = 60.0) -> None:
        """:meth:`start` for async code: provisioning runs on a worker thread and the readiness
        wait on the caller's loop, while the process itself is launched from the calling thread
        (normally the main one, so the server dies with this process). If the awaiting task is
        cancelled, the server is stopped before the cancellation propagates."""
        executable = self.executable
        if executable is None:
            executable = await asyncio.to_thread(ensure_temporal_cli)
        self._launch(executable)
        try:
            await self._wait_until_ready(timeout)
        except BaseException:
            self.stop()
            raise

    def stop(self, timeout: float = 15.0) -> None:
        """Shut the server down: SIGTERM, wait up to ``timeout`` seconds, then SIGKILL.

        Releases the data-folder lock once the process is gone. Idempotent.
        """
        process, self._process = self._process, None
        try:
            if process is not None:
                atexit.unregister(self.stop)
                if process.poll() is None:
                    _signal_group(process, signal.SIGTERM)
                    try:
                        process.wait(timeout)
                    except subprocess.TimeoutExpired:
                        _signal_group(process, signal.SIGKILL)
                        process.wait()
        finally:
            if self._log is not None:
                self._log.close()
                self._log = None
            self._unlock_data_folder()

    def __enter__(self) -> DevServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- internals ----------------------------------------------------------------------------

    def _launch(self, executable: Path) -> None:
        """Lock the data folder, check the ports and start the process (no waiting)."""
        if self.running:
            raise DevServerError(f"{self!r} is already running")
        self.stop()  # tidy up after a previous run whose process died on its own
        # The lock before the ports: a server already on this folder is the more useful news.
        self._lock_data_folder()
        try:
            for port, what in ((self.port, "gRPC frontend"), (self.ui_port, "Web UI")):
                if port is not None and not port_is_free(port, self.ip):
                    raise DevServerPortInUseError(port, what=what, ip=self.ip)
            if self.log_file is not None:
                self.log_file.parent.mkdir(parents=True, exist_ok=True)
            self._log = open(self.log_file, "a+b") if self.log_file else tempfile.TemporaryFile()
            self._log_start = os.fstat(self._log.fileno()).st_size
            db = None if self.db_filename is None else self.db_filename.resolve()
            command = [
                str(executable),
                "server",
                "start-dev",
                *dev_server_args(
                    port=self.port,
                    ui_port=self.ui_port,
                    db_filename=db,
                    namespace=self.namespace,
                    ip=self.ip,
                ),
                *self.extra_args,
            ]
            # PR_SET_PDEATHSIG fires when the launching *thread* exits: only the main one is safe.
            if sys.platform.startswith("linux") and threading.current_thread() is (
                threading.main_thread()
            ):
                command = [sys.executable, "-c", _PDEATHSIG_LAUNCHER, str(os.getpid()), *command]
            try:
                self._process = subprocess.Popen(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=self._log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    # The server shares the lock: it stays held while the server lives, even if
                    # this process dies first.
                    pass_fds=() if self._lock_fd is None else (self._lock_fd,),
                )
            except OSError as exc:
                raise DevServerStartError(
                    f"Cannot execute {executable}: {exc}", log_tail="", returncode=None
                ) from exc
        except BaseException:
            self.stop()
            raise
        self._write_owner()
        atexit.register(self.stop)

    def _lock_data_folder(self) -> None:
        """Take the folder's lock without waiting, or raise naming its holder."""
        data_dir = self.data_dir
        if data_dir is None:
            return
        data_dir.mkdir(parents=True, exist_ok=True)
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
        self._write_owner()

    def _write_owner(self) -> None:
        """Record who holds the lock, in the lock file itself."""
        if self._lock_fd is None or self.db_filename is None:
            return
        owner = DevServerOwner(
            pid=os.getpid(),
            server_pid=self.pid,
            address=self.address,
            ui_url=self.ui_url,
            namespace=self.namespace,
            db_filename=str(self.db_filename.resolve()),
            started_at=time.time(),
        )
        os.ftruncate(self._lock_fd, 0)
        os.pwrite(self._lock_fd, json.dumps(asdict(owner)).encode(), 0)

    def _unlock_data_folder(self) -> None:
        """Clear the record and release the lock (only once the server process is gone)."""
        fd, self._lock_fd = self._lock_fd, None
        if fd is not None:
            try:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, 0)
                unlock_descriptor(fd)
            finally:
                os.close(fd)

    def _log_tail(self) -> str:
        return "" if self._log is None else _tail(self._log.fileno(), self._log_start)

    async def _wait_until_ready(self, timeout: float) -> None:
        process = self._process
        assert process is not None
        deadline = time.monotonic() + timeout
        last_error = "no answer yet"
        while (returncode := process.poll()) is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DevServerStartError(
                    f"The Temporal dev server at {self.address} did not become ready within "
                    f"{timeout:g}s (last probe: {last_error}).",
                    log_tail=self._log_tail(),
                    returncode=None,
                )
            error = await _probe(self.address, self.namespace, min(5.0, remaining))
            if error is None:
                return
            last_error = error
            await asyncio.sleep(0.1)
        tail = self._log_tail()
        # The CLI checks its ports itself and says which one it could not bind.
        if self.ui_port is not None and any(
            text in tail.lower() for text in ("can't set ui port", "can't use default ui port")
        ):
            raise DevServerPortInUseError(self.ui_port, what="Web UI", ip=self.ip)
        if "can't set frontend port" in tail.lower():
            raise DevServerPortInUseError(self.port, what="gRPC frontend", ip=self.ip)
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
