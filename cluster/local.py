"""A production-shaped Temporal cluster on loopback: PostgreSQL, and each service its own process.

    python -m cluster up            # make cluster-up: prints TEMPORAL_ADDRESS=127.0.0.1:<port>
    python -m cluster status        # make cluster-status
    python -m cluster down          # make cluster-down: stops everything, deletes the data
    python -m cluster test [ARGS]   # make test-cluster: up, the cluster tests, down

The cluster is what users run in production, shrunk onto one machine: a PostgreSQL server of its
own (from the system packages; ``apt-get install postgresql`` when missing and we are root), the
persistence schema and the SQL visibility schema applied by Temporal's ``temporal-sql-tool``, and
the Temporal services as separate ``temporal-server`` processes: one frontend, two history, one
matching and one worker service, which find each other through the membership ring in
PostgreSQL and split ``NUM_HISTORY_SHARDS`` shards between the history processes. The ``default``
namespace and tempflare's search attributes (``TempflareStatus``, ``TempflareStep``) are
registered through the frontend, as docker-compose.yml's auto-setup and admin-tools do.

Configuration comes from ``cluster/temporal.env`` and ``cluster/dynamicconfig.yaml``, the files
docker-compose.yml uses too (one source of truth, checked by tests/unit/test_cluster_config.py).

The server and the schema tool are built once with ``go install go.temporal.io/server/cmd/
server@v1.29.1`` (and ``cmd/tools/sql``), the server version the dev server's CLI embeds, and
cached under ``<tempflare cache>/temporal-server/v1.29.1/`` (``~/.cache/tempflare`` or
``$TEMPFLARE_CACHE_DIR``), as adapter/devserver.py caches the CLI. Everything the cluster writes
(PostgreSQL's data, the rendered configs, logs, ``cluster.json`` with its pids and ports) goes to
the run folder, ``$TEMPFLARE_CLUSTER_DIR`` or ``/tmp/tempflare-cluster-<uid>`` (PostgreSQL refuses
to run as root, so when we are root its data belongs to the ``postgres`` user, which cannot
enter ``/root``). Ports are a block from ``--base-port`` (default 17233): frontend gRPC at the
base, HTTP at +10, history at +1 and +2, matching +3, worker +4, membership ports at +100 and
up, PostgreSQL at +200.

:class:`LocalCluster` is also the fault injector of ``bench/crash_test.py --cluster``: kill and
restart one service process, restart the frontend, restart PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Final

import platformdirs
import yaml
from filelock import FileLock

ROOT: Final = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from adapter._shared.constants import SEARCH_ATTRIBUTES  # noqa: E402
from adapter.devserver import CACHE_DIR_ENV  # noqa: E402

HERE: Final = Path(__file__).resolve().parent
#: The shared server settings (docker-compose.yml's ``env_file`` for the temporal service).
ENV_FILE: Final = HERE / "temporal.env"
#: The shared dynamic config (mounted by docker-compose.yml at DYNAMIC_CONFIG_FILE_PATH).
DYNAMIC_CONFIG_FILE: Final = HERE / "dynamicconfig.yaml"

#: The server version, the same as the dev server's (temporal CLI v1.5.1 embeds 1.29.1) and as
#: docker-compose.yml's images (checked by tests/unit/test_cluster_config.py).
SERVER_VERSION: Final = "v1.29.1"
_GO_MODULE: Final = "go.temporal.io/server"
#: go install's binary name -> the name it gets in the cache.
_BINARIES: Final = {"server": "temporal-server", "sql": "temporal-sql-tool"}
_GO_PACKAGES: Final = (f"{_GO_MODULE}/cmd/server", f"{_GO_MODULE}/cmd/tools/sql")

RUN_DIR_ENV: Final = "TEMPFLARE_CLUSTER_DIR"
DEFAULT_BASE_PORT: Final = 17233

#: The test files that make up the cluster conformance suite (``make test-cluster``): steps,
#: retries, events, durability, lifecycle (status with no worker, list queries on
#: TempflareStatus, restart and restart from a step), native Temporal interop, the introspection
#: toolkit. The rest of tests/core tests the dev server and the main job themselves.
CLUSTER_TESTS: Final = (
    "tests/core/test_steps.py",
    "tests/core/test_retries.py",
    "tests/core/test_lifecycle.py",
    "tests/core/test_durability.py",
    "tests/core/test_introspection.py",
    "tests/core/test_native.py",
    "tests/core/test_cloudflare_forms.py",
    "tests/core/test_bad_inputs.py",
    "tests/examples",
)


class ClusterError(RuntimeError):
    """The cluster could not be provisioned, started or stopped; the message says why."""


def _note(message: str) -> None:
    print(f"cluster: {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# The shared configuration
# --------------------------------------------------------------------------------------------


def read_env_file(path: Path = ENV_FILE) -> dict[str, str]:
    """``KEY=VALUE`` lines of a compose ``env_file`` (comments and blank lines skipped)."""
    settings: dict[str, str] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise ClusterError(f"{path}:{number}: expected KEY=VALUE, got {raw!r}")
        settings[key.strip()] = value.strip()
    return settings


@dataclass(frozen=True)
class Process:
    """One ``temporal-server`` process running one service."""

    name: str  # frontend, history-1, ...
    service: str  # frontend, history, matching, worker
    grpc_port: int
    membership_port: int
    http_port: int | None = None


def layout(base_port: int) -> tuple[Process, ...]:
    """The service processes of a cluster whose frontend listens on ``base_port``."""
    return (
        Process("frontend", "frontend", base_port, base_port + 100, base_port + 10),
        Process("history-1", "history", base_port + 1, base_port + 101),
        Process("history-2", "history", base_port + 2, base_port + 102),
        Process("matching", "matching", base_port + 3, base_port + 103),
        Process("worker", "worker", base_port + 4, base_port + 104),
    )


def render_server_config(
    settings: dict[str, str],
    process: Process,
    processes: tuple[Process, ...],
    *,
    pg_port: int,
    dynamic_config: Path,
) -> dict[str, Any]:
    """The ``temporal-server`` config of one process, from the shared settings.

    Mirrors what the auto-setup image renders from the same variables (its
    ``config_template.yaml``): SQL persistence and SQL visibility on ``DB``, the two databases,
    the credentials and the shard count. Every process lists every service's ports (its own
    service with its own ports) so that each knows where the frontend is.
    """
    if settings["DB"] != "postgres12":
        raise ClusterError(f"{ENV_FILE}: DB={settings['DB']}; the local cluster runs postgres12")

    def store(database: str, conns: int) -> dict[str, Any]:
        return {
            "sql": {
                "pluginName": settings["DB"],
                "databaseName": database,
                "connectAddr": f"127.0.0.1:{pg_port}",
                "connectProtocol": "tcp",
                "user": settings["POSTGRES_USER"],
                "password": settings["POSTGRES_PWD"],
                "maxConns": conns,
                "maxIdleConns": conns,
                "maxConnLifetime": "1h",
            }
        }

    services: dict[str, Any] = {}
    for service in dict.fromkeys(p.service for p in processes):
        own = process if process.service == service else None
        chosen = own or next(p for p in processes if p.service == service)
        rpc: dict[str, Any] = {
            "grpcPort": chosen.grpc_port,
            "membershipPort": chosen.membership_port,
            "bindOnLocalHost": True,
        }
        if chosen.http_port is not None:
            rpc["httpPort"] = chosen.http_port
        services[service] = {"rpc": rpc}
    frontend = next(p for p in processes if p.service == "frontend")
    return {
        "log": {"stdout": True, "level": "warn"},
        "persistence": {
            "defaultStore": "default",
            "visibilityStore": "visibility",
            "numHistoryShards": int(settings["NUM_HISTORY_SHARDS"]),
            "datastores": {
                "default": store(settings["DBNAME"], 20),
                "visibility": store(settings["VISIBILITY_DBNAME"], 10),
            },
        },
        "global": {"membership": {"maxJoinDuration": "30s", "broadcastAddress": "127.0.0.1"}},
        "services": services,
        "clusterMetadata": {
            "enableGlobalNamespace": False,
            "failoverVersionIncrement": 10,
            "masterClusterName": "active",
            "currentClusterName": "active",
            "clusterInformation": {
                "active": {
                    "enabled": True,
                    "initialFailoverVersion": 1,
                    "rpcName": "frontend",
                    "rpcAddress": f"127.0.0.1:{frontend.grpc_port}",
                }
            },
        },
        "dcRedirectionPolicy": {"policy": "noop"},
        "publicClient": {"hostPort": f"127.0.0.1:{frontend.grpc_port}"},
        "dynamicConfigClient": {"filepath": str(dynamic_config), "pollInterval": "10s"},
    }


# --------------------------------------------------------------------------------------------
# Provisioning: the server binaries (go install, cached) and PostgreSQL (apt)
# --------------------------------------------------------------------------------------------


def cache_root() -> Path:
    """tempflare's cache folder, as adapter/devserver.py computes it."""
    from_env = os.environ.get(CACHE_DIR_ENV, "").strip()
    if from_env:
        return Path(from_env).expanduser()
    return platformdirs.user_cache_path("tempflare", appauthor=False)


