"""The main job (``main.py``) and its dev server: one server per data folder, and no orphans.

Each test runs ``main.py`` as a subprocess with its own ``--server-dir`` (the folder of the dev
server's SQLite file), finds the server it started from the folder's lock record, and checks
what is left once the job is signalled, killed, or finds the folder taken. Real dev servers
throughout; a test fails (never skips) when no server can be started.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import filelock
import pytest

from adapter.devserver import (
    DATA_FOLDER_LOCK_NAME,
    DevServer,
    DevServerOwner,
    find_free_port,
    server_answers,
)

pytestmark = [pytest.mark.server, pytest.mark.timeout(120)]

ROOT = Path(__file__).resolve().parents[2]
#: A demo that completes in about two seconds.
DEMO = "race-two-steps"


def start_main(
    tmp_path: Path, server_dir: Path, *args: str
) -> tuple[subprocess.Popen[bytes], Path]:
    """Starts ``main.py`` on ``server_dir``; its output goes to the returned log file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEMPORAL_")}
    env.update(
        TEMPORAL_TASK_QUEUE=f"main-{uuid.uuid4().hex[:8]}",
        TEMPFLARE_DATA_DIR=str(tmp_path / "data"),
        COLUMNS="300",  # rich wraps at 80 columns when writing to a file
    )
    log = tmp_path / f"main-{uuid.uuid4().hex[:6]}.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "main.py"), "--server-dir", str(server_dir), *args],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return process, log


def text(log: Path) -> str:
    """The job's output with line breaks and runs of spaces folded to one space."""
    return " ".join(log.read_text(errors="replace").split())


def wait_until(predicate: object, seconds: float, what: str, log: Path | None = None) -> None:
    assert callable(predicate)
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            tail = text(log)[-3000:] if log is not None else ""
            raise AssertionError(f"timed out after {seconds:g}s waiting for {what}. {tail}")
        time.sleep(0.1)


def wait_for_server(process: subprocess.Popen[bytes], server_dir: Path, log: Path) -> int:
    """The pid of the dev server the job started, once it answers."""
    found: list[DevServerOwner] = []

    def ready() -> bool:
        assert process.poll() is None, f"main.py exited early: {text(log)[-3000:]}"
        owner = DevServerOwner.read(server_dir / DATA_FOLDER_LOCK_NAME)
        if owner is None or owner.server_pid is None or not server_answers(owner.address):
            return False
        found.append(owner)
        return True

    wait_until(ready, 60, "the dev server", log)
    owner = found[-1]
    assert owner.pid == process.pid
    assert owner.server_pid is not None
    return owner.server_pid


def gone(pid: int) -> bool:
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


def servers_on(server_dir: Path) -> list[int]:
    """Live processes whose command line names ``server_dir`` (any dev server on it)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "start-dev" in cmdline and str(server_dir) in cmdline and not gone(int(entry.name)):
            pids.append(int(entry.name))
    return pids


def assert_no_server_left(server_pid: int, server_dir: Path) -> None:
    wait_until(lambda: gone(server_pid), 5, f"dev server {server_pid} to exit")
    assert servers_on(server_dir) == []
    # The lock is free: another server may take the folder at once.
    probe = os.open(server_dir / DATA_FOLDER_LOCK_NAME, os.O_RDWR)
    try:
        assert filelock.lock_descriptor(probe, blocking=False)
    finally:
        os.close(probe)


@pytest.mark.parametrize(
    ("sig", "keep", "code"),
    [
        # Mid-job, as soon as the server answers: the job stops and exits 128 + signal.
        (signal.SIGTERM, False, 128 + signal.SIGTERM),
        # --keep, once the demos are done: the signal ends the wait, the demos' status stands.
        (signal.SIGTERM, True, 0),
        (signal.SIGINT, True, 0),
        (signal.SIGHUP, True, 0),
    ],
    ids=["SIGTERM-mid-job", "SIGTERM-keep", "SIGINT-keep", "SIGHUP-keep"],
)
def test_signal_to_the_main_job_leaves_no_server_behind(
    tmp_path: Path, sig: signal.Signals, keep: bool, code: int
) -> None:
    server_dir = tmp_path / "server"
    args = ["--only", DEMO, *(["--keep"] if keep else [])]
    process, log = start_main(tmp_path, server_dir, *args)
    try:
        server_pid = wait_for_server(process, server_dir, log)
        if keep:
            wait_until(lambda: "--keep:" in text(log), 60, "the demos to finish", log)
            assert "1 of 1 instances reached their expected status" in text(log)
        process.send_signal(sig)
        assert process.wait(timeout=30) == code, text(log)[-3000:]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert f"{sig.name}: stopping the worker and the dev server" in text(log)
    assert_no_server_left(server_pid, server_dir)


def test_sigkill_of_the_main_job_leaves_no_server_behind(tmp_path: Path) -> None:
    """No cleanup code runs on SIGKILL: the kernel's death signal takes the server along."""
    server_dir = tmp_path / "server"
    process, log = start_main(tmp_path, server_dir, "--only", DEMO, "--keep")
    try:
        server_pid = wait_for_server(process, server_dir, log)
    finally:
        process.kill()
        process.wait()
    assert_no_server_left(server_pid, server_dir)


