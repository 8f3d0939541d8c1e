"""Image review: AI describes an image, a person approves it, then it is published.

Ports seed 001, "Workflow Patterns / Image Processing Pipeline".

TypeScript (abridged)::

    const imageData = await step.do('fetch', async () =>
        (await this.env.BUCKET.get(event.params.imageKey)).arrayBuffer());
    const description = await step.do('generate description', async () =>
        await this.env.AI.run('@cf/llava-hf/llava-1.5-7b-hf',
            {image: Array.from(new Uint8Array(imageData)), prompt: 'Describe this image',
             max_tokens: 50}));
    await step.waitForEvent('await approval', { event: 'approved', timeout: '24h' });
    await step.do('publish', async () =>
        await this.env.BUCKET.put(`public/${event.params.imageKey}`, imageData));

Differences from the TypeScript, all forced or fixing a seed bug:

* ``event.params`` does not exist in Cloudflare (it is ``event.payload``): ported as
  ``event.payload``.
* ``waitForEvent`` takes ``{type, timeout}``; the seed's ``{event: 'approved'}`` would wait for
  an event of type ``undefined``. Ported as ``type="approved"``. There is no try/catch, so a
  timeout errors the instance with ``WorkflowTimeoutError``, as in Cloudflare.
* The image travels between steps base64-encoded (a step result must be JSON, not an
  ``ArrayBuffer``); the 1 MiB step limit therefore caps images at about 750 KiB. For bigger
  images store a reference instead (see :mod:`workflows.long_running.etl_pipeline`).
* Extension: ``imageUrl`` fetches the image from an HTTP image host instead of R2.
* ``run`` returns a summary (the seed returns nothing).
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel
from temporalio.client import Client

from activities._demo.demo_server import DEMO_PNG
from activities.ai.image_review import ImageEnv, describe_image, fetch_image, publish_image
from adapter import WorkflowEntrypoint, WorkflowEvent, WorkflowStep
from adapter.bindings import OfflineAI
from workflows._helpers import r2_bucket, run_blocking, shortened


class ImageParams(BaseModel):
    """``event.payload``: the image's R2 key, plus test/demo knobs."""

    imageKey: str
    #: Fetch the image from this URL (an image host) instead of the bucket.
    imageUrl: str | None = None
    #: Shortens the seed's 24 h approval timeout.
    approval_timeout_seconds: float | None = None


class ImageProcessingWorkflow(WorkflowEntrypoint[ImageEnv, ImageParams], name="image-review"):
    """Fetch an image, describe it with AI, wait for a human's approval, then publish it."""

    async def run(self, event: WorkflowEvent[ImageParams], step: WorkflowStep) -> dict[str, Any]:
        params = event.payload
        env = self.env

        image_data = await step.do(
            "fetch", lambda: fetch_image(env, params.imageKey, params.imageUrl)
        )
        description = await step.do("generate description", lambda: describe_image(env, image_data))
        approval = await step.wait_for_event(
            "await approval",
            type="approved",
            timeout=shortened(params.approval_timeout_seconds, "24h"),
        )
        published = await step.do(
            "publish", lambda: publish_image(env, params.imageKey, image_data)
        )
        return {
            "imageKey": params.imageKey,
            "description": description,
            "approvedBy": approval.payload.get("by")
            if isinstance(approval.payload, dict)
            else None,
            "published": published,
        }


# ------------------------------------------------------------------------------ demo run

EXAMPLE_PARAMS: Final[dict[str, Any]] = {"imageKey": "demo/cat.png", "approval_timeout_seconds": 30}
EXPECTED_STATUS: Final = "complete"
EVENTS: Final[list[tuple[float, str, object]]] = [(1.0, "approved", {"by": "demo-reviewer"})]


async def _demo_env(root: Path) -> ImageEnv:
    """An env for the demo run: a bucket under ``root`` holding ``demo/cat.png``, offline AI."""
    env = ImageEnv(BUCKET=r2_bucket(root, "image_review"), AI=OfflineAI())
    await env.BUCKET.put("demo/cat.png", base64.b64decode(DEMO_PNG))
    return env


def make_env(data_dir: str | Path, client: Client, task_queue: str) -> ImageEnv:
    """The env of the demo run (the ``make_env`` hook of ``workflows/__init__.py``)."""
    return run_blocking(_demo_env(Path(data_dir)))