def ensure_server_binaries() -> dict[str, Path]:
    """``temporal-server`` and ``temporal-sql-tool`` of SERVER_VERSION, built once and cached."""
    folder = cache_root() / "temporal-server" / SERVER_VERSION
    wanted = {name: folder / cached for name, cached in _BINARIES.items()}
    if all(_is_executable(path) for path in wanted.values()):
        return wanted
    if shutil.which("go") is None:
        raise ClusterError(
            f"no cached Temporal server in {folder} and `go` is not on PATH: install Go >= 1.24 "
            "(https://go.dev/dl/) so the cluster script can build the server "
            f"({_GO_MODULE}@{SERVER_VERSION}) itself."
        )
    folder.mkdir(parents=True, exist_ok=True)
    with FileLock(folder / ".lock"):
        if all(_is_executable(path) for path in wanted.values()):
            return wanted
        _note(
            f"building the Temporal server {SERVER_VERSION} and its SQL schema tool with Go into "
            f"{folder} (one-off; 2-5 minutes)..."
        )
        gobin = Path(tempfile.mkdtemp(prefix=".gobin-", dir=folder))
        log = folder / "go-install.log"
        try:
            with open(log, "wb") as out:
                result = subprocess.run(
                    [
                        "go",
                        "install",
                        "-ldflags=-s -w",
                        *(f"{package}@{SERVER_VERSION}" for package in _GO_PACKAGES),
                    ],
                    env={**os.environ, "GOBIN": str(gobin), "CGO_ENABLED": "0"},
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    timeout=40 * 60,
                    check=False,
                )
            if result.returncode != 0:
                raise ClusterError(
                    f"go install exited with status {result.returncode}; see {log}:\n"
                    + log.read_text(errors="replace")[-1500:]
                )
            for name, path in wanted.items():
                os.replace(gobin / name, path)  # atomic: never a half-written cached binary
        finally:
            shutil.rmtree(gobin, ignore_errors=True)
    return wanted


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def ensure_postgres() -> Path:
    """The bin folder of the newest installed PostgreSQL, installed from apt when missing."""
    found = _postgres_bin()
    if found is not None:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        _note("PostgreSQL is missing: apt-get install -y postgresql (one-off)...")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for command in (
            ["apt-get", "update", "-q"],
            ["apt-get", "install", "-y", "-q", "--no-install-recommends", "postgresql"],
        ):
            subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
        found = _postgres_bin()
        if found is not None:
            return found
    raise ClusterError(
        "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): install it with "
        "`apt-get install postgresql` (the script does so itself when run as root with apt)."
    )


