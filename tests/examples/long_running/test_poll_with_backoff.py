"""End-to-end tests of workflows/long_running/poll_with_backoff.py (seed 000's
VideoProcessingWorkflow): submit, then poll with exponential backoff."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, WorkflowFailureError

from tests.examples.shared_env_harness import FAST_RETRIES, Harness, shared_env_harness
from tests.helpers import step_attempts, timers
from workflows.long_running.poll_with_backoff import (
    VideoProcessingWorkflow,
    backoff_seconds,
    seconds_label,
)

pytestmark = pytest.mark.server

FAST = {"baseDelaySeconds": 0.05, "maxDelaySeconds": 0.15}


@pytest.fixture
async def h(tmp_path: Path, tempflare_client: Client, task_queue: str) -> AsyncIterator[Harness]:
    async with shared_env_harness(tmp_path, tempflare_client, task_queue) as harness:
        yield harness


async def run(tempflare_worker: Any, h: Harness, iid: str, **params: Any) -> tuple[Any, Any]:
    params = {"videoId": "vid-1", **FAST, **params}
    async with tempflare_worker(VideoProcessingWorkflow, env=h.env, **FAST_RETRIES) as wf:
        instance = await wf.create(id=iid, params=params)
        try:
            await instance.handle.result()
        except WorkflowFailureError:
            pass
        return instance, await instance.status()


def test_backoff_doubles_from_10_seconds_up_to_5_minutes() -> None:
    assert [backoff_seconds(n) for n in range(7)] == [10, 20, 40, 80, 160, 300, 300]
    assert [seconds_label(backoff_seconds(n)) for n in (0, 5)] == ["10 seconds", "300 seconds"]
    assert seconds_label(0.05 * 2**1) == "0.1 seconds"


async def test_polls_with_backoff_until_complete(tempflare_worker: Any, h: Harness) -> None:
    h.processor.script = ["pending", "pending", "complete"]

    instance, status = await run(tempflare_worker, h, "video-ok")

    assert status.status == "complete"
    assert status.output == {"videoId": "vid-1", "jobId": "job-1", "status": "complete"}
    [submitted] = h.processor.requests("POST", "/jobs")
    assert submitted.json() == {"videoId": "vid-1"}
    assert h.processor.count("GET", "/jobs/job-1/status") == 3
    # one sleep and one step name per attempt; 0.05 s, 0.1 s, then capped at 0.15 s
    assert [(t.summary, t.seconds) for t in await timers(instance.handle)] == [
        ("wait attempt 0", 0.05),
        ("wait attempt 1", 0.1),
        ("wait attempt 2", 0.15),
    ]
    assert [a.activity_id for a in await step_attempts(instance.handle)] == [
        "submit video#1@1",
        "check status attempt 0#1@1",
        "check status attempt 1#1@1",
        "check status attempt 2#1@1",
    ]


async def test_failed_job_errors_without_retry(tempflare_worker: Any, h: Harness) -> None:
    h.processor.script = ["pending", "failed"]

    _, status = await run(tempflare_worker, h, "video-failed")

    assert status.status == "errored"
    assert status.error is not None
    assert (status.error.name, status.error.message) == (
        "NonRetryableError",
        "Processing failed: codec not supported",
    )
    assert h.processor.count("GET", "/jobs/job-1/status") == 2


async def test_gives_up_after_max_attempts(tempflare_worker: Any, h: Harness) -> None:
    h.processor.script = ["pending"]

    instance, status = await run(tempflare_worker, h, "video-timeout", maxAttempts=3)

    assert status.status == "errored"
    assert status.error is not None
    assert (status.error.name, status.error.message) == (
        "ProcessingTimeoutError",
        "Processing timeout after maximum attempts",
    )
    assert h.processor.count("GET", "/jobs/job-1/status") == 3
    assert [t.summary for t in await timers(instance.handle)] == [
        "wait attempt 0",
        "wait attempt 1",
        "wait attempt 2",
    ]


async def test_failed_submit_and_status_calls_are_retried(
    tempflare_worker: Any, h: Harness
) -> None:
    h.processor.script = ["complete"]
    h.processor.fail_next(1, status=503, method="POST", path="/jobs")
    h.processor.fail_next(1, status=500, path="/jobs/job-1/status")

    instance, status = await run(tempflare_worker, h, "video-flaky")

    assert status.status == "complete"
    assert h.processor.count("POST", "/jobs") == 2
    assert h.processor.count("GET", "/jobs/job-1/status") == 2
    attempts = [(a.activity_id, a.failed) for a in await step_attempts(instance.handle)]
    assert attempts == [
        ("submit video#1@1", True),
        ("submit video#1@2", False),
        ("check status attempt 0#1@1", True),
        ("check status attempt 0#1@2", False),
    ]
