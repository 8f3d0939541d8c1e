"""End to end with encryption: ``tempflare dev`` (dev server + Web UI + worker) and
``tempflare codec-server`` as subprocesses sharing a key; the payloads on the server are
ciphertext, and a real headless Chromium reads a step's output in the Web UI through the codec
server."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from adapter.devserver import find_free_port

from .browser import headless_chromium
from .test_cli import TEMPFLARE

pytestmark = pytest.mark.server


@dataclass
class Stack:
    env: dict[str, str]
    address: str
    ui: str
    codec: str

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [TEMPFLARE, *args, "--address", self.address],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, f"tempflare {args} failed: {done.stdout} {done.stderr}"
        return done.stdout


def _ready_line(process: subprocess.Popen[str], what: str) -> str:
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line, f"{what} exited before it was ready (code {process.wait()})"
    return line


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    key = base64.b64encode(os.urandom(32)).decode()
    env = {**os.environ, "TEMPFLARE_ENCRYPTION_KEY": f"ui-key:{key}", "COLUMNS": "200"}
    env.pop("TEMPORAL_ADDRESS", None)
    port, ui_port, codec_port = find_free_port(), find_free_port(), find_free_port()
    codec = subprocess.Popen(
        [TEMPFLARE, "codec-server", "--port", str(codec_port)],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    dev = subprocess.Popen(
        [
            TEMPFLARE,
            "dev",
            "tests/cli/cli_workflows.py",
            "--port",
            str(port),
            "--ui-port",
            str(ui_port),
            "--codec-endpoint",
            f"http://localhost:{codec_port}",
            "--json",
        ],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert "Ready" in _ready_line(codec, "tempflare codec-server")
        ready = json.loads(_ready_line(dev, "tempflare dev"))["ready"]
        assert ready["workflows"] == ["CliOrder", "CliSaga"]  # every workflow of the file
        yield Stack(env, ready["address"], ready["ui"], f"http://localhost:{codec_port}")
    finally:
        for process in (dev, codec):
            process.terminate()
        assert dev.wait(30) == 0  # `tempflare dev` stops its server and worker on SIGTERM
        codec.wait(10)


def _complete(stack: Stack, instance_id: str) -> dict[str, object]:
    stack.cli("instances", "trigger", "CliOrder", '{"order": "SECRET-7"}', "--id", instance_id)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        doc = json.loads(stack.cli("instances", "describe", "CliOrder", instance_id, "--json"))
        if any(s["name"] == "approval" for s in doc["steps"]):
            break
        time.sleep(0.3)
    stack.cli("instances", "send-event", "CliOrder", instance_id, "approved", '{"by": "ana"}')
    while time.monotonic() < deadline:
        doc = json.loads(
            stack.cli("instances", "describe", "CliOrder", instance_id, "--json", "--step-output")
        )
        if doc["status"] == "complete":
            return dict(doc)
        time.sleep(0.3)
    raise AssertionError(f"{instance_id} did not complete: {doc}")


async def test_payloads_are_ciphertext_on_the_server(stack: Stack) -> None:
    doc = _complete(stack, "enc-1")
    assert doc["output"] == {"status": "shipped", "shipped": "SECRET-7", "by": "ana"}
    steps = {s["name"]: s for s in doc["steps"]}  # type: ignore[attr-defined]
    assert steps["load order"]["output"] == {"order": "SECRET-7", "total": 42}

    # A client without the key sees what the server stores.
    raw = await Client.connect(stack.address, data_converter=pydantic_data_converter)
    history = await raw.get_workflow_handle("enc-1").fetch_history()
    payloads = []
    for event in history.events:
        for field in (
            event.workflow_execution_started_event_attributes.input,
            event.activity_task_completed_event_attributes.result,
            event.workflow_execution_signaled_event_attributes.input,
            event.workflow_execution_completed_event_attributes.result,
        ):
            payloads += list(field.payloads)
    assert len(payloads) >= 5  # params, 2 step outputs, the event, the result
    for payload in payloads:
        assert payload.metadata["encoding"] == b"binary/encrypted"
        assert payload.metadata["encryption-key-id"] == b"ui-key"
        assert b"SECRET-7" not in payload.data and b"ana" not in payload.data


def test_web_ui_shows_decoded_step_output(stack: Stack) -> None:
    _complete(stack, "ui-1")
    driver = headless_chromium()
    try:
        driver.get(f"{stack.ui}/namespaces/default/workflows/ui-1")
        deadline = time.monotonic() + 60
        text = ""
        while time.monotonic() < deadline:
            text = driver.find_element("tag name", "body").text
            if '{"shipped":"SECRET-7","by":"ana"}' in text:
                break
            time.sleep(0.5)
        # The "ship" step's output (an Activity Task Completed result), decoded by the codec.
        assert '{"shipped":"SECRET-7","by":"ana"}' in text, text[:2000]
        assert "binary/encrypted" not in text
    finally:
        driver.quit()
