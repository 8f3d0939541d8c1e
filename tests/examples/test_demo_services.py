"""The demo services of the main job never depend on another process's server."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from activities._demo.demo_server import demo_records

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, urllib.request
from activities._demo.demo_server import ensure_demo_services
base = ensure_demo_services()
with urllib.request.urlopen(base + "/records.json", timeout=10) as response:
    print(json.dumps({"base": base, "records": len(json.load(response))}))
"""


def test_demo_services_start_their_own_server_when_the_port_is_taken() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        env = {**os.environ, "TEMPFLARE_DEMO_PORT": str(taken)}
        out = subprocess.run(
            [sys.executable, "-c", PROBE],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
    answer = json.loads(out.stdout)
    assert answer["base"] != f"http://127.0.0.1:{taken}"
    assert answer["records"] == len(demo_records())
