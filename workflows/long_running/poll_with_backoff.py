"""Polling an external job with exponential backoff until it completes, fails or times out.

Ports seed 000, "Long-Running Process Patterns / Pattern 1: Polling with Exponential Backoff".

``VideoProcessingWorkflow`` submits the video to the job processor (``submit video``), then polls
it: before attempt ``n`` (from 0) it sleeps ``wait attempt n`` for ``min(10 * 2^n, 300)`` seconds,
then reads the job in ``check status attempt n``, one step name per attempt. ``complete`` ends
the loop; ``failed`` raises ``NonRetryableError("Processing failed: <error>")``; after
``maxAttempts`` (20) polls it raises ``ProcessingTimeoutError("Processing timeout after maximum
attempts")``. The HTTP calls live in :mod:`activities.long_running.poll_with_backoff`.

``baseDelaySeconds`` (10), ``maxDelaySeconds`` (300) and ``maxAttempts`` (20) are params with the
seed's values as defaults, so demos and tests can poll fast. The TypeScript's
``new Error('Processing timeout ...')`` is ``ProcessingTimeoutError`` here, so the instance's
error name is ``ProcessingTimeoutError`` rather than ``Error``.
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel

from activities.long_running.poll_with_backoff import check_job_status, submit_video
from adapter import NonRetryableError, WorkflowEntrypoint, WorkflowEvent, WorkflowStep
from workflows._shared_env import SharedEnv


class ProcessingTimeoutError(Exception):
    """The job did not complete within ``maxAttempts`` polls."""


class VideoParams(BaseModel):
    videoId: str
    baseDelaySeconds: float = 10
    maxDelaySeconds: float = 300  # Max 5 minutes
    maxAttempts: int = 20


def backoff_seconds(attempt: int, base: float = 10, maximum: float = 300) -> float:
    """Wait before poll ``attempt``: 10 s, 20 s, 40 s, ... capped at 5 minutes."""
    return min(base * 2.0**attempt, maximum)


def seconds_label(seconds: float) -> str:
    """``${delay} seconds`` for whole and fractional (millisecond-rounded) values."""
    text = f"{seconds:.3f}".rstrip("0").rstrip(".")
    return f"{text} seconds"


class VideoProcessingWorkflow(WorkflowEntrypoint[SharedEnv, VideoParams], name="poll-with-backoff"):
    async def run(self, event: WorkflowEvent[VideoParams], step: WorkflowStep) -> dict[str, Any]:
        p = event.payload
        video_id = p.videoId

        # Submit video for processing
        async def submit() -> str:
            return await submit_video(self.env.PROCESSOR, video_id)

        job_id = await step.do("submit video", submit)

        # Poll for completion with exponential backoff
        complete = False
        attempt = 0
        max_attempts = p.maxAttempts

        while not complete and attempt < max_attempts:
            # Wait with exponential backoff: 10s, 20s, 40s, ...
            delay = backoff_seconds(attempt, p.baseDelaySeconds, p.maxDelaySeconds)
            await step.sleep(f"wait attempt {attempt}", seconds_label(delay))

            async def check_status() -> dict[str, Any]:
                return await check_job_status(self.env.PROCESSOR, job_id)

            status = await step.do(f"check status attempt {attempt}", check_status)

            if status.get("state") == "complete":
                complete = True
            elif status.get("state") == "failed":
                raise NonRetryableError(f"Processing failed: {status.get('error')}")

            attempt += 1

        if not complete:
            raise ProcessingTimeoutError("Processing timeout after maximum attempts")

        return {"videoId": video_id, "jobId": job_id, "status": "complete"}


WORKFLOW: Final = VideoProcessingWorkflow
EXAMPLE_PARAMS: Final[dict[str, Any]] = {
    "videoId": "video-123",
    "baseDelaySeconds": 0.2,
    "maxDelaySeconds": 1,
    "maxAttempts": 10,
}
EXPECTED_STATUS: Final = "complete"
EVENTS: Final[list[tuple[float, str, Any]]] = []

from workflows._shared_env import make_env as make_env  # noqa: E402  (the main job's env)
