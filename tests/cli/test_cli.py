"""Every ``tempflare instances``/``workflows`` command, run as a subprocess against the session's
dev server while this process runs the worker."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from adapter.testing.pytest_plugin import WorkerFactory

from .cli_workflows import CliOrder, CliSaga

pytestmark = pytest.mark.server

TEMPFLARE = str(Path(sys.executable).with_name("tempflare"))


async def run_cli(client: Client, *args: str, ok: bool = True) -> tuple[int, str, str]:
    """Runs ``tempflare ARGS --address <session server>`` without blocking the worker's loop."""
    address = client.service_client.config.target_host
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("TEMPORAL_ADDRESS", None)
    process = await asyncio.create_subprocess_exec(
        TEMPFLARE,
        *args,
        "--address",
        address,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    code = process.returncode or 0
    if ok:
        assert code == 0, f"tempflare {' '.join(args)} failed ({code}): {out!r} {err!r}"
    return code, out.decode(), err.decode()


async def cli_json(client: Client, *args: str) -> Any:
    _, out, _ = await run_cli(client, *args, "--json")
    return json.loads(out)


async def wait_status(client: Client, instance_id: str, status: str) -> dict[str, Any]:
    """Polls ``describe --json``; ``waiting`` means waiting for the approval event."""
    for _ in range(100):
        doc = await cli_json(client, "instances", "describe", "CliOrder", instance_id)
        names = [s["name"] for s in doc["steps"]]
        if doc["status"] == status and (status != "waiting" or "approval" in names):
            return dict(doc)
        await asyncio.sleep(0.2)
    raise AssertionError(f"{instance_id} never reached {status}: {doc}")


async def trigger(client: Client, instance_id: str, order: str, task_queue: str) -> None:
    await run_cli(
        client,
        "instances",
        "trigger",
        "CliOrder",
        json.dumps({"order": order}),
        "--id",
        instance_id,
        "--task-queue",
        task_queue,
    )


async def approve(client: Client, instance_id: str, by: str) -> None:
    await run_cli(
        client,
        "instances",
        "send-event",
        "CliOrder",
        instance_id,
        "approved",
        json.dumps({"by": by}),
    )


def new_id() -> str:
    return f"cli-{uuid.uuid4().hex[:8]}"


async def test_trigger_describe_send_event_and_step_table(
    tempflare_client: Client, tempflare_worker: WorkerFactory, task_queue: str
) -> None:
    async with tempflare_worker(CliOrder):
        instance_id = new_id()
        started = await cli_json(
            tempflare_client,
            "instances",
            "trigger",
            "CliOrder",
            '{"order": "A-1"}',
            "--id",
            instance_id,
            "--task-queue",
            task_queue,
        )
        assert started == [{"id": instance_id, "workflow": "CliOrder"}]
        waiting = await wait_status(tempflare_client, instance_id, "waiting")
        steps = [(s["type"], s["name"], s["outcome"]) for s in waiting["steps"]]
        assert steps[:2] == [("do", "load order", "success"), ("sleep", "cool down", "success")]
        assert "output" not in waiting["steps"][0]

        sent = await cli_json(
            tempflare_client,
            "instances",
            "send-event",
            "CliOrder",
            "latest",
            "approved",
            '{"by": "ana"}',
        )
        assert sent == {"id": instance_id, "ok": True}
        await wait_status(tempflare_client, instance_id, "complete")
        done = await cli_json(
            tempflare_client, "instances", "describe", "CliOrder", instance_id, "--step-output"
        )
        assert done["output"] == {"status": "shipped", "shipped": "A-1", "by": "ana"}
        rows = {s["name"]: s for s in done["steps"]}
        assert rows["load order"]["output"] == {"order": "A-1", "total": 42}
        assert rows["load order"]["attempts"] == 1
        assert rows["cool down"]["duration_s"] >= 1.0
        assert rows["approval"]["type"] == "waitForEvent"
        approval = rows["approval"]["output"]
        assert (approval["type"], approval["payload"]) == ("approved", {"by": "ana"})
        assert approval["timestamp"]  # Cloudflare's {payload, timestamp, type}
        assert rows["ship"]["output"] == {"shipped": "A-1", "by": "ana"}

        # The table form carries the same columns.
        _, table, _ = await run_cli(
            tempflare_client, "instances", "describe", "CliOrder", instance_id, "--step-output"
        )
        for word in ("Type", "Attempts", "Duration", "Outcome", "Output", "waitForEvent", "ship"):
            assert word in table


async def test_workflows_and_instances_list_filter_by_status(
    tempflare_client: Client, tempflare_worker: WorkerFactory, task_queue: str
) -> None:
    async with tempflare_worker(CliOrder):
        ids = [new_id(), new_id()]
        for instance_id in ids:
            await trigger(tempflare_client, instance_id, "B", task_queue)
        await wait_status(tempflare_client, ids[0], "waiting")
        await approve(tempflare_client, ids[0], "bo")
        await wait_status(tempflare_client, ids[0], "complete")
        await wait_status(tempflare_client, ids[1], "waiting")

        complete = await cli_json(
            tempflare_client, "instances", "list", "CliOrder", "--status", "complete"
        )
        waiting = await cli_json(
            tempflare_client, "instances", "list", "CliOrder", "--status", "waiting"
        )
        assert ids[0] in {i["id"] for i in complete} and ids[1] not in {i["id"] for i in complete}
        assert ids[1] in {i["id"] for i in waiting}

        workflows = await cli_json(tempflare_client, "workflows", "list")
        row = next(w for w in workflows if w["name"] == "CliOrder")
        assert row["instances"] >= 2 and row["live"] >= 1
        described = await cli_json(tempflare_client, "workflows", "describe", "CliOrder")
        assert described["statuses"]["complete"] >= 1
        assert described["statuses"]["waiting"] >= 1
        await run_cli(tempflare_client, "instances", "terminate", "CliOrder", ids[1])


async def test_pause_resume_terminate_delete(
    tempflare_client: Client, tempflare_worker: WorkerFactory, task_queue: str
) -> None:
    async with tempflare_worker(CliOrder):
        instance_id = new_id()
        await trigger(tempflare_client, instance_id, "C", task_queue)
        await wait_status(tempflare_client, instance_id, "waiting")
        await run_cli(tempflare_client, "instances", "pause", "CliOrder", instance_id)
        await wait_status(tempflare_client, instance_id, "paused")
        await run_cli(tempflare_client, "instances", "resume", "CliOrder", instance_id)
        resumed = await wait_status(tempflare_client, instance_id, "waiting")
        # The pause cancelled the wait's timer and the resume started another: one step.
        assert [s["name"] for s in resumed["steps"]].count("approval") == 1
        await run_cli(tempflare_client, "instances", "terminate", "CliOrder", instance_id)
        await wait_status(tempflare_client, instance_id, "terminated")
        await run_cli(tempflare_client, "instances", "delete", "CliOrder", instance_id)
        for _ in range(50):
            code, out, _ = await run_cli(
                tempflare_client,
                "instances",
                "describe",
                "CliOrder",
                instance_id,
                "--json",
                ok=False,
            )
            if code:
                break
            await asyncio.sleep(0.2)
        assert code == 1
        assert json.loads(out)["error"]["name"] == "InstanceNotFoundError"


async def test_restart_from_step_keeps_earlier_results(
    tempflare_client: Client, tempflare_worker: WorkerFactory, task_queue: str
) -> None:
    async with tempflare_worker(CliOrder):
        instance_id = new_id()
        await trigger(tempflare_client, instance_id, "D", task_queue)
        await wait_status(tempflare_client, instance_id, "waiting")
        await approve(tempflare_client, instance_id, "cy")
        await wait_status(tempflare_client, instance_id, "complete")
        await run_cli(
            tempflare_client,
            "instances",
            "restart",
            "CliOrder",
            instance_id,
            "--from-step-name",
            "ship",
            "--from-step-count",
            "1",
            "--from-step-type",
            "do",
        )
        doc = await wait_status(tempflare_client, instance_id, "complete")
        # A new run completed without a new event: the approval before "ship" was kept.
        runs = [e async for e in tempflare_client.list_workflows(f'WorkflowId = "{instance_id}"')]
        assert len(runs) == 2
        assert doc["output"] == {"status": "shipped", "shipped": "D", "by": "cy"}


async def test_batch_trigger_and_terminate_all_by_status(
    tempflare_client: Client, tempflare_worker: WorkerFactory, task_queue: str
) -> None:
    async with tempflare_worker(CliOrder):
        _, out, err = await run_cli(
            tempflare_client,
            "instances",
            "trigger",
            "CliOrder",
            '{"order": "E"}',
            "--count",
            "3",
            "--task-queue",
            task_queue,
        )
        ids = [line.split()[-1] for line in out.splitlines() if line.startswith("Started")]
        assert len(ids) == 3
        assert "3/3" in err  # the progress bar
        for instance_id in ids:
            await wait_status(tempflare_client, instance_id, "waiting")
        result = await cli_json(
            tempflare_client, "instances", "terminate-all", "CliOrder", "--status", "waiting"
        )
        assert set(ids) <= set(result["terminated"]) and result["failed"] == {}
        for instance_id in ids:
            await wait_status(tempflare_client, instance_id, "terminated")


async def test_timed_out_wait_and_rollback_rows(
    tempflare_client: Client, tempflare_worker: WorkerFactory, task_queue: str
) -> None:
    """A wait that timed out is a waitForEvent row, and the rollback it set off has its own."""
    async with tempflare_worker(CliSaga):
        instance_id = new_id()
        params = json.dumps({"timeout": "1 second"})
        await run_cli(
            tempflare_client, "instances", "trigger", "CliSaga", params, "--id", instance_id,
            "--task-queue", task_queue,
        )  # fmt: skip
        for _ in range(100):
            doc = await cli_json(
                tempflare_client, "instances", "describe", "CliSaga", instance_id, "--step-output"
            )
            if doc["status"] == "errored":
                break
            await asyncio.sleep(0.2)
        assert doc["error"]["name"] == "WorkflowTimeoutError"
        rows = [(s["type"], s["name"], s["outcome"], s["output"]) for s in doc["steps"]]
        assert rows == [
            ("do", "reserve seat", "success", "S-1"),
            ("waitForEvent", "confirm", "timedOut", None),
            ("rollback", "reserve seat", "success", None),
        ]
        _, table, _ = await run_cli(
            tempflare_client, "instances", "describe", "CliSaga", instance_id
        )
        assert "timedOut" in table and "rollback" in table


async def test_terminate_with_rollback_lists_rolling_back(
    tempflare_client: Client, tempflare_worker: WorkerFactory, task_queue: str
) -> None:
    """`terminate --rollback`: the instance lists as rollingBack while its rollback runs, then
    ends terminated with the rollback in its step table and the wait it cut short cancelled."""
    async with tempflare_worker(CliSaga):
        instance_id = new_id()
        params = json.dumps({"timeout": "1 hour", "hold": 3})
        await run_cli(
            tempflare_client, "instances", "trigger", "CliSaga", params, "--id", instance_id,
            "--task-queue", task_queue,
        )  # fmt: skip
        for _ in range(100):
            doc = await cli_json(tempflare_client, "instances", "describe", "CliSaga", instance_id)
            if doc["status"] == "waiting":
                break
            await asyncio.sleep(0.2)
        done = await cli_json(
            tempflare_client, "instances", "terminate", "CliSaga", instance_id, "--rollback"
        )
        assert done == {"id": instance_id, "ok": True}
        listed: list[str] = []
        for _ in range(100):
            rolling = await cli_json(
                tempflare_client, "instances", "list", "CliSaga", "--status", "rollingBack"
            )
            listed = [i["id"] for i in rolling]
            if instance_id in listed:
                break
            await asyncio.sleep(0.1)
        assert instance_id in listed
        assert all(i["status"] == "rollingBack" for i in rolling)
        for _ in range(100):
            doc = await cli_json(tempflare_client, "instances", "describe", "CliSaga", instance_id)
            if doc["status"] == "terminated":
                break
            await asyncio.sleep(0.2)
        assert doc["status"] == "terminated"
        rows = [(s["type"], s["name"], s["outcome"]) for s in doc["steps"]]
        assert rows[0] == ("do", "reserve seat", "success")
        assert ("rollback", "reserve seat", "success") in rows
        assert rows[1][1:] == ("confirm", "cancelled")  # an open wait reads as a timer


async def test_errors_name_the_bad_value(tempflare_client: Client) -> None:
    code, out, _ = await run_cli(
        tempflare_client, "instances", "trigger", "CliOrder", "{bad", "--json", ok=False
    )
    assert code == 1 and "is not JSON" in json.loads(out)["error"]["message"]
    code, out, _ = await run_cli(
        tempflare_client, "instances", "describe", "CliOrder", "no-such-instance", ok=False
    )
    assert code == 1 and "no-such-instance" in out
