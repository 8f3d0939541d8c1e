"""Temporal's time-skipping test server (Java), obtained from Maven Central and cached.

``pytest --time-skipping`` and :func:`start_time_skipping` run tempflare workflows in virtual
time: a 365-day ``step.sleep`` or a 30-day event timeout passes in well under a second once
nothing else is pending. The server is ``io.temporal:temporal-test-server`` run with the
machine's Java (17+); its jars are fetched once with Maven (``mvn dependency:copy-dependencies``,
installed with ``apt-get install maven`` as root when missing) into
``<cache>/temporal-test-server/<version>/lib`` next to a launcher script, under a file lock.

What the test server lacks, and what tempflare does about it:

* no search attributes (``TempflareStatus``/``TempflareStep``): workers run with
  ``use_search_attributes=False`` there, so ``status()`` reports ``running`` rather than
  ``waiting``/``paused`` details from the attribute;
* no reset (``ResetWorkflowExecution``) and no reverse history read: ``restart()`` starts a
  fresh run of the same id instead, and ``status()`` reads the history forwards;
* no eager activity dispatch: steps go through the task queue as usual (slower, same result).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any, Final

from filelock import FileLock
from temporalio.testing import WorkflowEnvironment

from .._client.connection import data_converter
from .._shared.errors import TempflareError
from ..devserver import _cache_root

__all__ = [
    "TEST_SERVER_ENV",
    "TEST_SERVER_VERSION",
    "ensure_test_server",
    "result_in_virtual_time",
    "start_time_skipping",
]

#: The ``io.temporal:temporal-test-server`` version tempflare fetches.
TEST_SERVER_VERSION: Final = "1.38.0"
#: An explicit launcher (``<launcher> <port>`` starts a test server); it wins over the cache.
TEST_SERVER_ENV: Final = "TEMPFLARE_TEST_SERVER"

_POM: Final = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>tempflare</groupId><artifactId>test-server-launcher</artifactId><version>1</version>
  <dependencies><dependency>
    <groupId>io.temporal</groupId><artifactId>temporal-test-server</artifactId>
    <version>{version}</version>
  </dependency></dependencies>
</project>
"""


class TestServerUnavailableError(TempflareError, RuntimeError):
    """No Java, no Maven, or Maven could not fetch the jars; the message says which."""

    __test__ = False  # not a pytest test class


def ensure_test_server(*, cache_dir: Path | None = None) -> Path:
    """A launcher script for the Java test server, fetching its jars on first use.

    Raises:
        TestServerUnavailableError: Java or Maven is missing, or the download failed.
    """
    override = os.environ.get(TEST_SERVER_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    root = _cache_root(cache_dir) / "temporal-test-server" / TEST_SERVER_VERSION
    launcher = root / "temporal-test-server"
    if launcher.is_file():
        return launcher
    java = shutil.which("java")
    if java is None:
        raise TestServerUnavailableError(
            "The time-skipping test server needs Java 17+: "
            "apt-get install -y openjdk-17-jre-headless"
        )
    root.mkdir(parents=True, exist_ok=True)
    with FileLock(str(root / ".lock")):
        if launcher.is_file():
            return launcher
        mvn = shutil.which("mvn") or _install_maven()
        (root / "pom.xml").write_text(_POM.format(version=TEST_SERVER_VERSION))
        done = subprocess.run(
            [
                mvn,
                "-q",
                "-B",
                "dependency:copy-dependencies",
                "-DoutputDirectory=lib",
                "-DincludeScope=runtime",
            ],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=900,
        )
        if done.returncode != 0:
            raise TestServerUnavailableError(
                f"mvn could not fetch io.temporal:temporal-test-server:{TEST_SERVER_VERSION} "
                f"from Maven Central: {(done.stdout + done.stderr)[-2000:]}"
            )
        script = root / "temporal-test-server.tmp"
        script.write_text(
            f'#!/bin/sh\nexec "{java}" -cp "{root / "lib"}/*" '
            'io.temporal.testserver.TestServer "$@"\n'
        )
        script.chmod(0o755)
        script.rename(launcher)
    return launcher


def _install_maven() -> str:
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, check=False)
        subprocess.run(
            ["apt-get", "install", "-y", "-q", "maven"], env=env, capture_output=True, check=False
        )
    mvn = shutil.which("mvn")
    if mvn is None:
        raise TestServerUnavailableError(
            "The time-skipping test server is fetched with Maven, which is missing: install it "
            "(apt-get install -y maven) or set TEMPFLARE_TEST_SERVER to a launcher."
        )
    return mvn


async def start_time_skipping(**options: Any) -> WorkflowEnvironment:
    """``WorkflowEnvironment.start_time_skipping`` on the cached Java test server, with
    tempflare's data converter unless ``data_converter=`` is given."""
    options.setdefault("data_converter", data_converter())
    options.setdefault("test_server_startup_timeout", timedelta(seconds=60))
    return await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(await asyncio.to_thread(ensure_test_server)), **options
    )


async def result_in_virtual_time(env: WorkflowEnvironment, instance_id: str) -> Any:
    """Waits for an instance's result while the test server skips time.

    The SDK skips time only while a handle *from* ``start_workflow`` awaits its result; a
    binding's instance is looked up by id, so this unlocks skipping around the wait itself.
    """
    handle = env.client.get_workflow_handle(instance_id)
    unlocked = getattr(env, "time_skipping_unlocked", None)
    if unlocked is None:  # not a time-skipping environment
        return await handle.result()
    async with unlocked():
        return await handle.result()
