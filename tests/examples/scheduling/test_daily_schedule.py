"""End-to-end tests of workflows/scheduling/daily_schedule.py (seed 001, scheduled workflow
chain)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from temporalio.client import Client

from adapter import WorkflowInstance
from tests.helpers import eventually, step_attempts, timers
from workflows.scheduling.daily_schedule import (
    DailyWorkflow,
    create_daily_schedule,
    scheduled_time_from_id,
)

pytestmark = pytest.mark.server


def test_scheduled_time_from_id() -> None:
    assert scheduled_time_from_id("daily-2025-01-01T00:00:00Z") == 1735689600000
    assert scheduled_time_from_id("daily-1735689600000") == 1735689600000
    assert scheduled_time_from_id("daily-not-a-time") is None
    assert scheduled_time_from_id("weekly-1735689600000") is None


async def test_created_instance_runs_task_sleep_followup(tempflare_worker: Any) -> None:
    async with tempflare_worker(DailyWorkflow) as wf:
        instance = await wf.create(
            id="daily-1735689600000", params={"timestamp": 1735689600000, "wait_seconds": 0.5}
        )
        result = await instance.handle.result()
    assert result == {"scheduledTime": 1735689600000, "followupOf": 1735689600000}
    assert [a.summary for a in await step_attempts(instance.handle)] == [
        "daily task",
        "weekly followup",
    ]
    assert [(t.summary, t.seconds) for t in await timers(instance.handle)] == [("wait 7 days", 0.5)]


async def test_default_wait_is_seven_days(tempflare_worker: Any) -> None:
    async with tempflare_worker(DailyWorkflow) as wf:
        instance = await wf.create(id="daily-1735776000000")
        found = await eventually(lambda: timers(instance.handle), bool)
        await instance.terminate()
    assert [(t.summary, t.seconds) for t in found] == [("wait 7 days", 7 * 86400.0)]


async def test_schedule_starts_daily_instances(
    tempflare_worker: Any, tempflare_client: Client, task_queue: str
) -> None:
    schedule_id = f"daily-schedule-{uuid.uuid4().hex[:8]}"
    async with tempflare_worker(DailyWorkflow):
        handle = await create_daily_schedule(
            tempflare_client,
            task_queue,
            cron="0 0 1 1 *",  # yearly: nothing fires by itself during the test
            schedule_id=schedule_id,
            params={"wait_seconds": 0.2},
        )
        try:
            described = await handle.describe()
            # the server turns the cron into calendar specs: next firing is 1 January, 00:00 UTC
            next_time = described.info.next_action_times[0]
            assert (next_time.month, next_time.day, next_time.hour, next_time.minute) == (
                1,
                1,
                0,
                0,
            )
            before = datetime.now(UTC).replace(microsecond=0)
            await handle.trigger()

            async def recent() -> Any:
                return (await handle.describe()).info.recent_actions

            actions = await eventually(recent, bool)
            workflow_id = actions[0].action.workflow_id
            instance = WorkflowInstance(tempflare_client, workflow_id)
            result = await instance.handle.result()
            status = await instance.status()
        finally:
            await handle.delete()

    assert workflow_id.startswith("daily-")
    started = scheduled_time_from_id(workflow_id)
    assert started is not None
    assert started >= int(before.timestamp() * 1000)
    assert result == {"scheduledTime": started, "followupOf": started}
    assert status.status == "complete"
    assert status.output == result
