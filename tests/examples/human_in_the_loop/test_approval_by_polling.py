"""End-to-end tests of workflows/human_in_the_loop/approval_by_polling.py (seed 003, "Common
Patterns / Human-in-the-Loop")."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from activities._demo.http import HTTPService
from activities.human_in_the_loop.approval_by_polling import ApprovalSystemEnv
from tests.helpers import eventually, step_attempts, timers
from workflows.human_in_the_loop.approval_by_polling import ApprovalPollWorkflow

pytestmark = pytest.mark.server


@pytest.fixture
def http() -> Iterator[HTTPService]:
    with HTTPService("stand-in") as server:
        yield server


async def steps(instance: Any) -> list[tuple[str, bool]]:
    return [(a.summary, a.failed) for a in await step_attempts(instance.handle)]


@pytest.mark.parametrize("approved", [True, False])
async def test_approval_is_checked_after_the_sleep(
    tempflare_worker: Any, http: HTTPService, approved: bool
) -> None:
    iid = f"poll-{approved}"
    http.json_route("GET", f"/approvals/{iid}", {"approved": approved})
    http.json_route("POST", f"/approvals/{iid}/done", {"ok": True})
    env = ApprovalSystemEnv(APPROVALS_URL=http.base_url)
    async with tempflare_worker(ApprovalPollWorkflow, env=env) as wf:
        instance = await wf.create(id=iid, params={"data": {"n": 1}, "wait_seconds": 0.2})
        result = await instance.handle.result()
    assert result["approved"] is approved
    assert len(result["digest"]) == 64
    expected = [("process data", False), ("check approval", False)]
    if approved:
        expected.append(("finalize", False))
    assert await steps(instance) == expected
    assert len(http.requests("POST", f"/approvals/{iid}/done")) == (1 if approved else 0)
    assert [(t.summary, t.seconds) for t in await timers(instance.handle)] == [
        ("wait for approval", 0.2)
    ]


async def test_unknown_request_is_not_approved_and_sleep_defaults_to_an_hour(
    tempflare_worker: Any, http: HTTPService
) -> None:
    env = ApprovalSystemEnv(APPROVALS_URL=http.base_url)  # no routes: 404 for everything
    async with tempflare_worker(ApprovalPollWorkflow, env=env) as wf:
        unknown = await wf.create(id="poll-unknown", params={"wait_seconds": 0})
        result = await unknown.handle.result()
        hour = await wf.create(id="poll-hour")
        found = await eventually(lambda: timers(hour.handle), bool)
        await hour.terminate()
    assert result["approved"] is False
    assert [(t.summary, t.seconds) for t in found] == [("wait for approval", 3600.0)]
