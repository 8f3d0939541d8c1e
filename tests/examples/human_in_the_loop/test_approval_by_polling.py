"""End-to-end tests of the small seed 003 "Common Patterns" ports:
workflows/human_in_the_loop/approval_by_polling.py, seed003_sequential_fan_out.py and
seed003_graceful_degradation.py."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from activities._demo.http import HTTPService, Reply, Request
from activities.human_in_the_loop.approval_by_polling import ApprovalSystemEnv
from activities.resilience.fallback_service import DegradationEnv
from adapter import InstanceStatus
from workflows.human_in_the_loop.approval_by_polling import ApprovalPollWorkflow
from workflows.orchestration.sequential_fan_out import SequentialFanOutWorkflow
from workflows.resilience.fallback_service import GracefulDegradationWorkflow

from .helpers import eventually, step_attempts, timers

pytestmark = pytest.mark.server


@pytest.fixture
def http() -> Iterator[HTTPService]:
    with HTTPService("stand-in") as server:
        yield server


async def steps(instance: Any) -> list[tuple[str, bool]]:
    return [(a.summary, a.failed) for a in await step_attempts(instance.handle)]


async def final_status(instance: Any) -> Any:
    async def status() -> Any:
        return await instance.status()

    return await eventually(status, lambda s: s.status.is_final)


# ------------------------------------------------------------------- approval by polling


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


# ------------------------------------------------------------------ sequential fan-out


async def test_items_are_processed_one_step_each_in_order(tempflare_worker: Any) -> None:
    async with tempflare_worker(SequentialFanOutWorkflow) as wf:
        seed_items = await (await wf.create(id="seq-default")).handle.result()
        instance = await wf.create(id="seq-custom", params={"items": ["b", "a", "c", "a"]})
        custom = await instance.handle.result()
    assert seed_items == {"results": [{"processed": f"item{i}"} for i in (1, 2, 3)]}
    assert custom == {"results": [{"processed": x} for x in ("b", "a", "c", "a")]}
    attempts = await step_attempts(instance.handle)
    # a repeated name is numbered in call order, as in Cloudflare
    assert [a.activity_id for a in attempts] == [
        "fetch items#1@1",
        "process-b#1@1",
        "process-a#1@1",
        "process-c#1@1",
        "process-a#2@1",
    ]


# ------------------------------------------------------------------ graceful degradation


def degradation_env(http: HTTPService) -> DegradationEnv:
    http.json_route("GET", "/fallback", {"from": "fallback"})
    return DegradationEnv(
        PRIMARY_URL=f"{http.base_url}/primary", FALLBACK_URL=f"{http.base_url}/fallback"
    )


async def test_primary_answers(tempflare_worker: Any, http: HTTPService) -> None:
    env = degradation_env(http)
    http.json_route("GET", "/primary", {"from": "primary"})
    async with tempflare_worker(GracefulDegradationWorkflow, env=env) as wf:
        instance = await wf.create(id="degrade-primary")
        result = await instance.handle.result()
    assert result == {"source": "primary", "data": {"from": "primary"}}
    assert http.requests(path="/fallback") == []


async def test_flaky_primary_recovers_within_its_retries(
    tempflare_worker: Any, http: HTTPService
) -> None:
    env = degradation_env(http)
    http.json_route("GET", "/primary", {"from": "primary"})
    http.fail_next(2, status=500, path="/primary")
    async with tempflare_worker(GracefulDegradationWorkflow, env=env) as wf:
        instance = await wf.create(id="degrade-flaky", params={"retry_delay_seconds": 0})
        result = await instance.handle.result()
    assert result["source"] == "primary"
    assert len(http.requests(path="/primary")) == 3


async def test_failing_primary_falls_back_after_a_timeout_and_error_statuses(
    tempflare_worker: Any, http: HTTPService
) -> None:
    env = degradation_env(http)
    hung = {"first": True}

    def primary(_req: Request) -> Reply:
        if hung.pop("first", False):
            time.sleep(1.0)  # the first attempt outlives the 0.3 s timeout
        return Reply(500, {"error": "primary down"})

    http.route("GET", "/primary", primary)
    params = {"retry_delay_seconds": 0.1, "timeout_seconds": 0.3}
    async with tempflare_worker(GracefulDegradationWorkflow, env=env) as wf:
        instance = await wf.create(id="degrade-fallback", params=params)
        result = await instance.handle.result()
    assert result == {"source": "fallback", "data": {"from": "fallback"}}
    assert await steps(instance) == [
        *[("try primary service", True)] * 4,  # limit 3: 4 attempts
        ("fallback service", False),
    ]
    # no backoff given: exponential, from the 0.1 s delay
    assert [t.seconds for t in await timers(instance.handle)] == [0.1, 0.2, 0.4]


async def test_fallback_failing_too_errors_the_instance(
    tempflare_worker: Any, http: HTTPService
) -> None:
    env = DegradationEnv(
        PRIMARY_URL=f"{http.base_url}/primary", FALLBACK_URL=f"{http.base_url}/fallback"
    )
    async with tempflare_worker(GracefulDegradationWorkflow, env=env, default_retry_delay=0) as wf:
        instance = await wf.create(id="degrade-both-down", params={"retry_delay_seconds": 0})
        final = await final_status(instance)
    assert final.status == InstanceStatus.ERRORED
    assert final.error is not None
    assert (final.error.name, final.error.message) == ("RuntimeError", "API error: 404")
    assert len(http.requests(path="/primary")) == 4
    assert len(http.requests(path="/fallback")) == 6
