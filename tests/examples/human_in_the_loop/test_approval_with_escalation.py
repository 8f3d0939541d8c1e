"""End-to-end tests of workflows/human_in_the_loop/approval_with_escalation.py (seed 000's
ApprovalWorkflow): primary decision, timeout and escalation, double timeout."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, WorkflowFailureError

from tests.examples.shared_env_harness import FAST_RETRIES, Harness, shared_env_harness
from tests.helpers import eventually, step_attempts, timers
from workflows.human_in_the_loop.approval_with_escalation import EVENT_TYPE, ApprovalWorkflow

pytestmark = pytest.mark.server

MANAGER, SENIOR = "manager@example.com", "senior-manager@example.com"


@pytest.fixture
async def h(tmp_path: Path, tempflare_client: Client, task_queue: str) -> AsyncIterator[Harness]:
    async with shared_env_harness(tmp_path, tempflare_client, task_queue) as harness:
        yield harness


def params(request_id: str, primary: Any = "30 seconds", escalation: Any = "30 seconds") -> Any:
    return {
        "requestId": request_id,
        "amount": 5000,
        "primaryTimeout": primary,
        "escalationTimeout": escalation,
    }


async def notified(h: Harness, count: int) -> list[str]:
    async def recipients() -> list[str]:
        return h.notifier.recipients()

    return await eventually(recipients, lambda r: len(r) >= count, timeout=20)


async def actions(h: Harness) -> list[dict[str, Any]]:
    return await h.rows("SELECT request_id, amount, approver FROM approval_actions")


async def test_primary_approval_executes_the_action(tempflare_worker: Any, h: Harness) -> None:
    h.notifier.fail_next(1, status=502)  # the first notification attempt is retried

    async with tempflare_worker(ApprovalWorkflow, env=h.env, **FAST_RETRIES) as wf:
        instance = await wf.create(id="approve-primary", params=params("REQ-1"))
        assert await notified(h, 2) == [MANAGER, MANAGER]
        await instance.send_event(EVENT_TYPE, {"approved": True, "approverId": "mgr-1"})
        result = await instance.handle.result()

    assert result == {"requestId": "REQ-1", "approved": True, "approver": "mgr-1"}
    assert await actions(h) == [{"request_id": "REQ-1", "amount": 5000, "approver": "mgr-1"}]
    [request] = h.notifier.requests()[1:]
    assert request.json()["requestId"] == "REQ-1"
    assert [a.activity_id for a in await step_attempts(instance.handle)] == [
        "notify primary approver#1@1",
        "notify primary approver#1@2",
        "execute approved action#1@1",
    ]


async def test_primary_rejection_skips_the_action(tempflare_worker: Any, h: Harness) -> None:
    async with tempflare_worker(ApprovalWorkflow, env=h.env) as wf:
        instance = await wf.create(id="approve-rejected", params=params("REQ-2"))
        await notified(h, 1)
        await instance.send_event(EVENT_TYPE, {"approved": False, "approverId": "mgr-1"})
        result = await instance.handle.result()

    assert result == {"requestId": "REQ-2", "approved": False, "approver": "mgr-1"}
    assert await actions(h) == []
    assert h.notifier.recipients() == [MANAGER]  # no escalation


async def test_decision_sent_before_the_wait_is_buffered(tempflare_worker: Any, h: Harness) -> None:
    h.notifier.delay_next(1, 0.5)  # the decision arrives while the notification step runs

    async with tempflare_worker(ApprovalWorkflow, env=h.env) as wf:
        instance = await wf.create(id="approve-early", params=params("REQ-3"))
        await instance.send_event(EVENT_TYPE, {"approved": True, "approverId": "mgr-2"})
        result = await instance.handle.result()

    assert result == {"requestId": "REQ-3", "approved": True, "approver": "mgr-2"}
    assert len(await actions(h)) == 1


async def test_primary_timeout_escalates_to_senior_approver(
    tempflare_worker: Any, h: Harness
) -> None:
    async with tempflare_worker(ApprovalWorkflow, env=h.env) as wf:
        instance = await wf.create(
            id="approve-escalated", params=params("REQ-4", primary="500 milliseconds")
        )
        assert await notified(h, 2) == [MANAGER, SENIOR]
        await instance.send_event(EVENT_TYPE, {"approved": True, "approverId": "senior-1"})
        result = await instance.handle.result()

    assert result == {"requestId": "REQ-4", "approved": True, "approver": "senior-1"}
    assert await actions(h) == [{"request_id": "REQ-4", "amount": 5000, "approver": "senior-1"}]
    assert [(t.summary, t.seconds) for t in await timers(instance.handle)] == [
        ("wait for primary approval", 0.5),
        ("wait for escalated approval", 30.0),
    ]


async def test_escalation_timeout_errors_the_instance(tempflare_worker: Any, h: Harness) -> None:
    async with tempflare_worker(ApprovalWorkflow, env=h.env) as wf:
        instance = await wf.create(
            id="approve-expired",
            params=params("REQ-5", primary="500 milliseconds", escalation="700 milliseconds"),
        )
        with pytest.raises(WorkflowFailureError):
            await instance.handle.result()
        status = await instance.status()

    assert status.status == "errored"
    assert status.error is not None
    assert (status.error.name, status.error.message) == (
        "WorkflowTimeoutError",
        "Execution timed out after 700ms",
    )
    assert h.notifier.recipients() == [MANAGER, SENIOR]
    assert await actions(h) == []