async def test_second_main_job_reuses_the_server_on_its_folder(tmp_path: Path) -> None:
    """A `make run` while another keeps its server: the job runs on that server, leaves it
    running, and starts no second server on the same SQLite file."""
    server_dir = tmp_path / "server"
    first = DevServer(
        port=find_free_port(),
        ui_port=find_free_port(),
        db_filename=server_dir / "dev.sqlite",
    )
    await first.astart()
    try:
        process, log = start_main(tmp_path, server_dir, "--only", DEMO)
        try:
            wait_until(lambda: process.poll() is not None, 60, "the job to end", log)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        output = text(log)
        assert process.returncode == 0, output[-3000:]
        assert (
            f"Reusing the dev server pid {first.pid} (gRPC {first.address}, Web UI "
            f"{first.ui_url}; started by pid {os.getpid()}), which already runs on {server_dir}"
        ) in output
        assert "1 of 1 instances reached their expected status" in output
        assert first.running
        assert servers_on(server_dir) == [first.pid]
    finally:
        first.stop()


def test_main_job_refuses_a_folder_held_by_a_server_that_does_not_answer(tmp_path: Path) -> None:
    """The folder is locked, but nothing answers at the recorded address: after
    --wait-for-server seconds the job fails with the typed error, naming the holder."""
    server_dir = tmp_path / "server"
    server_dir.mkdir()
    dead_port = find_free_port()
    holder = os.open(server_dir / DATA_FOLDER_LOCK_NAME, os.O_RDWR | os.O_CREAT)
    try:
        assert filelock.lock_descriptor(holder, blocking=False)
        record = {
            "pid": os.getpid(),
            "server_pid": os.getpid(),
            "address": f"127.0.0.1:{dead_port}",
            "ui_url": None,
            "namespace": "default",
            "db_filename": str(server_dir / "dev.sqlite"),
            "started_at": time.time(),
        }
        os.write(holder, json.dumps(record).encode())
        process, log = start_main(tmp_path, server_dir, "--wait-for-server", "1")
        try:
            assert process.wait(timeout=60) == 2, text(log)[-3000:]
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    finally:
        os.close(holder)
    output = text(log)
    assert (
        f"DevServerDataFolderLockedError: Cannot start the Temporal dev server: its data folder "
        f"{server_dir} is locked by the dev server pid {os.getpid()} (gRPC 127.0.0.1:{dead_port}; "
        f"started by pid {os.getpid()}). Two dev servers must never open one SQLite file. To go "
        f"on, reuse it (TEMPORAL_ADDRESS=127.0.0.1:{dead_port}), stop it (kill {os.getpid()}), "
        "or give this server another data folder."
    ) in output
    assert "waiting up to 1s for it to answer or exit" in output
    assert servers_on(server_dir) == []
    assert not (server_dir / "dev.sqlite").exists()
