"""Side effects of the fan-out workflow (seed 001, "Orchestration Patterns / Fan-Out").

``processFile`` is not defined in the seed; :func:`process_file` summarises a file's bytes and
rejects files that start with ``CORRUPT`` (the partial-failure case).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from adapter.bindings import R2Bucket


@dataclass
class FanOutEnv:
    """``this.env`` of the fan-out workflow: the R2 bucket whose files are processed."""

    BUCKET: R2Bucket


class CorruptFileError(ValueError):
    """The file's content cannot be processed."""


async def list_files(env: FanOutEnv) -> dict[str, Any]:
    """``this.env.BUCKET.list()``, as JSON: ``{"objects": [{"key", "size", ...}], ...}``."""
    listing = await env.BUCKET.list()
    return {
        "objects": [{"key": o.key, "size": o.size, "etag": o.etag} for o in listing["objects"]],
        "truncated": listing["truncated"],
    }


def process_file(data: bytes) -> dict[str, Any]:
    """Summarises one file: size, SHA-256 and line count.

    Raises:
        CorruptFileError: The file starts with ``CORRUPT``.
    """
    if data.startswith(b"CORRUPT"):
        raise CorruptFileError(f"cannot process a corrupt file of {len(data)} bytes")
    return {
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "lines": data.count(b"\n"),
    }


async def read_and_process(env: FanOutEnv, key: str) -> dict[str, Any]:
    """``processFile(await (await this.env.BUCKET.get(file.key)).arrayBuffer())``."""
    obj = await env.BUCKET.get(key)
    if obj is None:
        raise LookupError(f"File {key!r} disappeared from the bucket")
    return process_file(await obj.arrayBuffer())
