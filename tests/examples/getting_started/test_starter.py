"""End-to-end tests of workflows/getting_started/starter.py (seed 003, the workflows-starter)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from activities._demo.http import HTTPService
from activities.getting_started.starter import FILES, StarterEnv
from adapter import InstanceStatus
from adapter.bindings import R2Bucket
from tests.helpers import eventually, step_attempts, timers
from workflows.getting_started.starter import MyWorkflow

pytestmark = pytest.mark.server

IPS = {
    "result": {"ipv4_cidrs": ["173.245.48.0/20"], "ipv6_cidrs": ["2400:cb00::/32"]},
    "success": True,
}


@pytest.fixture
def http() -> Iterator[HTTPService]:
    with HTTPService("stand-in") as server:
        server.json_route("GET", "/client/v4/ips", IPS)
        yield server


@pytest.fixture
def env(tmp_path: Path, http: HTTPService) -> StarterEnv:
    return StarterEnv(
        BUCKET=R2Bucket(tmp_path / "bucket"), IPS_URL=f"{http.base_url}/client/v4/ips"
    )


def params(**knobs: Any) -> dict[str, Any]:
    return {"email": "a@example.com", "metadata": {"plan": "pro"}, "wait_seconds": 0.2, **knobs}


async def write_attempts(instance: Any) -> list[bool]:
    return [
        a.failed for a in await step_attempts(instance.handle) if a.summary == "write to storage"
    ]


async def test_happy_path_writes_to_storage(
    tempflare_worker: Any, env: StarterEnv, http: HTTPService
) -> None:
    async with tempflare_worker(MyWorkflow, env=env) as wf:
        instance = await wf.create(id="starter-ok", params=params(failure_rate=0.0))
        result = await instance.handle.result()
    assert result == {
        "email": "a@example.com",
        "files": 3,
        "ips": IPS["result"],
        "written": "files/starter-ok.json",
        "attempts": 1,
        "writeConfig": {
            "retries": {"limit": 5, "delay": "5 second", "backoff": "exponential"},
            "timeout": "15 minutes",
        },
    }
    stored = await env.BUCKET.get("files/starter-ok.json")
    assert stored is not None and json.loads(await stored.text()) == {"files": FILES}
    assert len(http.requests(path="/client/v4/ips")) == 1
    assert [a.summary for a in await step_attempts(instance.handle)] == [
        "fetch files",
        "call api",
        "write to storage",
    ]
    assert [(t.summary, t.seconds) for t in await timers(instance.handle)] == [
        ("wait on something", 0.2)
    ]


async def test_simulated_failures_are_retried_with_exponential_backoff(
    tempflare_worker: Any, env: StarterEnv
) -> None:
    knobs = params(fail_attempts=2, retry_delay_seconds=0.05)
    async with tempflare_worker(MyWorkflow, env=env) as wf:
        instance = await wf.create(id="starter-retry", params=knobs)
        result = await instance.handle.result()
    assert result["attempts"] == 3
    assert await write_attempts(instance) == [True, True, False]
    retry_timers = [t for t in await timers(instance.handle) if t.summary != "wait on something"]
    assert [(t.summary, t.seconds) for t in retry_timers] == [
        ("write to storage: retry 1 of 5 after 50ms", 0.05),
        ("write to storage: retry 2 of 5 after 100ms", 0.1),
    ]


async def test_always_failing_write_errors_after_six_attempts(
    tempflare_worker: Any, env: StarterEnv
) -> None:
    knobs = params(failure_rate=1.0, retry_delay_seconds=0)
    async with tempflare_worker(MyWorkflow, env=env) as wf:
        instance = await wf.create(id="starter-fail", params=knobs)

        async def status() -> Any:
            return await instance.status()

        final = await eventually(status, lambda s: s.status.is_final)
    assert final.status == InstanceStatus.ERRORED
    assert final.error is not None
    assert (final.error.name, final.error.message) == (
        "RuntimeError",
        "Simulated failure - will retry",
    )
    assert await write_attempts(instance) == [True] * 6
    assert await env.BUCKET.head("files/starter-fail.json") is None


async def test_hanging_attempt_times_out_then_the_retry_succeeds(
    tempflare_worker: Any, env: StarterEnv
) -> None:
    knobs = params(hang_attempts=1, timeout_seconds=0.3, fail_attempts=0, retry_delay_seconds=0.01)
    async with tempflare_worker(MyWorkflow, env=env) as wf:
        instance = await wf.create(id="starter-timeout", params=knobs)
        result = await instance.handle.result()
    assert result["attempts"] == 2
    assert await write_attempts(instance) == [True, False]
    assert await env.BUCKET.head("files/starter-timeout.json") is not None


async def test_seed_durations_and_config_are_the_defaults(
    tempflare_worker: Any, env: StarterEnv
) -> None:
    async with tempflare_worker(MyWorkflow, env=env) as wf:
        waiting = await wf.create(id="starter-defaults", params={"email": "b@example.com"})
        found = await eventually(lambda: timers(waiting.handle), bool)
        await waiting.terminate()
        # the write step's resolved config, as ctx.config shows it
        instance = await wf.create(
            id="starter-config",
            params={"email": "c@example.com", "wait_seconds": 0, "failure_rate": 0.0},
        )
        result = await instance.handle.result()
    assert [(t.summary, t.seconds) for t in found] == [("wait on something", 60.0)]
    assert result["writeConfig"] == {
        "retries": {"limit": 5, "delay": "5 second", "backoff": "exponential"},
        "timeout": "15 minutes",
    }
