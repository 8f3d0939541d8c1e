"""Side effects of video processing (seed 000, "Long-Running Process Patterns / Pattern 1").

The job processor (``processor.example.com``, here the ``PROCESSOR`` service binding) takes a
job with ``POST /jobs`` and reports it at ``GET /jobs/<jobId>/status`` as
``{"state": "pending" | "complete" | "failed", "error"?: str}``.
"""

from __future__ import annotations

import json
from typing import Any

from adapter.bindings import Fetcher


class ProcessorError(Exception):
    """The job processor answered with an error status; the step retries."""


async def submit_video(processor: Fetcher, video_id: str) -> str:
    """The ``submit video`` step: returns the processor's ``jobId``."""
    response = await processor.fetch(
        "/jobs",
        {
            "method": "POST",
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"videoId": video_id}),
        },
    )
    if not response.ok:
        raise ProcessorError(f"Job submission failed: {response.status}")
    data = await response.json()
    return str(data["jobId"])


async def check_job_status(processor: Fetcher, job_id: str) -> dict[str, Any]:
    """A ``check status attempt <n>`` step: the job's status document."""
    response = await processor.fetch(f"/jobs/{job_id}/status")
    if not response.ok:
        raise ProcessorError(f"Status check failed: {response.status}")
    status: dict[str, Any] = await response.json()
    return status
