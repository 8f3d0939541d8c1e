"""Cloudflare's 2026 binding features on the real server: instance delete and delete_batch, the
reporting create_batch forms, and cron schedules whose instances see ``event.schedule``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from temporalio.client import Client

from adapter import (
    InstanceNotFoundError,
    InvalidInstanceIdError,
    InvalidValueError,
    Workflow,
    WorkflowEntrypoint,
    WorkflowEvent,
    WorkflowStep,
    WrongTypeError,
    create_worker,
)
from adapter._client.schedules import schedule_id

from ..helpers import eventually


class Sleeper(WorkflowEntrypoint[None, dict]):
    """Sleeps an hour unless told not to; returns what it saw of its event."""

    async def run(self, event: WorkflowEvent[dict], step: WorkflowStep) -> Any:
        if event.payload.get("sleep", True):
            await step.sleep("nap", "1 hour")
        schedule = event.schedule
        return {
            "params": event.payload,
            "cron": schedule.cron if schedule else None,
            "scheduled": schedule.scheduledTime.isoformat() if schedule else None,
        }


async def listed(client: Client, instance_id: str) -> int:
    return len([x async for x in client.list_workflows(f"WorkflowId = '{instance_id}'")])


async def test_delete_removes_live_and_finished_instances(
    tempflare_client: Client, task_queue: str
) -> None:
    binding = Workflow(tempflare_client, Sleeper, task_queue=task_queue)
    async with create_worker(tempflare_client, task_queue=task_queue, workflows=[Sleeper]):
        live = await binding.create(id=f"del-live-{task_queue}")
        done = await binding.create(id=f"del-done-{task_queue}", params={"sleep": False})
        await done.handle.result()
        assert await eventually(lambda: listed(tempflare_client, done.id), lambda n: n == 1)
        for instance in (live, done):
            await instance.delete()
            with pytest.raises(InstanceNotFoundError, match=instance.id):
                await binding.get(instance.id)
            assert await listed(tempflare_client, instance.id) == 0
        with pytest.raises(InstanceNotFoundError):
            await live.delete()  # already gone
        # the id is free again
        again = await binding.create(id=live.id, params={"sleep": False})
        assert (await again.handle.result())["params"] == {"sleep": False}


async def test_delete_batch_removes_up_to_100_and_skips_missing(
    tempflare_client: Client, task_queue: str
) -> None:
    binding = Workflow(tempflare_client, Sleeper, task_queue=task_queue)
    created = await binding.create_batch([{"id": f"db-{i}-{task_queue}"} for i in range(5)])
    ids = [instance.id for instance in created]
    await binding.deleteBatch([*ids, f"never-{task_queue}"])
    for instance_id in ids:
        with pytest.raises(InstanceNotFoundError):
            await binding.get(instance_id)
    with pytest.raises(InvalidValueError, match="1 to 100 ids, got 101"):
        await binding.delete_batch([f"x{i}" for i in range(101)])
    with pytest.raises(WrongTypeError, match="list of instance ids"):
        await binding.delete_batch("one-id")  # type: ignore[arg-type]
    with pytest.raises(InvalidInstanceIdError, match="in delete_batch"):
        await binding.delete_batch(["ok", ""])


async def test_create_batch_reports_created_and_errors(
    tempflare_client: Client, task_queue: str
) -> None:
    binding = Workflow(tempflare_client, Sleeper, task_queue=task_queue)
    taken = await binding.create(id=f"taken-{task_queue}")
    result = await binding.createBatch(
        {
            "instances": [
                {"id": f"new-1-{task_queue}", "params": {"n": 1}},
                {"id": taken.id},  # already in use
                {"id": f"new-1-{task_queue}"},  # repeated in the batch
                {"id": "bad id!"},  # invalid
                {"params": {"n": 2}},  # a random id
            ]
        }
    )
    assert result["created"][0].id == f"new-1-{task_queue}"
    assert len(result["created"]) == 2
    assert [(e["index"], e["id"], e["name"]) for e in result["errors"]] == [
        (1, taken.id, "InstanceAlreadyExistsError"),
        (2, f"new-1-{task_queue}", "InstanceAlreadyExistsError"),
        (3, "bad id!", "InvalidInstanceIdError"),
    ]
    assert "bad id!" in result["errors"][2]["message"]
    counted = await binding.create_batch({"count": 3, "params": {"same": True}})
    assert (len(counted["created"]), counted["errors"]) == (3, [])
    assert len({i.id for i in counted["created"]}) == 3
    async with create_worker(tempflare_client, task_queue=task_queue, workflows=[Sleeper]):
        for instance in counted["created"]:
            assert (await instance.status()).status in ("queued", "running", "waiting")
    # the array form keeps working: existing ids skipped
    assert [i.id for i in await binding.create_batch([{"id": taken.id}])] == []


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"count": 0}, InvalidValueError, "count must be 1 to 100, got 0"),
        ({"count": "3"}, WrongTypeError, "count must be an integer"),
        ({"count": 2, "instances": []}, InvalidValueError, "either 'count'"),
        ({}, InvalidValueError, "either 'count'"),
        ({"instances": [{}], "params": {}}, InvalidValueError, "inside its item"),
        ({"size": 2}, InvalidValueError, r"unknown key\(s\) \['size'\]"),
    ],
)
async def test_bad_batch_options_are_named(
    tempflare_client: Client, options: dict[str, Any], error: type[Exception], message: str
) -> None:
    binding = Workflow(tempflare_client, Sleeper, task_queue="unused")
    with pytest.raises(error, match=message):
        await binding.create_batch(options)


async def test_cron_schedules_start_instances_that_see_their_schedule(
    tempflare_client: Client, task_queue: str
) -> None:
    binding = Workflow(tempflare_client, Sleeper, task_queue=task_queue)
    crons = ["*/5 * * * *", "0 9 * * MON-FRI"]
    assert await binding.set_schedules(crons, params={"sleep": False}) == crons
    assert await eventually(binding.get_schedules, lambda got: got == sorted(crons))
    async with create_worker(tempflare_client, task_queue=task_queue, workflows=[Sleeper]):
        before = datetime.now(UTC) - timedelta(seconds=1)
        await binding.trigger_schedule("*/5 * * * *")

        async def scheduled_runs() -> list[Any]:
            query = f"WorkflowType = 'Sleeper' AND TaskQueue = '{task_queue}'"
            return [x async for x in tempflare_client.list_workflows(query)]

        [run] = await eventually(scheduled_runs, lambda runs: len(runs) == 1)
        instance = await binding.get(run.id)
        result = await instance.handle.result()
    assert result["params"] == {"sleep": False}
    assert result["cron"] == "*/5 * * * *"
    assert datetime.fromisoformat(result["scheduled"]) >= before
    assert run.id.startswith("Sleeper-cron-")
    # the next due times follow the cron expression
    sid = schedule_id("Sleeper", "*/5 * * * *")
    described = await tempflare_client.get_schedule_handle(sid).describe()
    assert described.info.next_action_times
    assert all(t.minute % 5 == 0 for t in described.info.next_action_times)
    # declarative: a shorter list removes the others, an empty one removes all
    assert await binding.setSchedules(["0 9 * * MON-FRI"]) == ["0 9 * * MON-FRI"]
    assert await eventually(binding.get_schedules, lambda got: got == ["0 9 * * MON-FRI"])
    await binding.set_schedules([])
    await eventually(binding.get_schedules, lambda got: got == [])
    with pytest.raises(InvalidValueError, match="no schedule"):
        await binding.trigger_schedule("0 9 * * MON-FRI")


async def test_bad_cron_expressions_are_named(tempflare_client: Client, task_queue: str) -> None:
    binding = Workflow(tempflare_client, Sleeper, task_queue=task_queue)
    with pytest.raises(InvalidValueError, match="Invalid cron expression 'every day'"):
        await binding.set_schedules(["every day"])
    with pytest.raises(WrongTypeError, match="list of cron expressions"):
        await binding.set_schedules("0 * * * *")  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="Invalid cron expression ''"):
        await binding.set_schedules([""])
