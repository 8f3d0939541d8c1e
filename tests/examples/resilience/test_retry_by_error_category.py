"""End-to-end tests of workflows/resilience/retry_by_error_category.py (seed 000's
ErrorCategorizationWorkflow): 4xx fail at once, 5xx and network errors retry."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, WorkflowFailureError

from activities.resilience.retry_by_error_category import ApiError, should_retry
from tests.examples.shared_env_harness import FAST_RETRIES, ApiService, Harness, shared_env_harness
from tests.helpers import step_attempts
from workflows.resilience.retry_by_error_category import ErrorCategorizationWorkflow

pytestmark = pytest.mark.server


@pytest.fixture
async def h(tmp_path: Path, tempflare_client: Client, task_queue: str) -> AsyncIterator[Harness]:
    async with shared_env_harness(tmp_path, tempflare_client, task_queue) as harness:
        yield harness


async def run(tempflare_worker: Any, h: Harness, iid: str) -> Any:
    async with tempflare_worker(ErrorCategorizationWorkflow, env=h.env, **FAST_RETRIES) as wf:
        instance = await wf.create(id=iid)
        try:
            await instance.handle.result()
        except WorkflowFailureError:
            pass
        return instance, await instance.status()


def test_should_retry_categorises_by_status_in_message() -> None:
    for code in (400, 401, 403, 404):
        assert not should_retry(ApiError(f"API error: {code}"))
    for code in (408, 429, 500, 502, 503):
        assert should_retry(ApiError(f"API error: {code}"))
    assert should_retry(ConnectionError("connection reset"))


async def test_success_returns_the_data(tempflare_worker: Any, h: Harness) -> None:
    _, status = await run(tempflare_worker, h, "api-ok")
    assert status.status == "complete"
    assert status.output == {"data": ApiService.DATA}
    assert h.api.count("GET", "/data") == 1


@pytest.mark.parametrize("code", [400, 401, 403, 404])
async def test_client_errors_are_not_retried(tempflare_worker: Any, h: Harness, code: int) -> None:
    h.api.fail_next(99, status=code, body={"error": "nope"})

    instance, status = await run(tempflare_worker, h, f"api-{code}")

    assert status.status == "errored"
    assert status.error is not None
    assert (status.error.name, status.error.message) == ("NonRetryableError", f"API error: {code}")
    assert h.api.count("GET", "/data") == 1
    assert len(await step_attempts(instance.handle)) == 1


@pytest.mark.parametrize("code", [500, 502, 429])
async def test_server_errors_are_retried_until_success(
    tempflare_worker: Any, h: Harness, code: int
) -> None:
    h.api.fail_next(1, status=code)

    instance, status = await run(tempflare_worker, h, f"api-retry-{code}")

    assert status.status == "complete"
    assert status.output == {"data": ApiService.DATA}
    assert h.api.count("GET", "/data") == 2
    assert [a.failed for a in await step_attempts(instance.handle)] == [True, False]


async def test_network_errors_are_retried(tempflare_worker: Any, h: Harness) -> None:
    h.api.drop_next(1)

    _, status = await run(tempflare_worker, h, "api-network")

    assert status.status == "complete"
    assert h.api.count("GET", "/data") == 2


async def test_persistent_server_error_exhausts_default_retries(
    tempflare_worker: Any, h: Harness
) -> None:
    h.api.fail_next(99, status=503)

    _, status = await run(tempflare_worker, h, "api-outage")

    assert status.status == "errored"
    assert status.error is not None
    assert (status.error.name, status.error.message) == ("ApiError", "API error: 503")
    assert h.api.count("GET", "/data") == 6
