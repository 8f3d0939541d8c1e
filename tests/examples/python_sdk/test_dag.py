"""End to end: workflows/python_sdk/dag.py (the "DAG Workflows" page, legacy ``depends``)."""

from __future__ import annotations

from typing import Any

import pytest

from adapter.workers.workflows import Workflow
from tests.helpers import eventually, step_attempts
from workflows.python_sdk.dag import MyWorkflow

pytestmark = pytest.mark.server


async def test_the_final_step_gets_both_dependencies(tempflare_worker: Any) -> None:
    async with tempflare_worker(MyWorkflow) as native:
        instance = await Workflow(native).create({"id": "dag-1"})
        status = await eventually(instance.status, lambda s: s["status"] == "complete")
        history = await instance.native.handle.fetch_history()
    assert status["output"] == 30
    attempts = await step_attempts(instance.native.handle)
    assert [a.summary for a in attempts][-1] == "my final step"
    assert sorted(a.summary for a in attempts[:2]) == ["dependency a", "dependency b"]
    # concurrent=True: both dependencies were scheduled by one workflow task, before either ended.
    scheduled = [
        e.event_id for e in history.events if e.HasField("activity_task_scheduled_event_attributes")
    ]
    first_done = next(
        e.event_id for e in history.events if e.HasField("activity_task_completed_event_attributes")
    )
    assert len(scheduled) == 3 and scheduled[1] < first_done
