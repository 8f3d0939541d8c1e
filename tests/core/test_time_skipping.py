"""Virtual time on Temporal's Java test server (fetched from Maven Central by
``adapter.testing.test_server``): a 365-day sleep and a 30-day event timeout in seconds."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from adapter import (
    Workflow,
    WorkflowEntrypoint,
    WorkflowEvent,
    WorkflowStep,
    WorkflowTimeoutError,
    create_worker,
)
from adapter.testing.test_server import result_in_virtual_time, start_time_skipping


class YearLong(WorkflowEntrypoint[None, dict[str, Any]]):
    """Sleeps a year, then waits 30 days for an event that never comes."""

    async def run(self, event: WorkflowEvent[dict[str, Any]], step: WorkflowStep) -> dict[str, Any]:
        before = await step.do("before", lambda: "ready")
        await step.sleep("a year", "365 days")
        try:
            await step.wait_for_event("renewal", type="renewed", timeout="30 days")
            renewed = True
        except WorkflowTimeoutError:
            renewed = False
        after = await step.do("after", lambda: "done")
        return {"before": before, "renewed": renewed, "after": after}


async def test_a_year_of_sleep_and_a_month_of_waiting_take_seconds() -> None:
    env = await start_time_skipping()
    try:
        task_queue = f"ts-{uuid.uuid4().hex[:8]}"
        # The test server has no search attributes: status comes from the execution alone.
        worker = create_worker(
            env.client, task_queue=task_queue, workflows=[YearLong], use_search_attributes=False
        )
        async with worker:
            binding = Workflow(
                env.client, YearLong, task_queue=task_queue, use_search_attributes=False
            )
            started_virtual = await env.get_current_time()
            started = time.monotonic()
            instance = await binding.create({"id": f"year-{uuid.uuid4().hex[:6]}"})
            result = await result_in_virtual_time(env, instance.id)
            elapsed = time.monotonic() - started
            virtual = (await env.get_current_time()) - started_virtual
            # No reset on the test server: restart() falls back to a fresh run of the same id.
            await instance.restart()
            again = await result_in_virtual_time(env, instance.id)
        assert again == result
        assert result == {"before": "ready", "renewed": False, "after": "done"}
        assert virtual.days >= 395
        assert elapsed < 30, f"took {elapsed:.1f}s of real time"
        assert (await instance.status()).status == "complete"
    finally:
        await env.shutdown()


def test_pytest_time_skipping_option_runs_on_the_java_test_server() -> None:
    """``pytest --time-skipping``: the plugin's session server is the Java test server."""
    case = Path(__file__).parent / "time_skipping_suite" / "time_skipping_case.py"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--time-skipping",
            "-q",
            "-p",
            "no:cacheprovider",
            str(case),
        ],
        capture_output=True,
        text=True,
        timeout=170,
        cwd=Path(__file__).parents[2],
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "1 passed" in done.stdout
