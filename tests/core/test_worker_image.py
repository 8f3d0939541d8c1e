"""The production worker starts from exactly the files the Docker image holds.

No Docker engine is needed: the test reads the ``COPY`` lines of the ``Dockerfile``, copies those
paths into an empty folder, and runs the worker there in a fresh interpreter whose import path is
that folder only, so neither the test suite nor anything else of the repository can be imported.
The worker must build against the real dev server, poll, start no stand-in service, and stop on
SIGTERM as the image's ``CMD`` would.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from temporalio.client import Client

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[2]


def dockerfile_sources() -> list[str]:
    """Every source path of the Dockerfile's ``COPY`` instructions, in order."""
    sources: list[str] = []
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.strip().upper().startswith("COPY "):
            words = shlex.split(line, comments=True)
            assert not any(w.startswith("--") for w in words), line
            sources += words[1:-1]
    return sources


def image_copy(tmp_path: Path) -> Path:
    """The Dockerfile's files, copied into a fresh folder (``/app`` in the image)."""
    app = tmp_path / "app"
    app.mkdir()
    for source in dockerfile_sources():
        path = ROOT / source
        if path.is_dir():
            shutil.copytree(path, app / source, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(path, app / source)
    return app


def image_env(app: Path, address: str) -> dict[str, str]:
    """The environment the compose service gives the worker, with only ``app`` importable."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTHON", "TEMPORAL_", "TEMPFLARE_")) and not k.endswith("_URL")
    }
    env.update(
        PYTHONPATH=str(app),
        PYTHONDONTWRITEBYTECODE="1",
        TEMPORAL_ADDRESS=address,
        TEMPORAL_TASK_QUEUE=f"image-{uuid.uuid4().hex[:8]}",
        TEMPFLARE_DATA_DIR=str(app / "data"),
    )
    return env


BUILD = r"""
import asyncio, importlib.util, json, os, sys

def listening_ports():
    # TCP sockets this process listens on (Linux /proc): a stand-in service would show here.
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = []
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        with open(table) as handle:
            for row in handle.readlines()[1:]:
                fields = row.split()
                if fields[3] == "0A" and fields[9] in inodes:
                    ports.append(int(fields[1].rsplit(":", 1)[1], 16))
    return ports

import worker

async def main():
    built = await worker.build_worker()
    async with built:  # polls the task queue, then shuts down
        await asyncio.sleep(0.5)
        return built.task_queue, listening_ports()

queue, ports = asyncio.run(main())
import activities._demo.demo_server as demo_server
print(json.dumps({
    "worker": worker.__file__,
    "adapter": sys.modules["adapter"].__file__,
    "workflows": sys.modules["workflows"].__file__,
    "tests_importable": importlib.util.find_spec("tests") is not None,
    "test_modules": sorted(m for m in sys.modules if m == "tests" or m.startswith("tests.")),
    "task_queue": queue,
    "listening": ports,
    "demo_server_started": demo_server._started is not None,
    "demo_services_imported": "activities._demo.services" in sys.modules,
}))
worker.exit_process(0)  # as worker.py does: no interpreter finalisation under the SDK's threads
"""


def test_the_dockerfile_copies_the_worker_and_its_packages() -> None:
    sources = dockerfile_sources()
    assert sorted(sources) == sorted(
        ["pyproject.toml", "README.md", "adapter", "workflows", "activities", "worker.py"]
    )
    assert "tests" not in sources
    cmd = [
        line for line in (ROOT / "Dockerfile").read_text().splitlines() if line.startswith("CMD")
    ]
    assert cmd == ['CMD ["python", "worker.py"]']


@pytest.mark.timeout(120)
def test_worker_builds_from_the_image_files_alone(tmp_path: Path, tempflare_client: Client) -> None:
    app = image_copy(tmp_path)
    env = image_env(app, tempflare_client.service_client.config.target_host)
    result = subprocess.run(
        [sys.executable, "-c", BUILD],
        cwd=app,
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["tests_importable"] is False
    assert report["test_modules"] == []
    for module in ("worker", "adapter", "workflows"):
        assert report[module].startswith(str(app)), report
    assert report["task_queue"] == env["TEMPORAL_TASK_QUEUE"]
    assert report["listening"] == [], "the production worker started a stand-in service"
    assert report["demo_server_started"] is False
    assert report["demo_services_imported"] is False


@pytest.mark.timeout(120)
def test_worker_process_from_the_image_files_stops_on_sigterm(
    tmp_path: Path, tempflare_client: Client
) -> None:
    """``python worker.py`` as the image's CMD runs it: it starts, then drains and exits 0."""
    app = image_copy(tmp_path)
    env = image_env(app, tempflare_client.service_client.config.target_host)
    log = tmp_path / "worker.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "worker.py"], cwd=app, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 60
        while "worker started" not in log.read_text():
            assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0, log.read_text()[-3000:]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert "worker stopped" in log.read_text()
