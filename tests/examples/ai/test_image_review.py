"""End-to-end tests of workflows/ai/image_review.py (seed 001, image processing pipeline)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from activities._demo.demo_server import DEMO_PNG
from activities._demo.http import HTTPService, Reply
from activities.ai.image_review import DESCRIBE_MODEL, ImageEnv
from adapter import InstanceStatus
from adapter.bindings import OfflineAI, R2Bucket
from tests.helpers import eventually, step_attempts
from workflows.ai.image_review import ImageProcessingWorkflow

pytestmark = pytest.mark.server

PNG = base64.b64decode(DEMO_PNG)
FAST_RETRIES = {"default_retry_delay": 0}


@pytest.fixture
def http() -> Iterator[HTTPService]:
    with HTTPService("stand-in") as server:
        yield server


@pytest.fixture
def env(tmp_path: Path) -> ImageEnv:
    return ImageEnv(BUCKET=R2Bucket(tmp_path / "bucket"), AI=OfflineAI())


async def expected_description(image: bytes) -> dict[str, Any]:
    return await OfflineAI().run(
        DESCRIBE_MODEL, {"image": list(image), "prompt": "Describe this image", "max_tokens": 50}
    )


async def wait_status(instance: Any, status: InstanceStatus) -> None:
    async def current() -> Any:
        return (await instance.status()).status

    await eventually(current, lambda s: s == status)


async def test_approved_image_is_described_and_published(
    tempflare_worker: Any, env: ImageEnv
) -> None:
    await env.BUCKET.put("uploads/cat.png", PNG)
    async with tempflare_worker(ImageProcessingWorkflow, env=env) as wf:
        instance = await wf.create(id="img-approved", params={"imageKey": "uploads/cat.png"})
        await wait_status(instance, InstanceStatus.WAITING)  # parked at "await approval"
        assert await env.BUCKET.head("public/uploads/cat.png") is None
        await instance.send_event("approved", {"by": "alice"})
        result = await instance.handle.result()
        status = await instance.status()

    assert status.status == "complete"
    description = await expected_description(PNG)
    assert description["description"].startswith("An image of 69 bytes")
    assert result["description"] == description
    assert result["approvedBy"] == "alice"
    published = await env.BUCKET.get("public/uploads/cat.png")
    assert published is not None and await published.bytes() == PNG
    assert result["published"] == {
        "key": "public/uploads/cat.png",
        "size": 69,
        "etag": published.etag,
    }
    names = [a.summary for a in await step_attempts(instance.handle)]
    assert names == ["fetch", "generate description", "publish"]


async def test_event_sent_before_the_wait_is_buffered(tempflare_worker: Any, env: ImageEnv) -> None:
    await env.BUCKET.put("early.png", PNG)
    async with tempflare_worker(ImageProcessingWorkflow, env=env) as wf:
        instance = await wf.create(id="img-early", params={"imageKey": "early.png"})
        await instance.send_event("approved", {"by": "bob"})
        result = await instance.handle.result()
    assert result["approvedBy"] == "bob"
    assert await env.BUCKET.head("public/early.png") is not None


async def test_no_approval_times_out_and_errors_without_publishing(
    tempflare_worker: Any, env: ImageEnv
) -> None:
    await env.BUCKET.put("slow.png", PNG)
    async with tempflare_worker(ImageProcessingWorkflow, env=env) as wf:
        instance = await wf.create(
            id="img-timeout", params={"imageKey": "slow.png", "approval_timeout_seconds": 1}
        )
        await wait_status(instance, InstanceStatus.WAITING)
        # an event of another type does not satisfy the wait
        await instance.send_event("rejected", {"by": "mallory"})
        await wait_status(instance, InstanceStatus.ERRORED)
        status = await instance.status()
    assert status.error is not None
    assert (status.error.name, status.error.message) == (
        "WorkflowTimeoutError",
        "Execution timed out after 1000ms",
    )
    assert await env.BUCKET.head("public/slow.png") is None


async def test_image_from_an_image_host(
    tempflare_worker: Any, env: ImageEnv, http: HTTPService
) -> None:
    jpeg = b"\xff\xd8\xff\xe0" + b"fake jpeg" * 10
    http.route("GET", "/img/dog.jpg", lambda _req: Reply(200, jpeg, {"Content-Type": "image/jpeg"}))
    params = {"imageKey": "dog.jpg", "imageUrl": f"{http.base_url}/img/dog.jpg"}
    async with tempflare_worker(ImageProcessingWorkflow, env=env) as wf:
        instance = await wf.create(id="img-host", params=params)
        await instance.send_event("approved", {"by": "carol"})
        result = await instance.handle.result()
    assert len(http.requests("GET", "/img/dog.jpg")) == 1
    published = await env.BUCKET.get("public/dog.jpg")
    assert published is not None and await published.bytes() == jpeg
    assert result["description"] == await expected_description(jpeg)


async def test_missing_image_is_retried_then_errors(tempflare_worker: Any, env: ImageEnv) -> None:
    async with tempflare_worker(ImageProcessingWorkflow, env=env, **FAST_RETRIES) as wf:
        instance = await wf.create(id="img-missing", params={"imageKey": "nope.png"})
        await wait_status(instance, InstanceStatus.ERRORED)
        status = await instance.status()
    assert status.error is not None
    assert status.error.name == "ImageNotFoundError"
    assert status.error.message == "Image 'nope.png' not found in the bucket"
    attempts = await step_attempts(instance.handle)
    # the seed's 'fetch' has the default config: 5 retries, so 6 attempts
    assert [a.activity_id for a in attempts] == [f"fetch#1@{n}" for n in range(1, 7)]
    assert all(a.failed for a in attempts)


async def test_flaky_image_host_is_retried(
    tempflare_worker: Any, env: ImageEnv, http: HTTPService
) -> None:
    http.route("GET", "/img/flaky.png", lambda _req: Reply(200, PNG, {"Content-Type": "image/png"}))
    http.fail_next(2, status=503, body="down", path="/img/flaky.png")
    params = {"imageKey": "flaky.png", "imageUrl": f"{http.base_url}/img/flaky.png"}
    async with tempflare_worker(ImageProcessingWorkflow, env=env, **FAST_RETRIES) as wf:
        instance = await wf.create(id="img-host-flaky", params=params)
        await instance.send_event("approved", {"by": "dave"})
        await instance.handle.result()
    assert len(http.requests(path="/img/flaky.png")) == 3
    attempts = await step_attempts(instance.handle)
    fetches = [a for a in attempts if a.summary == "fetch"]
    assert [a.failed for a in fetches] == [True, True, False]
    published = await env.BUCKET.get("public/flaky.png")
    assert published is not None and await published.bytes() == PNG