def _postgres_bin() -> Path | None:
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if candidates:
        return candidates[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


# --------------------------------------------------------------------------------------------
# The cluster
# --------------------------------------------------------------------------------------------


def default_run_dir() -> Path:
    from_env = os.environ.get(RUN_DIR_ENV, "").strip()
    if from_env:
        return Path(from_env).expanduser()
    return Path(tempfile.gettempdir()) / f"tempflare-cluster-{os.getuid()}"


@dataclass
class State:
    """What ``up`` records in ``cluster.json`` so that ``down`` (another process) can stop it."""

    base_port: int
    pg_port: int
    pg_bin: str
    address: str
    namespace: str
    pids: dict[str, int] = field(default_factory=dict)


class LocalCluster:
    """PostgreSQL plus one ``temporal-server`` process per service, on loopback."""

    def __init__(self, run_dir: Path | None = None, *, base_port: int = DEFAULT_BASE_PORT) -> None:
        self.run_dir = (run_dir or default_run_dir()).resolve()
        self.settings = read_env_file()
        self.processes = layout(base_port)
        self.base_port = base_port
        self.pg_port = base_port + 200
        self.state_file = self.run_dir / "cluster.json"
        self.pg_data = self.run_dir / "postgres"
        self._pg_bin: Path | None = None
        self._server: Path | None = None
        self.pids: dict[str, int] = {}

    # -- addresses ---------------------------------------------------------------------------

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.processes[0].grpc_port}"

    @property
    def namespace(self) -> str:
        return self.settings["DEFAULT_NAMESPACE"]

    def process(self, name: str) -> Process:
        for process in self.processes:
            if process.name == name:
                return process
        raise ClusterError(f"no process {name!r}; the cluster has {self.names()}")

    def names(self) -> list[str]:
        return [p.name for p in self.processes]

    # -- lifecycle ---------------------------------------------------------------------------

    def up(self) -> None:
        """Fresh cluster: provision, PostgreSQL, schemas, services, namespace, search attributes."""
        if self.state_file.exists():
            _note(f"a cluster is recorded in {self.state_file}; stopping it first")
            self.down()
        binaries = ensure_server_binaries()
        self._server = binaries["server"]
        self._pg_bin = ensure_postgres()
        busy = [port for port in self._all_ports() if not _port_is_free(port)]
        if busy:
            raise ClusterError(
                f"ports {busy} on 127.0.0.1 are in use (another cluster?): run "
                "`python -m cluster down`, or choose another block with --base-port"
            )
        shutil.rmtree(self.run_dir, ignore_errors=True)
        self.run_dir.mkdir(parents=True)
        self.run_dir.chmod(0o755)
        started = time.monotonic()
        try:
            self._init_postgres()
            self.start_postgres()
            self._save()
            self._setup_schemas(binaries["sql"])
            for process in self.processes:
                self.start(process.name)
            self._save()
            asyncio.run(self._register_namespace())
        except BaseException:
            self._print_logs()
            self.down()
            raise
        _note(
            f"up in {time.monotonic() - started:.0f}s: TEMPORAL_ADDRESS={self.address} "
            f"(namespace {self.namespace}; {len(self.processes)} service processes, "
            f"{self.settings['NUM_HISTORY_SHARDS']} shards, PostgreSQL on 127.0.0.1:"
            f"{self.pg_port}; logs in {self.run_dir})"
        )

    def down(self, *, keep_files: bool = False) -> None:
        """Stops every process recorded in ``cluster.json``; deletes the run folder unless kept."""
        state = self._load()
        if state is not None:
            self.pids = {**state.pids, **self.pids}
            self._pg_bin = Path(state.pg_bin)
            self.pg_port = state.pg_port
        for name in list(self.pids):
            self.stop(name)
        if self._pg_bin is not None and (self.pg_data / "PG_VERSION").exists():
            self._pg_ctl("stop", "-m", "fast", check=False)
        if keep_files:
            self.state_file.unlink(missing_ok=True)
        else:
            shutil.rmtree(self.run_dir, ignore_errors=True)

    def attach(self) -> None:
        """Adopts the cluster that ``up`` (maybe another process) recorded in the run folder."""
        state = self._load()
        if state is None:
            raise ClusterError(f"no cluster recorded in {self.state_file}: run `up` first")
        self.pids = dict(state.pids)
        self._pg_bin = Path(state.pg_bin)
        self._server = ensure_server_binaries()["server"]

    # -- service processes -------------------------------------------------------------------

    def start(self, name: str) -> int:
        """Starts one service process (rendering its config) and waits for its gRPC port."""
        process = self.process(name)
        if self._server is None:
            self._server = ensure_server_binaries()["server"]
        home = self.run_dir / name
        (home / "config").mkdir(parents=True, exist_ok=True)
        config = render_server_config(
            self.settings,
            process,
            self.processes,
            pg_port=self.pg_port,
            dynamic_config=DYNAMIC_CONFIG_FILE,
        )
        (home / "config" / "development.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        with open(self.run_dir / f"{name}.log", "ab") as log:
            child = subprocess.Popen(
                [
                    str(self._server),
                    "--root",
                    str(home),
                    "--config",
                    "config",
                    "--env",
                    "development",
                    "--allow-no-auth",
                    "start",
                    "--service",
                    process.service,
                ],
                cwd=home,
                env={**os.environ, **self.settings},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # outlives `up`; `down` stops it by pid
            )
        self.pids[name] = child.pid
        self._save()
        deadline = time.monotonic() + 60
        # Every service joins the membership ring on its membership port; the worker service
        # serves no gRPC, the others do once they are up.
        ports = [process.membership_port]
        if process.service != "worker":
            ports.append(process.grpc_port)
        while not all(_port_answers(port) for port in ports):
            if child.poll() is not None:
                raise ClusterError(
                    f"{name} exited with status {child.returncode}:\n{self._tail(name)}"
                )
            if time.monotonic() > deadline:
                raise ClusterError(f"{name} did not listen on {ports} within 60 s")
            time.sleep(0.2)
        self._save()
        return child.pid

    def stop(self, name: str, sig: signal.Signals = signal.SIGTERM) -> None:
        """Stops one service process (SIGTERM, then SIGKILL after 10 s; or ``sig`` at once)."""
        pid = self.pids.pop(name, None)
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, sig)
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            while _alive(pid):
                time.sleep(0.05)
        self._save()

    def kill(self, name: str) -> None:
        """SIGKILLs one service process, as a crashed host would lose it."""
        self.stop(name, signal.SIGKILL)

    def restart(self, name: str, *, kill: bool = False) -> float:
        """Stops (or kills) one service process and starts it again; returns the seconds taken."""
        began = time.monotonic()
        self.stop(name, signal.SIGKILL if kill else signal.SIGTERM)
        self.start(name)
        return time.monotonic() - began

    # -- PostgreSQL --------------------------------------------------------------------------

    def _as_postgres(self) -> list[str]:
        """Command prefix running as the ``postgres`` user when we are root."""
        if os.geteuid() != 0:
            return []
        try:
            pwd.getpwnam("postgres")
        except KeyError as err:
            raise ClusterError("running as root but there is no `postgres` user") from err
        return ["runuser", "-u", "postgres", "--"]

    def _init_postgres(self) -> None:
        assert self._pg_bin is not None
        self.pg_data.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.pg_data, "postgres", "postgres")
        self.pg_data.chmod(0o700)
        pwfile = self.run_dir / "pgpass.txt"
        pwfile.write_text(self.settings["POSTGRES_PWD"] + "\n")
        pwfile.chmod(0o644)
        subprocess.run(
            [
                *self._as_postgres(),
                str(self._pg_bin / "initdb"),
                "-D",
                str(self.pg_data),
                "-U",
                self.settings["POSTGRES_USER"],
                f"--pwfile={pwfile}",
                "--auth=scram-sha-256",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        pwfile.unlink()

    def _pg_ctl(self, *args: str, check: bool = True) -> None:
        assert self._pg_bin is not None
        subprocess.run(
            [*self._as_postgres(), str(self._pg_bin / "pg_ctl"), "-D", str(self.pg_data), *args],
            check=check,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL if not check else None,
        )

    def start_postgres(self) -> None:
        options = f"-p {self.pg_port} -c listen_addresses=127.0.0.1 -k {self.pg_data} " + (
            "-c max_connections=300 -c fsync=off -c synchronous_commit=off"
        )
        self._pg_ctl(
            "start", "-w", "-t", "60", "-l", str(self.pg_data / "server.log"), "-o", options
        )

    def restart_postgres(self) -> float:
        """Crashes PostgreSQL (immediate shutdown, no checkpoint) and starts it again."""
        began = time.monotonic()
        self._pg_ctl("stop", "-m", "immediate", check=False)
        self.start_postgres()
        return time.monotonic() - began

    def _setup_schemas(self, sql_tool: Path) -> None:
        base = [
            str(sql_tool),
            "--plugin",
            self.settings["DB"],
            "--endpoint",
            "127.0.0.1",
            "--port",
            str(self.pg_port),
            "--user",
            self.settings["POSTGRES_USER"],
            "--password",
            self.settings["POSTGRES_PWD"],
        ]
        for database, schema in (
            (self.settings["DBNAME"], "postgresql/v12/temporal"),
            (self.settings["VISIBILITY_DBNAME"], "postgresql/v12/visibility"),
        ):
            for step in (
                ["create-database"],
                ["setup-schema", "-v", "0.0"],
                ["update-schema", "--schema-name", schema],
            ):
                result = subprocess.run(
                    [*base, "--database", database, *step],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if result.returncode != 0:
                    raise ClusterError(
                        f"temporal-sql-tool {' '.join(step)} on {database} failed:\n"
                        f"{result.stdout[-1500:]}{result.stderr[-1500:]}"
                    )

    # -- namespace and search attributes -----------------------------------------------------

    async def _register_namespace(self) -> None:
        from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
        from temporalio.api.workflowservice.v1 import (
            DescribeNamespaceRequest,
            RegisterNamespaceRequest,
        )
        from temporalio.client import Client
        from temporalio.service import RPCError, RPCStatusCode

        from adapter._worker.worker import ensure_search_attributes

        deadline = time.monotonic() + 120
        client: Client | None = None
        while True:
            try:
                if client is None:
                    client = await Client.connect(self.address, namespace=self.namespace)
                try:
                    await client.workflow_service.register_namespace(
                        RegisterNamespaceRequest(
                            namespace=self.namespace,
                            workflow_execution_retention_period=_duration(
                                self.settings["DEFAULT_NAMESPACE_RETENTION"]
                            ),
                        )
                    )
                except RPCError as err:
                    if err.status != RPCStatusCode.ALREADY_EXISTS:
                        raise
                await client.workflow_service.describe_namespace(
                    DescribeNamespaceRequest(namespace=self.namespace)
                )
                if not await ensure_search_attributes(client):
                    raise ClusterError("the search attributes could not be registered")
                listed = await client.operator_service.list_search_attributes(
                    ListSearchAttributesRequest(namespace=self.namespace)
                )
                if set(SEARCH_ATTRIBUTES) <= set(listed.custom_attributes):
                    return
            except (RPCError, RuntimeError) as err:
                if time.monotonic() > deadline:
                    raise ClusterError(f"namespace set-up failed: {err}") from err
            await asyncio.sleep(0.5)

    # -- bookkeeping -------------------------------------------------------------------------

    def _all_ports(self) -> list[int]:
        ports = [self.pg_port]
        for p in self.processes:
            ports += [p.grpc_port, p.membership_port, *([p.http_port] if p.http_port else [])]
        return ports

    def _save(self) -> None:
        state = State(
            base_port=self.base_port,
            pg_port=self.pg_port,
            pg_bin=str(self._pg_bin),
            address=self.address,
            namespace=self.namespace,
            pids=self.pids,
        )
        self.state_file.write_text(json.dumps(asdict(state), indent=2))

    def _load(self) -> State | None:
        try:
            return State(**json.loads(self.state_file.read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def _tail(self, name: str, size: int = 3000) -> str:
        with contextlib.suppress(OSError):
            return (self.run_dir / f"{name}.log").read_text(errors="replace")[-size:]
        return ""

    def _print_logs(self) -> None:
        for name in self.names():
            tail = self._tail(name, 1500)
            if tail:
                _note(f"--- {name}.log (tail) ---\n{tail}")

    def status(self) -> dict[str, Any]:
        state = self._load()
        if state is None:
            return {"running": False, "run_dir": str(self.run_dir)}
        return {
            "running": True,
            "address": state.address,
            "namespace": state.namespace,
            "postgres": f"127.0.0.1:{state.pg_port}",
            "processes": {
                name: {"pid": pid, "alive": _alive(pid)} for name, pid in state.pids.items()
            },
            "run_dir": str(self.run_dir),
        }


def _duration(text: str) -> Any:
    from google.protobuf.duration_pb2 import Duration

    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    if text[-1:] in units:
        seconds = float(text[:-1]) * units[text[-1]]
    else:  # auto-setup reads a bare number as days
        seconds = float(text) * 86400
    duration = Duration()
    duration.FromTimedelta(timedelta(seconds=seconds))
    return duration


def _alive(pid: int) -> bool:
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
        if waited == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Go servers bind
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _port_answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True
    return False


def free_base_port(start: int = 27233) -> int:
    """A base port whose whole block (the services' ports and PostgreSQL's) is free now."""
    for base in range(start, 60000, 1000):
        cluster = LocalCluster.__new__(LocalCluster)
        cluster.processes, cluster.pg_port = layout(base), base + 200
        if all(_port_is_free(port) for port in cluster._all_ports()):
            return base
    raise ClusterError(f"no free block of ports from {start} on 127.0.0.1")


@contextlib.contextmanager
def running_cluster(
    run_dir: Path | None = None, *, base_port: int = DEFAULT_BASE_PORT
) -> Iterator[LocalCluster]:
    """A fresh cluster for the duration of the block, torn down after it."""
    cluster = LocalCluster(run_dir, base_port=base_port)
    cluster.up()
    try:
        yield cluster
    finally:
        cluster.down()


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def _test(args: argparse.Namespace) -> int:
    """A fresh cluster of its own (private run folder, a free port block), the tests, down."""
    began = time.monotonic()
    base_port = args.base_port if args.base_port != DEFAULT_BASE_PORT else free_base_port()
    with tempfile.TemporaryDirectory(prefix="tempflare-cluster-test-") as scratch:
        Path(scratch).chmod(0o755)  # PostgreSQL runs as the `postgres` user when we are root
        with running_cluster(args.run_dir or Path(scratch) / "cluster", base_port=base_port) as c:
            extra = [a for a in args.pytest_args if a != "--"]
            paths = [] if any(a.startswith("tests") for a in extra) else list(CLUSTER_TESTS)
            result = subprocess.run(
                [sys.executable, "-m", "pytest", *paths, *extra],
                cwd=ROOT,
                env={**os.environ, "TEMPORAL_ADDRESS": c.address},
                check=False,
            )
    _note(
        f"cluster tests: exit {result.returncode}, "
        f"{time.monotonic() - began:.0f}s including up and down"
    )
    return result.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cluster", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--run-dir", type=Path, default=None, help=f"default: ${RUN_DIR_ENV} or {default_run_dir()}"
    )
    parser.add_argument("--base-port", type=int, default=DEFAULT_BASE_PORT)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="start a fresh cluster and leave it running")
    sub.add_parser("down", help="stop the cluster and delete its data")
    sub.add_parser("status", help="print the recorded cluster and whether its processes live")
    sub.add_parser("build", help="only build (or find) the cached server binaries and PostgreSQL")
    sub.add_parser("test", help="up, run the cluster tests (other args go to pytest), down")
    args, unknown = parser.parse_known_args(argv)
    if unknown and args.command != "test":
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    args.pytest_args = unknown

    if args.command == "test":
        return _test(args)
    cluster = LocalCluster(args.run_dir, base_port=args.base_port)
    if args.command == "up":
        cluster.up()
        print(f"TEMPORAL_ADDRESS={cluster.address}")
    elif args.command == "down":
        cluster.down()
    elif args.command == "status":
        print(json.dumps(cluster.status(), indent=2))
    elif args.command == "build":
        for name, path in ensure_server_binaries().items():
            print(f"{name}: {path}")
        print(f"postgres: {ensure_postgres()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
