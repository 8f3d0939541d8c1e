"""Parallel fan-out: one step per file, all running at once.

Ports seed 001, "Orchestration Patterns / Fan-Out (Parallel Processing)".

TypeScript::

    const files = await step.do('list', async () => this.env.BUCKET.list());
    await Promise.all(files.objects.map((file, i) => step.do(`process ${i}`, async () =>
        processFile(await (await this.env.BUCKET.get(file.key)).arrayBuffer()))));

``Promise.all`` becomes ``asyncio.gather``: every ``process i`` step runs concurrently (one
local activity each), named deterministically by index. As with ``Promise.all``, the first
step that fails for good (after its retries) fails ``run()`` and errors the instance; the other
steps still run to completion in the meantime.

Differences: the ``list`` step returns the listing as plain JSON (key, size, etag) rather than
``R2Object`` instances; ``run`` returns the per-file results (the seed discards them).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Final

from temporalio.client import Client

from activities.orchestration.parallel_fan_out import FanOutEnv, list_files, read_and_process
from adapter import WorkflowEntrypoint, WorkflowEvent, WorkflowStep
from workflows._helpers import r2_bucket, run_blocking


class FanOutWorkflow(WorkflowEntrypoint[FanOutEnv, dict[str, Any]], name="parallel-fan-out"):
    """Process every file of the bucket, one parallel step per file."""

    async def run(self, event: WorkflowEvent[dict[str, Any]], step: WorkflowStep) -> dict[str, Any]:
        env = self.env
        files = await step.do("list", lambda: list_files(env))
        results = await asyncio.gather(
            *(
                step.do(f"process {i}", lambda key=file["key"]: read_and_process(env, key))
                for i, file in enumerate(files["objects"])
            )
        )
        return {
            "processed": [
                {"key": file["key"], **result}
                for file, result in zip(files["objects"], results, strict=True)
            ]
        }


# ------------------------------------------------------------------------------ demo run

EXAMPLE_PARAMS: Final[dict[str, Any]] = {}
EXPECTED_STATUS: Final = "complete"
EVENTS: Final[list[tuple[float, str, object]]] = []


async def _demo_env(root: Path) -> FanOutEnv:
    """An env for the demo run: a bucket with five small text files."""
    env = FanOutEnv(BUCKET=r2_bucket(root, "fan-out"))
    for i in range(5):
        await env.BUCKET.put(f"inbox/file-{i}.txt", "line\n" * (i + 1))
    return env


def make_env(data_dir: str | Path, client: Client, task_queue: str) -> FanOutEnv:
    """The env of the demo run (the ``make_env`` hook of ``workflows/__init__.py``)."""
    return run_blocking(_demo_env(Path(data_dir)))
