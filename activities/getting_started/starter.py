"""Side effects of the starter workflow (seed 003, "Basic Workflow Example").

``call api`` fetches Cloudflare's IP list (``env.IPS_URL``, by default the seed's
``https://api.cloudflare.com/client/v4/ips``); ``write to storage`` fails at random as the
seed's does (``Math.random() > 0.5``), or on chosen attempts, and otherwise writes the file
list to R2.
"""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import dataclass
from typing import Any, Final

from adapter import StepContext
from adapter.bindings import R2Bucket, fetch

CLOUDFLARE_IPS_URL: Final = "https://api.cloudflare.com/client/v4/ips"
FILES: Final = ["doc_7392_rev3.pdf", "report_x29_final.pdf", "memo_2024_05_12.pdf"]


@dataclass
class StarterEnv:
    """``this.env`` of the starter workflow."""

    BUCKET: R2Bucket
    IPS_URL: str = CLOUDFLARE_IPS_URL


def fetch_files() -> dict[str, list[str]]:
    """The seed's ``fetch files`` step: a fixed list of documents."""
    return {"files": list(FILES)}


async def call_api(url: str) -> Any:
    """``let resp = await fetch(url); return await resp.json<any>();``."""
    response = await fetch(url)
    return await response.json()


async def write_to_storage(
    env: StarterEnv,
    ctx: StepContext,
    key: str,
    files: list[str],
    *,
    failure_rate: float,
    fail_attempts: int | None,
    hang_attempts: int,
) -> dict[str, Any]:
    """Writes ``{"files": [...]}`` to R2 at ``key``, after the seed's simulated trouble.

    Args:
        env: The env (R2 bucket).
        ctx: The step context (attempt number, resolved config).
        key: The R2 key to write.
        files: What to write.
        failure_rate: Chance that an attempt fails (the seed's 0.5), used when
            ``fail_attempts`` is None.
        fail_attempts: Fail exactly attempts 1..n instead of at random.
        hang_attempts: Attempts 1..n hang until the step's timeout cuts them off.

    Raises:
        RuntimeError: ``Simulated failure - will retry``.
    """
    if ctx.attempt <= hang_attempts:
        await asyncio.sleep(3600)
    if fail_attempts is not None:
        failing = ctx.attempt <= fail_attempts
    else:
        failing = random.random() < failure_rate
    if failing:
        raise RuntimeError("Simulated failure - will retry")
    await env.BUCKET.put(key, json.dumps({"files": files}))
    return {"written": key, "attempt": ctx.attempt, "config": dict(ctx.config)}
