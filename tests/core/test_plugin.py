"""The pytest plugin's --time-skipping option explains itself when no server can be had."""

import os
import subprocess
import sys
from pathlib import Path


def test_time_skipping_without_a_server_fails_with_the_reason(tmp_path: Path) -> None:
    (tmp_path / "test_x.py").write_text("def test_x(tempflare_env):\n    assert tempflare_env\n")
    env = {**os.environ, "TEMPFLARE_TEST_SERVER": str(tmp_path / "no-such-server")}
    env.pop("TEMPORAL_ADDRESS", None)
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "--time-skipping",
            "-p",
            "no:cacheprovider",
            str(tmp_path / "test_x.py"),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert run.returncode != 0
    assert "--time-skipping: no time-skipping server could be started" in run.stdout
    assert "Run without --time-skipping" in run.stdout
