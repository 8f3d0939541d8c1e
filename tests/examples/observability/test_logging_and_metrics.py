"""End-to-end tests of workflows/observability/logging_and_metrics.py (seed 000's
MonitoredWorkflow): structured logs around the run, metrics data points."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs
from temporalio.client import Client, WorkflowFailureError

from tests.examples.shared_env_harness import Harness, shared_env_harness
from workflows.observability.logging_and_metrics import MonitoredWorkflow

pytestmark = pytest.mark.server


@pytest.fixture
async def h(tmp_path: Path, tempflare_client: Client, task_queue: str) -> AsyncIterator[Harness]:
    async with shared_env_harness(tmp_path, tempflare_client, task_queue) as harness:
        await harness.execute(
            "INSERT INTO users (id, name, email, migrated_at) VALUES (7, 'Ada', 'a@x.io', 'now')"
        )
        yield harness


async def run(tempflare_worker: Any, h: Harness, iid: str, user_id: str) -> tuple[Any, list[Any]]:
    with capture_logs() as logs:
        async with tempflare_worker(MonitoredWorkflow, env=h.env) as wf:
            instance = await wf.create(id=iid, params={"userId": user_id})
            try:
                await instance.handle.result()
            except WorkflowFailureError:
                pass
            status = await instance.status()
    mine = [e for e in logs if e.get("instanceId") == iid or e.get("userId") == user_id]
    return status, mine


async def test_logs_structured_events_and_tracks_metrics(tempflare_worker: Any, h: Harness) -> None:
    status, logs = await run(tempflare_worker, h, "monitor-ok", "7")

    assert status.status == "complete"
    metrics = status.output["metrics"]
    assert status.output["processed"] is True
    assert metrics["workflowId"] == "monitor-ok"
    assert (metrics["stepName"], metrics["status"]) == ("process data", "success")
    assert 0 <= metrics["duration"] < 60_000
    datetime.fromisoformat(metrics["timestamp"])
    assert await h.env.ANALYTICS.data_points() == [metrics]
    [row] = await h.rows("SELECT user_id, instance_id FROM processed_users")
    assert row == {"user_id": "7", "instance_id": "monitor-ok"}

    assert [(e["log_level"], e["event"]) for e in logs] == [
        ("info", "Workflow started"),
        ("info", "Processing data"),
        ("info", "Workflow completed successfully"),
    ]
    assert logs[0]["params"] == {"userId": "7"}
    assert logs[1]["userId"] == "7"
    # get_logger binds the instance, and the step attempt inside a step
    assert {e["instance_id"] for e in logs} == {"monitor-ok"}
    assert (logs[1]["step"], logs[1]["attempt"]) == ("process data", 1)
    for entry in logs:
        assert datetime.fromisoformat(entry["timestamp"]).tzinfo is not None, entry


async def test_failure_is_logged_as_error_and_rethrown(tempflare_worker: Any, h: Harness) -> None:
    status, logs = await run(tempflare_worker, h, "monitor-fail", "999")

    assert status.status == "errored"
    assert status.error is not None
    assert (status.error.name, status.error.message) == ("NonRetryableError", "User 999 not found")
    assert [(e["log_level"], e["event"]) for e in logs] == [
        ("info", "Workflow started"),
        ("info", "Processing data"),
        ("error", "Workflow failed"),
    ]
    assert logs[-1]["error"] == "User 999 not found"
    assert await h.env.ANALYTICS.data_points() == []
