"""Benchmark: tempflare against a native Temporal workflow doing the same work, in one run.

Each workflow runs STEPS steps (local activities returning a small dict) and one 100 ms timer.
The script starts N instances of each concurrently on a fresh dev server and prints wall time,
throughput, history events per instance and the worker process's peak RSS, side by side.

    make bench            # or: .venv/bin/python bench/run.py --instances 200
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio import activity, workflow
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapter import Workflow, WorkflowEntrypoint, WorkflowEvent, WorkflowStep, create_worker
from adapter.devserver import dev_server_extra_args, ensure_temporal_cli

STEPS = 5


class TempflareBench(WorkflowEntrypoint[None, dict]):
    async def run(self, event: WorkflowEvent[dict], step: WorkflowStep) -> Any:
        total = 0
        for n in range(STEPS):
            total += (await step.do(f"step {n}", lambda n=n: {"n": n}))["n"]
        await step.sleep("nap", 100)
        return {"total": total}


@activity.defn(name="native_step")
async def native_step(n: int) -> dict:
    return {"n": n}


@workflow.defn(name="NativeBench", sandboxed=False)
class NativeBench:
    @workflow.run
    async def run(self, _: dict) -> dict:
        total = 0
        for n in range(STEPS):
            result = await workflow.execute_local_activity(
                native_step, n, start_to_close_timeout=timedelta(seconds=10)
            )
            total += result["n"]
        await workflow.sleep(0.1)
        return {"total": total}


async def measure(label: str, start_one: Any, n: int) -> dict[str, Any]:
    started = time.perf_counter()
    handles = await asyncio.gather(*(start_one(i) for i in range(n)))
    results = await asyncio.gather(*(h.result() for h in handles))
    elapsed = time.perf_counter() - started
    assert all(r["total"] == sum(range(STEPS)) for r in results), results[:3]
    events = len((await handles[0].fetch_history()).events)
    return {"label": label, "seconds": elapsed, "per_second": n / elapsed, "events": events}


async def main(n: int) -> None:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(ensure_temporal_cli()),
        dev_server_extra_args=dev_server_extra_args(),
        data_converter=pydantic_data_converter,
    )
    client = env.client
    rows = []
    try:
        queue = f"bench-{uuid.uuid4().hex[:6]}"
        async with Worker(
            client, task_queue=queue + "-native", workflows=[NativeBench], activities=[native_step]
        ):
            rows.append(
                await measure(
                    "native temporalio",
                    lambda i: client.start_workflow(
                        "NativeBench", {}, id=f"native-{queue}-{i}", task_queue=queue + "-native"
                    ),
                    n,
                )
            )
        rss_native = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        async with create_worker(client, task_queue=queue, workflows=[TempflareBench]):
            binding = Workflow(client, TempflareBench, task_queue=queue)

            async def start(i: int) -> Any:
                return (await binding.create(id=f"tf-{queue}-{i}", params={})).handle

            rows.append(await measure("tempflare", start, n))
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    finally:
        await env.shutdown()
    print(f"\n{n} instances x ({STEPS} steps + one 100 ms sleep), one worker process\n")
    print(f"{'':20} {'wall s':>8} {'inst/s':>8} {'events/inst':>12}")
    for row in rows:
        print(
            f"{row['label']:20} {row['seconds']:8.2f} {row['per_second']:8.1f} {row['events']:12d}"
        )
    ratio = rows[1]["seconds"] / rows[0]["seconds"]
    print(f"\ntempflare / native wall time: {ratio:.2f}x")
    print(
        f"peak RSS after native: {rss_native / 1024:.0f} MiB; after tempflare: "
        f"{rss_after / 1024:.0f} MiB"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--instances", type=int, default=100)
    asyncio.run(main(parser.parse_args().instances))
