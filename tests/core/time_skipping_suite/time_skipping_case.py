"""Run by tests/core/test_time_skipping.py as ``pytest --time-skipping`` (not collected here:
its name does not start with ``test_``): the plugin's fixtures on the Java test server."""

from __future__ import annotations

import time

from temporalio.testing import WorkflowEnvironment

from adapter.testing.pytest_plugin import WorkerFactory
from adapter.testing.test_server import result_in_virtual_time
from tests.core.test_time_skipping import YearLong


async def test_plugin_fixtures_skip_time(
    tempflare_env: WorkflowEnvironment, tempflare_worker: WorkerFactory
) -> None:
    assert tempflare_env.supports_time_skipping
    async with tempflare_worker(YearLong) as binding:
        started = time.monotonic()
        instance = await binding.create()
        result = await result_in_virtual_time(tempflare_env, instance.id)
    assert result == {"before": "ready", "renewed": False, "after": "done"}
    assert time.monotonic() - started < 30
