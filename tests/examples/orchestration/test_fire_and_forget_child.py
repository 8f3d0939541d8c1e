"""End-to-end tests of workflows/orchestration/fire_and_forget_child.py (seed 001, parent-child
workflows)."""

from __future__ import annotations

from typing import Any

import pytest
from temporalio.client import Client

from activities.orchestration.fire_and_forget_child import ParentEnv
from adapter import Workflow
from tests.helpers import step_attempts
from workflows.orchestration.fire_and_forget_child import ChildWorkflow, ParentWorkflow

pytestmark = pytest.mark.server


@pytest.fixture
def env(tempflare_client: Client, task_queue: str) -> ParentEnv:
    return ParentEnv(
        CHILD_WORKFLOW=Workflow(tempflare_client, ChildWorkflow, task_queue=task_queue)
    )


async def test_parent_starts_child_with_its_data(tempflare_worker: Any, env: ParentEnv) -> None:
    async with tempflare_worker(ParentWorkflow, ChildWorkflow, env=env) as wf:
        parent = await wf.create(id="parent-1", params={"items": [3, 1, 2]})
        result = await parent.handle.result()
        child = await env.CHILD_WORKFLOW.get("child-parent-1")
        child_result = await child.handle.result()
        child_status = await child.status()
    assert result == {"child": {"id": "child-parent-1"}, "message": "Child started: child-parent-1"}
    assert child_result == {"processed": [1, 2, 3], "by": "child-parent-1"}
    assert child_status.status == "complete"
    assert [a.summary for a in await step_attempts(parent.handle)] == [
        "prepare data",
        "start child",
        "other work",
    ]


async def test_existing_child_counts_as_started(tempflare_worker: Any, env: ParentEnv) -> None:
    async with tempflare_worker(ParentWorkflow, ChildWorkflow, env=env) as wf:
        early = await env.CHILD_WORKFLOW.create(id="child-parent-2", params={"data": ["early"]})
        parent = await wf.create(id="parent-2", params={"items": ["b", "a"]})
        result = await parent.handle.result()
        child_result = await early.handle.result()
    assert result["child"] == {"id": "child-parent-2", "existing": "yes"}
    # the child that already existed keeps its own params
    assert child_result == {"processed": ["early"], "by": "child-parent-2"}
