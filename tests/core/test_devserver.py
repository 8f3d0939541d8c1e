"""Tests for adapter.devserver: argument building, binary resolution, and one real server run."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import filelock
import platformdirs
import pytest
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.client import Client

from adapter import devserver
from adapter._shared.constants import SEARCH_ATTRIBUTES
from adapter.devserver import (
    TEMPORAL_CLI_VERSION,
    DevServer,
    DevServerDataFolderLockedError,
    DevServerPortInUseError,
    TemporalCliUnavailableError,
    dev_server_args,
    dev_server_extra_args,
    ensure_temporal_cli,
    find_free_port,
)

# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def _flag_values(args: list[str], flag: str) -> list[str]:
    """Every value that follows ``flag`` in ``args``."""
    return [args[i + 1] for i, arg in enumerate(args[:-1]) if arg == flag]


def _write_script(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def _fake_temporal(path: Path) -> Path:
    return _write_script(path, 'echo "temporal version fake"\n')


@pytest.fixture
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No override, an empty PATH (so no `temporal` and no `go`), and a temp cache dir."""
    empty_bin = tmp_path / "empty-bin"
    empty_bin.mkdir()
    monkeypatch.delenv(devserver.CLI_PATH_ENV, raising=False)
    monkeypatch.setenv("PATH", str(empty_bin))
    cache = tmp_path / "cache"
    monkeypatch.setenv(devserver.CACHE_DIR_ENV, str(cache))
    return cache


def _no_download(target: Path) -> None:
    raise AssertionError(f"unexpected download into {target}")


# --------------------------------------------------------------------------------------------
# dev_server_args / dev_server_extra_args
# --------------------------------------------------------------------------------------------


def test_args_register_every_search_attribute() -> None:
    args = dev_server_args(port=7233, ui_port=None, db_filename=None)
    registered = _flag_values(args, "--search-attribute")
    assert sorted(registered) == sorted(f"{n}={t}" for n, t in SEARCH_ATTRIBUTES.items())
    assert "TempflareStatus=Keyword" in registered


def test_args_dynamic_config() -> None:
    dyn = _flag_values(
        dev_server_args(port=1, ui_port=None, db_filename=None), "--dynamic-config-value"
    )
    for setting in (
        "frontend.enableUpdateWorkflowExecution=true",
        "frontend.enableUpdateWorkflowExecutionAsyncAccepted=true",
        "frontend.enableExecuteMultiOperation=true",
        "system.enableActivityEagerExecution=true",
    ):
        assert setting in dyn
    assert len(dyn) == len(set(dyn))


def test_args_headless_vs_ui_port() -> None:
    headless = dev_server_args(port=7300, ui_port=None, db_filename=None)
    assert "--headless" in headless
    assert "--ui-port" not in headless

    with_ui = dev_server_args(port=7300, ui_port=8300, db_filename=None)
    assert "--headless" not in with_ui
    assert _flag_values(with_ui, "--ui-port") == ["8300"]


def test_args_port_ip_namespace_log_level() -> None:
    args = dev_server_args(port=7301, ui_port=None, db_filename=None, namespace="ns1", ip="0.0.0.0")
    assert _flag_values(args, "--port") == ["7301"]
    assert _flag_values(args, "--ip") == ["0.0.0.0"]
    assert _flag_values(args, "--namespace") == ["ns1"]
    assert _flag_values(args, "--log-level") == ["warn"]
    assert "server" not in args and "start-dev" not in args


def test_args_db_filename(tmp_path: Path) -> None:
    db = tmp_path / "state" / "dev.sqlite"
    assert _flag_values(dev_server_args(port=1, ui_port=None, db_filename=db), "--db-filename") == [
        str(db)
    ]
    assert "--db-filename" not in dev_server_args(port=1, ui_port=None, db_filename=None)


def test_extra_args_skip_what_start_local_already_passes() -> None:
    extra = dev_server_extra_args()
    # start_local (sdk-core ephemeral_server) sets these itself.
    for flag in ("--port", "--ip", "--namespace", "--db-filename", "--ui-port", "--headless"):
        assert flag not in extra
    for flag in ("--log-level", "--log-format"):
        assert flag not in extra
    dyn = _flag_values(extra, "--dynamic-config-value")
    assert "frontend.enableUpdateWorkflowExecution=true" not in dyn
    assert "frontend.enableUpdateWorkflowExecutionAsyncAccepted=true" not in dyn
    assert "frontend.enableExecuteMultiOperation=true" in dyn
    assert "system.enableActivityEagerExecution=true" in dyn
    assert set(_flag_values(extra, "--search-attribute")) == {
        f"{n}={t}" for n, t in SEARCH_ATTRIBUTES.items()
    }
    # And the full command line is a superset of it.
    full = dev_server_args(port=1, ui_port=None, db_filename=None)
    assert full[-len(extra) :] == extra


