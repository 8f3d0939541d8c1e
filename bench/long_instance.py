"""A 10,000-step instance, in durable and in batched step mode, on one dev server.

First measures the history cost per step (one run, continue-as-new off, ``--probe`` steps), then
runs ``--steps`` steps (10,000 by default) with tempflare's default continue-as-new threshold and
reports the duration, the number of runs, the events of the whole chain, and that ``status()``
and ``steps()`` read the whole instance back.

    make bench-long                                   # both modes, 10,000 steps
    .venv/bin/python bench/long_instance.py --steps 2000 --modes batched
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from temporalio.testing import WorkflowEnvironment

from adapter import (
    Workflow,
    WorkflowEntrypoint,
    WorkflowEvent,
    WorkflowStep,
    create_worker,
)
from adapter._client.connection import data_converter
from adapter._client.history import run_chain
from adapter.devserver import dev_server_extra_args, ensure_temporal_cli


class ManySteps(WorkflowEntrypoint[None, dict]):
    """``steps`` trivial steps in sequence; returns their sum."""

    async def run(self, event: WorkflowEvent[dict], step: WorkflowStep) -> Any:
        total = 0
        for i in range(event.payload["steps"]):
            total += await step.do(f"step {i}", lambda i=i: i)
        return {"total": total, "steps": event.payload["steps"]}


async def one_instance(
    env: WorkflowEnvironment, mode: str, steps: int, after: int | None
) -> dict[str, Any]:
    queue = f"long-{mode}-{uuid.uuid4().hex[:8]}"
    client = env.client
    options: dict[str, Any] = {"continue_as_new_after": after}
    async with create_worker(
        client, task_queue=queue, workflows=[ManySteps], durability=mode, **options
    ):
        binding = Workflow(client, ManySteps, task_queue=queue)
        started = time.perf_counter()
        instance = await binding.create(params={"steps": steps})
        while not (status := await instance.status()).status.is_final:  # noqa: ASYNC110
            await asyncio.sleep(0.2)
        elapsed = time.perf_counter() - started
    assert status.status == "complete", status
    assert status.output == {"total": steps * (steps - 1) // 2, "steps": steps}, status.output
    chain = await run_chain(client, instance.id)
    read = time.perf_counter()
    records = await instance.steps()
    read = time.perf_counter() - read
    assert len(records) == steps and all(r.success for r in records)
    events = sum(len(run.events) for run in chain)
    return {
        "mode": mode,
        "steps": steps,
        "seconds": round(elapsed, 1),
        "ms/step": round(elapsed * 1000 / steps, 2),
        "runs": len(chain),
        "events": events,
        "events/step": round(events / steps, 2),
        "largest run (events)": max(len(run.events) for run in chain),
        "steps() seconds": round(read, 1),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--probe", type=int, default=200, help="steps of the history probe")
    parser.add_argument("--modes", default="durable,batched")
    args = parser.parse_args()
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(ensure_temporal_cli()),
        dev_server_extra_args=dev_server_extra_args(),
        data_converter=data_converter(),
    )
    try:
        for mode in args.modes.split(","):
            probe = await one_instance(env, mode, args.probe, None)
            print(
                f"{mode}: history per step without continue-as-new: "
                f"{probe['events/step']} events ({probe['events']} for {args.probe} steps)",
                flush=True,
            )
            print(await one_instance(env, mode, args.steps, 10_000), flush=True)
    finally:
        await env.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
