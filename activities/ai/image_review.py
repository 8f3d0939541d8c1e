"""Side effects of the image-processing pipeline (seed 001, "Image Processing Pipeline").

Each function is the body of one step of ``workflows/ai/image_review.py``. Image bytes travel
between steps base64-encoded, because a step result must be JSON (the TypeScript returns an
``ArrayBuffer``, which Cloudflare's structured clone stores as is).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any, Final

from adapter.bindings import AI, R2Bucket, fetch

#: The Workers AI model the seed uses for image description.
DESCRIBE_MODEL: Final = "@cf/llava-hf/llava-1.5-7b-hf"


@dataclass
class ImageEnv:
    """``this.env`` of the image workflow: an R2 bucket and Workers AI."""

    BUCKET: R2Bucket
    AI: AI


class ImageNotFoundError(LookupError):
    """The image is neither in the bucket nor on the image host."""


async def fetch_image(env: ImageEnv, image_key: str, image_url: str | None = None) -> str:
    """Reads the image from R2 (or, when ``image_url`` is given, from an image host).

    Returns:
        The image bytes, base64-encoded.

    Raises:
        ImageNotFoundError: No such object, or the host answered 404.
        RuntimeError: The image host answered another error status.
    """
    if image_url is not None:
        response = await fetch(image_url)
        if response.status == 404:
            raise ImageNotFoundError(f"Image {image_url} not found on the image host")
        if not response.ok:
            raise RuntimeError(f"Image host error: {response.status}")
        data = await response.array_buffer()
    else:
        obj = await env.BUCKET.get(image_key)
        if obj is None:
            raise ImageNotFoundError(f"Image {image_key!r} not found in the bucket")
        data = await obj.arrayBuffer()
    return base64.b64encode(data).decode("ascii")


async def describe_image(env: ImageEnv, image_b64: str) -> dict[str, Any]:
    """Asks Workers AI to describe the image (at most 50 tokens)."""
    image = base64.b64decode(image_b64)
    return await env.AI.run(
        DESCRIBE_MODEL,
        {"image": list(image), "prompt": "Describe this image", "max_tokens": 50},
    )


async def publish_image(env: ImageEnv, image_key: str, image_b64: str) -> dict[str, Any]:
    """Copies the image to ``public/<key>`` in the bucket.

    Returns:
        The stored object's key, size and etag.
    """
    stored = await env.BUCKET.put(f"public/{image_key}", base64.b64decode(image_b64))
    return {"key": stored.key, "size": stored.size, "etag": stored.etag}
