"""End-to-end tests of workflows/human_in_the_loop/approval_with_auto_reject.py (seed 001,
human-in-the-loop approval)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from activities.human_in_the_loop.approval_with_auto_reject import ApprovalEnv, apply_schema
from adapter import InstanceStatus
from adapter.bindings import D1Database
from tests.helpers import eventually, step_attempts, timers
from workflows.human_in_the_loop.approval_with_auto_reject import ApprovalWorkflow

pytestmark = pytest.mark.server

FAST_RETRIES = {"default_retry_delay": 0}


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[ApprovalEnv]:
    db = D1Database(str(tmp_path / "db.sqlite"))
    await apply_schema(db)
    yield ApprovalEnv(DB=db)
    db.close()


async def row(env: ApprovalEnv, approval_id: str) -> Any:
    return await env.DB.prepare("SELECT * FROM approvals WHERE id = ?").bind(approval_id).first()


async def start_and_wait(wf: Any, env: ApprovalEnv, iid: str, **params: Any) -> Any:
    instance = await wf.create(id=iid, params={"userId": "u-1", **params})

    async def pending() -> Any:
        return await row(env, iid)

    assert await eventually(pending, bool) == {"id": iid, "user_id": "u-1", "status": "pending"}
    return instance


async def step_names(instance: Any) -> list[str]:
    return [a.summary for a in await step_attempts(instance.handle)]


@pytest.mark.parametrize(
    ("payload", "status", "step"),
    [
        ({"approved": True}, "approved", "process approval"),
        ({"approved": False}, "rejected", "handle rejection"),
        ({"comment": "no decision field"}, "rejected", "handle rejection"),
    ],
)
async def test_response_decides(
    tempflare_worker: Any, env: ApprovalEnv, payload: dict[str, Any], status: str, step: str
) -> None:
    iid = f"approval-{status}-{len(payload)}-{'approved' in payload}"
    async with tempflare_worker(ApprovalWorkflow, env=env) as wf:
        instance = await start_and_wait(wf, env, iid)
        await instance.send_event("approval-response", payload)
        result = await instance.handle.result()
    assert result == {"status": status}
    assert (await row(env, iid))["status"] == status
    assert await step_names(instance) == ["create approval", step]


async def test_response_sent_before_the_wait_is_buffered(
    tempflare_worker: Any, env: ApprovalEnv
) -> None:
    async with tempflare_worker(ApprovalWorkflow, env=env) as wf:
        instance = await wf.create(id="approval-early", params={"userId": "u-1"})
        await instance.send_event("approval-response", {"approved": True})
        result = await instance.handle.result()
    assert result == {"status": "approved"}
    assert (await row(env, "approval-early"))["status"] == "approved"


async def test_no_response_is_auto_rejected_after_the_timeout(
    tempflare_worker: Any, env: ApprovalEnv
) -> None:
    async with tempflare_worker(ApprovalWorkflow, env=env) as wf:
        instance = await start_and_wait(wf, env, "approval-timeout", approval_timeout_seconds=1)
        # an event of another type does not count as a response
        await instance.send_event("approval-reminder", {"approved": True})
        result = await instance.handle.result()
        status = await instance.status()
    assert status.status == InstanceStatus.COMPLETE
    assert result == {
        "status": "auto-rejected",
        "reason": "WorkflowTimeoutError: Execution timed out after 1000ms",
    }
    assert (await row(env, "approval-timeout"))["status"] == "auto-rejected"
    assert await step_names(instance) == ["create approval", "auto reject"]


async def test_failing_approval_step_falls_into_the_catch_and_auto_rejects(
    tempflare_worker: Any, env: ApprovalEnv
) -> None:
    # a real DB rule makes 'process approval' fail on every attempt
    await env.DB.exec(
        "CREATE TRIGGER freeze BEFORE UPDATE ON approvals WHEN NEW.status = 'approved' "
        "BEGIN SELECT RAISE(ABORT, 'approvals are frozen'); END"
    )
    async with tempflare_worker(ApprovalWorkflow, env=env, **FAST_RETRIES) as wf:
        instance = await start_and_wait(wf, env, "approval-frozen")
        await instance.send_event("approval-response", {"approved": True})
        result = await instance.handle.result()
    assert result["status"] == "auto-rejected"
    assert result["reason"].startswith("WorkflowStepError: D1_ERROR: approvals are frozen")
    assert (await row(env, "approval-frozen"))["status"] == "auto-rejected"
    names = await step_names(instance)
    assert names == ["create approval", *["process approval"] * 6, "auto reject"]


async def test_default_timeout_is_the_seeds_48_hours(
    tempflare_worker: Any, env: ApprovalEnv
) -> None:
    async with tempflare_worker(ApprovalWorkflow, env=env) as wf:
        instance = await start_and_wait(wf, env, "approval-48h")
        found = await eventually(lambda: timers(instance.handle), bool)
        await instance.terminate()
    assert [(t.summary, t.seconds) for t in found] == [("wait for approval", 48 * 3600.0)]