def test_find_free_port_is_bindable() -> None:
    port = find_free_port()
    assert 0 < port < 65536
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))


# --------------------------------------------------------------------------------------------
# ensure_temporal_cli resolution order
# --------------------------------------------------------------------------------------------


def test_env_override_wins(
    isolated_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    explicit = _fake_temporal(tmp_path / "explicit" / "temporal")
    # Also put one on PATH and one in the cache: the override must still win.
    on_path = _fake_temporal(tmp_path / "pathbin" / "temporal")
    monkeypatch.setenv("PATH", str(on_path.parent))
    _fake_temporal(isolated_env / "temporal-cli" / TEMPORAL_CLI_VERSION / "temporal")
    monkeypatch.setenv(devserver.CLI_PATH_ENV, str(explicit))
    assert ensure_temporal_cli() == explicit


def test_env_override_pointing_nowhere_is_an_error(
    isolated_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    on_path = _fake_temporal(tmp_path / "pathbin" / "temporal")
    monkeypatch.setenv("PATH", str(on_path.parent))
    monkeypatch.setenv(devserver.CLI_PATH_ENV, str(tmp_path / "missing" / "temporal"))
    with pytest.raises(TemporalCliUnavailableError) as info:
        ensure_temporal_cli()
    assert devserver.CLI_PATH_ENV in str(info.value)
    assert "missing" in str(info.value)


def test_path_beats_cache(
    isolated_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    on_path = _fake_temporal(tmp_path / "pathbin" / "temporal")
    _fake_temporal(isolated_env / "temporal-cli" / TEMPORAL_CLI_VERSION / "temporal")
    monkeypatch.setenv("PATH", str(on_path.parent))
    assert ensure_temporal_cli() == on_path


def test_cache_used_and_second_call_is_free(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cached = _fake_temporal(isolated_env / "temporal-cli" / TEMPORAL_CLI_VERSION / "temporal")

    def no_provision(target: Path, attempts: list[str]) -> Path:
        raise AssertionError("a cached binary must not be rebuilt")

    monkeypatch.setattr(devserver, "_provision", no_provision)
    assert ensure_temporal_cli() == cached
    assert ensure_temporal_cli() == cached


def test_cache_dir_argument_beats_env(
    isolated_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "other-cache"
    cached = _fake_temporal(other / "temporal-cli" / TEMPORAL_CLI_VERSION / "temporal")
    monkeypatch.setattr(devserver, "_download_with_sdk", _no_download)
    assert ensure_temporal_cli(cache_dir=other) == cached


def test_cache_dir_defaults_to_the_platform_user_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without TEMPFLARE_CACHE_DIR, the cache is platformdirs' user cache folder for tempflare
    (~/.cache/tempflare on Linux, or under $XDG_CACHE_HOME)."""
    monkeypatch.delenv(devserver.CACHE_DIR_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    expected = Path(platformdirs.user_cache_dir("tempflare", appauthor=False))
    assert devserver._cache_root(None) == expected
    if sys.platform.startswith("linux"):
        assert expected == tmp_path / "xdg" / "tempflare"
    monkeypatch.setenv(devserver.CACHE_DIR_ENV, str(tmp_path / "override"))
    assert devserver._cache_root(None) == tmp_path / "override"


def test_go_install_into_empty_cache(
    isolated_env: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """With `go` on PATH and an empty cache, `go install` runs with GOBIN in the cache."""
    calls = tmp_path / "go-calls.txt"
    chmod = shutil.which("chmod", path=os.defpath)  # PATH holds only the fake `go`
    assert chmod is not None
    fake_go_dir = tmp_path / "gobin-tools"
    _write_script(
        fake_go_dir / "go",
        f'echo "$@" >> "{calls}"\n'
        f'echo "GOBIN=$GOBIN CGO_ENABLED=$CGO_ENABLED" >> "{calls}"\n'
        'printf \'#!/bin/sh\\necho "temporal version built"\\n\' > "$GOBIN/temporal"\n'
        f'{chmod} +x "$GOBIN/temporal"\n',
    )
    monkeypatch.setenv("PATH", str(fake_go_dir))
    monkeypatch.setattr(devserver, "_download_with_sdk", _no_download)

    result = ensure_temporal_cli()

    expected = isolated_env / "temporal-cli" / TEMPORAL_CLI_VERSION / "temporal"
    assert result == expected
    assert os.access(result, os.X_OK)
    recorded = calls.read_text().splitlines()
    assert recorded[0].startswith("install ")
    assert recorded[0].endswith(f"github.com/temporalio/cli/cmd/temporal@{TEMPORAL_CLI_VERSION}")
    assert f"temporalcli.Version={TEMPORAL_CLI_VERSION.lstrip('v')}" in recorded[0]
    # GOBIN was a private temp dir next to the final binary (then renamed into place).
    gobin = Path(recorded[1].split()[0].removeprefix("GOBIN="))
    assert gobin.parent == expected.parent
    assert not gobin.exists()
    assert "CGO_ENABLED=0" in recorded[1]
    assert "building the Temporal CLI" in capfd.readouterr().err

    # Second call: served from the cache, `go` is not run again.
    assert ensure_temporal_cli() == expected
    assert len(calls.read_text().splitlines()) == 2


def test_concurrent_callers_build_once(isolated_env: Path, tmp_path: Path) -> None:
    """Two processes provisioning at once: the file lock lets exactly one run `go install`."""
    calls = tmp_path / "go-calls.txt"
    chmod = shutil.which("chmod", path=os.defpath)
    sleep = shutil.which("sleep", path=os.defpath)
    assert chmod is not None and sleep is not None
    fake_go_dir = tmp_path / "gobin-tools"
    _write_script(
        fake_go_dir / "go",
        f'echo build >> "{calls}"\n'
        f"{sleep} 1\n"
        "printf '#!/bin/sh\\necho ok\\n' > \"$GOBIN/temporal\"\n"
        f'{chmod} +x "$GOBIN/temporal"\n',
    )
    env = {
        **os.environ,
        "PATH": str(fake_go_dir),
        devserver.CACHE_DIR_ENV: str(isolated_env),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    code = "from adapter.devserver import ensure_temporal_cli; print(ensure_temporal_cli())"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [proc.communicate(timeout=60) for proc in procs]
    expected = str(isolated_env / "temporal-cli" / TEMPORAL_CLI_VERSION / "temporal")
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        assert out.strip() == expected
    assert calls.read_text().splitlines() == ["build"]


def test_failed_go_build_falls_back_to_the_sdk_download(
    isolated_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When `go install` fails, the SDK downloads the pinned version (what start_local does
    without a binary) into the cache folder; the binary is checked and renamed into place."""
    fake_go_dir = tmp_path / "gobin-tools"
    _write_script(fake_go_dir / "go", 'echo "go: module requires go >= 1.25.0" >&2\nexit 1\n')
    monkeypatch.setenv("PATH", str(fake_go_dir))
    script = '#!/bin/sh\necho "temporal version downloaded"\n'
    calls: list[dict[str, object]] = []

    class FakeEnvironment:
        async def shutdown(self) -> None:
            calls.append({"shutdown": True})

    async def fake_start_local(**options: object) -> FakeEnvironment:
        calls.append(options)
        # What sdk-core's lazy download leaves behind: temporal-<version> in download_dest_dir.
        _write_script(
            Path(str(options["download_dest_dir"])) / f"temporal-{TEMPORAL_CLI_VERSION}",
            script.removeprefix("#!/bin/sh\n"),
        )
        return FakeEnvironment()

    monkeypatch.setattr(devserver.WorkflowEnvironment, "start_local", fake_start_local)

    result = ensure_temporal_cli()

    assert result == isolated_env / "temporal-cli" / TEMPORAL_CLI_VERSION / "temporal"
    assert result.read_text() == script
    assert os.access(result, os.X_OK)
    assert calls[0]["dev_server_download_version"] == TEMPORAL_CLI_VERSION
    assert calls[0]["download_dest_dir"] == str(result.parent)
    assert "dev_server_existing_path" not in calls[0]
    assert calls[1] == {"shutdown": True}
    leftovers = sorted(p.name for p in result.parent.iterdir())
    assert leftovers == [".lock", "go-install.log", "temporal"]


def test_nothing_available_raises_typed_error(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def failing_start_local(**options: object) -> None:
        raise RuntimeError("Failed starting Temporal dev server: no route to temporal.download")

    monkeypatch.setattr(devserver.WorkflowEnvironment, "start_local", failing_start_local)
    with pytest.raises(TemporalCliUnavailableError) as info:
        ensure_temporal_cli()

    error = info.value
    assert isinstance(error, RuntimeError)
    message = str(error)
    assert "TEMPORAL_ADDRESS" in message
    assert "go" in message.lower() and "PATH" in message
    assert "no route to temporal.download" in message
    # Every source that was tried is listed.
    assert any("TEMPFLARE_TEMPORAL_CLI" in a for a in error.attempts)
    assert any("`go` not found" in a for a in error.attempts)
    assert any(str(isolated_env) in a for a in error.attempts)
    assert any(a.startswith("download by the temporalio SDK: RuntimeError") for a in error.attempts)
    assert not (isolated_env / "temporal-cli" / TEMPORAL_CLI_VERSION / "temporal").exists()


# --------------------------------------------------------------------------------------------
# DevServer (no binary needed)
# --------------------------------------------------------------------------------------------


def test_devserver_properties() -> None:
    headless = DevServer(port=7999, ui_port=None)
    assert headless.address == "127.0.0.1:7999"
    assert headless.ui_url is None
    assert not headless.running and headless.pid is None
    headless.stop()  # stopping a server that never started is a no-op

    with_ui = DevServer(port=7999, ui_port=8999, ip="0.0.0.0")
    assert with_ui.address == "127.0.0.1:7999"
    assert with_ui.ui_url == "http://localhost:8999"


def test_devserver_port_in_use(tmp_path: Path) -> None:
    fake = _fake_temporal(tmp_path / "temporal")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        server = DevServer(port=port, ui_port=None, executable=fake)
        with pytest.raises(DevServerPortInUseError) as info:
            server.start(timeout=5)
    assert info.value.port == port
    assert str(port) in str(info.value)
    assert "TEMPORAL_ADDRESS" in str(info.value)
    assert not server.running


def test_devserver_reports_early_exit_with_log_tail(tmp_path: Path) -> None:
    fake = _write_script(tmp_path / "temporal", 'echo "boom: $1 $2" >&2\nexit 3\n')
    log = tmp_path / "logs" / "dev.log"
    server = DevServer(port=find_free_port(), ui_port=None, executable=fake, log_file=log)
    with pytest.raises(devserver.DevServerStartError) as info:
        server.start(timeout=10)
    assert info.value.returncode == 3
    assert "boom: server start-dev" in info.value.log_tail
    assert "boom" in log.read_text()
    assert not server.running


# --------------------------------------------------------------------------------------------
# The real thing
# --------------------------------------------------------------------------------------------


def _process_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.server
@pytest.mark.timeout(600)
async def test_real_dev_server_round_trip(tmp_path: Path) -> None:
    """Start the real binary, check the search attributes, stop it, check the SQLite file.

    Deliberately fails (does not skip) when no binary can be had: ensure_temporal_cli raises.
    """
    binary = ensure_temporal_cli()
    db = tmp_path / "state" / "dev.sqlite"
    log = tmp_path / "dev.log"
    server = DevServer(
        port=find_free_port(), ui_port=None, db_filename=db, log_file=log, executable=binary
    )
    await asyncio.to_thread(server.start, 60)
    pid = server.pid
    assert pid is not None
    try:
        assert not _process_gone(pid)
        client = await Client.connect(server.address, namespace=server.namespace)
        response = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=server.namespace)
        )
        for name in SEARCH_ATTRIBUTES:
            assert (
                response.custom_attributes.get(name) == IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
            )
    finally:
        await asyncio.to_thread(server.stop)

    # stop() waited for (and reaped) the process, so the pid must be gone right away.
    assert server.pid is None and not server.running
    assert _process_gone(pid)
    assert db.is_file() and db.stat().st_size > 0
    with contextlib.closing(sqlite3.connect(db)) as conn:
        (check,) = conn.execute("PRAGMA integrity_check").fetchone()
    assert check == "ok"


# --------------------------------------------------------------------------------------------
# One dev server per data folder; no orphans
# --------------------------------------------------------------------------------------------


def _gone(pid: int) -> bool:
    """True once ``pid`` has exited (a zombie waiting for its new parent counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A process is gone once every thread is: the leader may be a zombie while other threads
    # are still exiting (and still hold its files, such as the data folder's lock).
    try:
        states = [(task / "stat").read_text() for task in Path(f"/proc/{pid}/task").iterdir()]
    except FileNotFoundError:
        return not Path(f"/proc/{pid}").exists()
    except OSError:
        return False
    return all(stat[stat.rfind(")") + 2 :][:1] in ("Z", "X") for stat in states)


def _wait_gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not _gone(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_data_folder_lock_names_an_unknown_holder(tmp_path: Path) -> None:
    """A folder locked by a process that recorded nothing is refused before anything starts."""
    fake = _fake_temporal(tmp_path / "temporal")
    data = tmp_path / "state"
    data.mkdir()
    holder = os.open(data / devserver.DATA_FOLDER_LOCK_NAME, os.O_RDWR | os.O_CREAT)
    try:
        assert filelock.lock_descriptor(holder, blocking=False)
        server = DevServer(
            port=find_free_port(), ui_port=None, db_filename=data / "dev.sqlite", executable=fake
        )
        with pytest.raises(DevServerDataFolderLockedError) as info:
            server.start(timeout=5)
    finally:
        os.close(holder)
    assert info.value.owner is None
    assert str(data) in str(info.value)
    assert "has not recorded itself" in str(info.value)
    assert not server.running and server.pid is None


@pytest.mark.server
@pytest.mark.timeout(120)
async def test_second_dev_server_on_the_same_data_folder_is_refused(tmp_path: Path) -> None:
    """While one server runs on a folder, a second is refused with a message naming the first;
    once the first stops, the folder is free again."""
    db = tmp_path / "state" / "dev.sqlite"
    first = DevServer(port=find_free_port(), ui_port=find_free_port(), db_filename=db)
    await first.astart()
    try:
        assert first.pid is not None
        second = DevServer(port=find_free_port(), ui_port=None, db_filename=db)
        with pytest.raises(DevServerDataFolderLockedError) as info:
            await second.astart()
        assert not second.running and second.pid is None

        error = info.value
        assert isinstance(error, devserver.DevServerError)
        assert error.data_dir == db.parent.resolve()
        assert error.owner is not None
        assert error.owner.pid == os.getpid()
        assert error.owner.server_pid == first.pid
        assert error.owner.address == first.address
        assert error.owner.ui_url == first.ui_url
        message = str(error)
        assert message.startswith(
            f"Cannot start the Temporal dev server: its data folder {db.parent.resolve()} is "
            f"locked by the dev server pid {first.pid} (gRPC {first.address}, Web UI "
            f"{first.ui_url}; started by pid {os.getpid()})."
        )
        assert "Two dev servers must never open one SQLite file" in message
        assert f"reuse it (TEMPORAL_ADDRESS={first.address})" in message
        assert f"stop it (kill {os.getpid()})" in message
        # The record is what a second `make run` reuses: the first server answers there.
        assert await asyncio.to_thread(devserver.server_answers, error.owner.address)
    finally:
        await asyncio.to_thread(first.stop)

    # Stopped: the record is cleared and another server may take the folder.
    assert (db.parent / devserver.DATA_FOLDER_LOCK_NAME).read_text() == ""
    again = DevServer(port=find_free_port(), ui_port=None, db_filename=db)
    await again.astart()
    await asyncio.to_thread(again.stop)


_PARENT = """
import sys, time
from pathlib import Path
from adapter.devserver import DevServer, find_free_port
server = DevServer(port=find_free_port(), ui_port=None, db_filename=Path(sys.argv[1]))
server.start()
print(server.pid, flush=True)
time.sleep(600)
"""


@pytest.mark.server
@pytest.mark.timeout(120)
def test_server_dies_with_a_sigkilled_parent(tmp_path: Path) -> None:
    """The death signal: SIGKILL of the process that started the server takes the server along,
    and the data folder's lock (which the server shares) is free again."""
    db = tmp_path / "state" / "dev.sqlite"
    parent = subprocess.Popen(
        [sys.executable, "-c", _PARENT, str(db)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert parent.stdout is not None
        line = parent.stdout.readline()
        assert line.strip().isdigit(), f"the parent did not start a server: {line!r}"
        server_pid = int(line)
        assert not _gone(server_pid)
        owner = devserver.DevServerOwner.read(db.parent / devserver.DATA_FOLDER_LOCK_NAME)
        assert owner is not None and owner.server_pid == server_pid
    finally:
        parent.kill()
        parent.wait()
    assert _wait_gone(server_pid, 5), f"dev server {server_pid} outlived its SIGKILLed parent"

    # The lock went with the server, so a new server can take the folder at once.
    follower = DevServer(port=find_free_port(), ui_port=None, db_filename=db)
    follower.start()
    follower.stop()
