"""Which server the main job (``main.py``) runs on, given the user's Temporal configuration.

Its embedded dev server is local and plain, so a Temporal config file describing some other
cluster (TLS, API key, namespace) must not leak into that connection; ``TEMPORAL_PROFILE`` (like
``TEMPORAL_ADDRESS``) sends the job to the configured server instead.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from temporalio.client import Client

from adapter.devserver import DATA_FOLDER_LOCK_NAME

pytestmark = [pytest.mark.server, pytest.mark.timeout(120)]

ROOT = Path(__file__).resolve().parents[2]
#: A demo that completes in about two seconds.
DEMO = "orchestration.race"


def run_main(tmp_path: Path, **env: str) -> tuple[int, str]:
    """Runs ``main.py --only DEMO`` with only the given TEMPORAL_* variables; exit code, output."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TEMPORAL_")}
    environ.update(
        TEMPORAL_TASK_QUEUE=f"main-{uuid.uuid4().hex[:8]}",
        TEMPFLARE_DATA_DIR=str(tmp_path / "data"),
        COLUMNS="300",
        **env,
    )
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "main.py"),
            "--only",
            DEMO,
            "--server-dir",
            str(tmp_path / "s"),
        ],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        timeout=100,
    )
    output = " ".join((result.stdout + result.stderr).decode(errors="replace").split())
    return result.returncode, output


def test_embedded_server_ignores_the_users_temporal_config(tmp_path: Path) -> None:
    config = tmp_path / "temporal.toml"
    config.write_text(
        "[profile.default]\n"
        'address = "elsewhere.invalid:7233"\n'
        'namespace = "elsewhere"\n'
        'api_key = "not-for-the-dev-server"\n'
    )
    code, output = run_main(tmp_path, TEMPORAL_CONFIG_FILE=str(config))
    assert code == 0, output[-3000:]
    assert "Temporal dev server on 127.0.0.1:" in output
    assert "1 of 1 instances reached their expected status" in output


def test_temporal_profile_runs_the_job_on_the_configured_server(
    tmp_path: Path, tempflare_client: Client
) -> None:
    config = tmp_path / "temporal.toml"
    address = tempflare_client.service_client.config.target_host
    config.write_text(f'[profile.session]\naddress = "{address}"\nnamespace = "default"\n')
    code, output = run_main(tmp_path, TEMPORAL_CONFIG_FILE=str(config), TEMPORAL_PROFILE="session")
    assert code == 0, output[-3000:]
    assert "Temporal dev server on" not in output
    assert "1 of 1 instances reached their expected status" in output
    assert not (tmp_path / "s" / DATA_FOLDER_LOCK_NAME).exists()
