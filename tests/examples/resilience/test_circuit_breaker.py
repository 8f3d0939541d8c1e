"""End-to-end tests of workflows/resilience/circuit_breaker.py (seed 000's CircuitBreakerWorkflow):
failures counted in KV open the circuit; success resets it."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, WorkflowFailureError

from tests.examples.shared_env_harness import FAST_RETRIES, ExternalApi, Harness, shared_env_harness
from tests.helpers import step_attempts
from workflows.resilience.circuit_breaker import CircuitBreakerWorkflow

pytestmark = pytest.mark.server

KEY = "circuit:external-api"


@pytest.fixture
async def h(tmp_path: Path, tempflare_client: Client, task_queue: str) -> AsyncIterator[Harness]:
    async with shared_env_harness(tmp_path, tempflare_client, task_queue) as harness:
        yield harness


async def run(tempflare_worker: Any, h: Harness, *iids: str, **params: Any) -> list[Any]:
    """Runs instances one after the other; returns (instance, status) pairs."""
    out = []
    async with tempflare_worker(CircuitBreakerWorkflow, env=h.env, **FAST_RETRIES) as wf:
        for iid in iids:
            instance = await wf.create(id=iid, params=params)
            try:
                await instance.handle.result()
            except WorkflowFailureError:
                pass
            out.append((instance, await instance.status()))
    return out


async def put_state(h: Harness, failures: int, last_failure_ms: int) -> None:
    state = {"failures": failures, "lastFailure": last_failure_ms}
    await h.env.KV.put(KEY, json.dumps(state), {"expirationTtl": 60})


async def test_success_resets_recorded_failures(tempflare_worker: Any, h: Harness) -> None:
    await put_state(h, failures=3, last_failure_ms=int(time.time() * 1000))

    [(_, status)] = await run(tempflare_worker, h, "cb-ok")

    assert status.status == "complete"
    assert status.output == {"data": ExternalApi.DATA}
    assert h.external.count("GET", "/data") == 1
    assert await h.env.KV.get(KEY) is None


async def test_transient_failures_are_counted_then_cleared(
    tempflare_worker: Any, h: Harness
) -> None:
    h.external.fail_next(1, status=500)
    h.external.drop_next(1)  # a network error counts as a failure too

    [(instance, status)] = await run(tempflare_worker, h, "cb-transient")

    assert status.status == "complete"
    assert h.external.count("GET", "/data") == 3
    assert [a.failed for a in await step_attempts(instance.handle)] == [True, True, False]
    assert await h.env.KV.get(KEY) is None


async def test_persistent_failure_opens_the_circuit_for_later_instances(
    tempflare_worker: Any, h: Harness
) -> None:
    h.external.fail_next(99, status=500)

    [(first, status), (_, second)] = await run(tempflare_worker, h, "cb-open-1", "cb-open-2")

    # attempts 1-5 reach the service and fail; attempt 6 finds 5 failures: circuit open
    assert status.status == "errored"
    assert status.error is not None
    assert (status.error.name, status.error.message) == (
        "NonRetryableError",
        "Circuit breaker open for external-api",
    )
    assert len(await step_attempts(first.handle)) == 6
    state = await h.env.KV.get(KEY, "json")
    assert state["failures"] == 5
    # the next instance fails at once without calling the service
    assert second.status == "errored"
    assert second.error is not None
    assert second.error.message == "Circuit breaker open for external-api"
    assert h.external.count("GET", "/data") == 5


async def test_threshold_is_configurable(tempflare_worker: Any, h: Harness) -> None:
    h.external.fail_next(99, status=502)

    [(instance, status)] = await run(tempflare_worker, h, "cb-threshold", threshold=2)

    assert status.status == "errored"
    assert status.error is not None
    assert status.error.name == "NonRetryableError"
    assert h.external.count("GET", "/data") == 2
    assert len(await step_attempts(instance.handle)) == 3


async def test_open_circuit_refuses_without_calling_the_service(
    tempflare_worker: Any, h: Harness
) -> None:
    await put_state(h, failures=5, last_failure_ms=int(time.time() * 1000))

    [(instance, status)] = await run(tempflare_worker, h, "cb-refused")

    assert status.status == "errored"
    assert status.error is not None
    assert status.error.message == "Circuit breaker open for external-api"
    assert h.external.count() == 0
    assert len(await step_attempts(instance.handle)) == 1  # not retried


async def test_circuit_half_opens_after_reset_time(tempflare_worker: Any, h: Harness) -> None:
    await put_state(h, failures=5, last_failure_ms=int(time.time() * 1000) - 61_000)

    [(_, status)] = await run(tempflare_worker, h, "cb-half-open")

    assert status.status == "complete"
    assert h.external.count("GET", "/data") == 1
    assert await h.env.KV.get(KEY) is None
