"""End-to-end tests of workflows/resilience/fallback_service.py (seed 003, "Common Patterns /
Graceful Degradation")."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from activities._demo.http import HTTPService, Reply, Request
from activities.resilience.fallback_service import DegradationEnv
from adapter import InstanceStatus
from tests.helpers import eventually, step_attempts, timers
from workflows.resilience.fallback_service import GracefulDegradationWorkflow

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
