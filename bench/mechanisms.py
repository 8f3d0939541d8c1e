"""How to make a step durable at once: the candidate mechanisms, measured side by side.

Native temporalio only (no tempflare code), on one dev server, so the figures compare Temporal
mechanisms and nothing else. Each workflow runs STEPS trivial steps; every variant but the plain
local activity records each step's result in history before the next step starts.

* ``regular, eager``: a regular activity on the workflow's task queue; the server hands it back
  in the response to the workflow task that scheduled it (eager dispatch).
* ``regular, own queue``: a regular activity on a queue only this worker polls (no eager
  dispatch across task queues in sdk-core): what a worker-specific queue costs.
* ``local + timer``: a local activity, then a 1 ms timer to force the task to complete. On a
  server with the default ``history.timerProcessorMaxTimeShift`` (1 s) this waits about 1 s.
* ``local + signal``: a local activity that signals its own run before returning, so the server
  starts the next task as soon as the one recording the result completes.
* ``local`` (batched): local activities only; results reach history when the task completes.

Latency is one instance at a time (ms per step); throughput is N concurrent instances.

    .venv/bin/python bench/mechanisms.py            # --instances 100 --steps 5 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapter.devserver import dev_server_extra_args, ensure_temporal_cli

ONE = RetryPolicy(maximum_attempts=1)
TIMEOUT = timedelta(seconds=30)


@activity.defn(name="mechanism_step")
async def step(n: int) -> int:
    return n


@activity.defn(name="mechanism_step_signal")
async def step_then_signal(n: int) -> int:
    info = activity.info()
    handle = activity.client().get_workflow_handle(
        info.workflow_id or "", run_id=info.workflow_run_id
    )
    await handle.signal("recorded", n)
    return n


@workflow.defn(name="Mechanism", sandboxed=False)
class Mechanism:
    def __init__(self) -> None:
        self.signalled = -1

    @workflow.signal(name="recorded")
    def recorded(self, n: int) -> None:
        self.signalled = n

    @workflow.run
    async def run(self, args: dict[str, Any]) -> int:
        mode, total = args["mode"], 0
        for n in range(args["steps"]):
            if mode.startswith("regular"):
                queue = args.get("own_queue") if mode == "regular, own queue" else None
                total += await workflow.execute_activity(
                    step, n, task_queue=queue, start_to_close_timeout=TIMEOUT, retry_policy=ONE
                )
            elif mode == "local + signal":
                total += await workflow.execute_local_activity(
                    step_then_signal, n, start_to_close_timeout=TIMEOUT, retry_policy=ONE
                )
                await workflow.wait_condition(lambda n=n: self.signalled >= n)  # type: ignore[misc]
            else:
                total += await workflow.execute_local_activity(
                    step, n, start_to_close_timeout=TIMEOUT, retry_policy=ONE
                )
                if mode == "local + timer":
                    await workflow.sleep(timedelta(milliseconds=1))
        return total


MODES = ["regular, eager", "regular, own queue", "local + timer", "local + signal", "local"]


async def run_many(client: Any, queue: str, own: str, mode: str, n: int, steps: int) -> float:
    """Starts ``n`` instances at once and returns instances per second."""
    started = time.perf_counter()
    handles = await asyncio.gather(
        *(
            client.start_workflow(
                "Mechanism",
                {"mode": mode, "steps": steps, "own_queue": own},
                id=f"mech-{uuid.uuid4().hex}",
                task_queue=queue,
            )
            for _ in range(n)
        )
    )
    results = await asyncio.gather(*(h.result() for h in handles))
    assert all(r == sum(range(steps)) for r in results)
    return n / (time.perf_counter() - started)


async def main(instances: int, steps: int, rounds: int, latency_steps: int) -> None:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(ensure_temporal_cli()),
        dev_server_extra_args=dev_server_extra_args(),
    )
    client = env.client
    queue = f"mech-{uuid.uuid4().hex[:8]}"
    own = f"{queue}-own"
    throughput: dict[str, list[float]] = {m: [] for m in MODES}
    latency: dict[str, list[float]] = {m: [] for m in MODES}
    events: dict[str, int] = {}
    try:
        async with (
            Worker(
                client,
                task_queue=queue,
                workflows=[Mechanism],
                activities=[step, step_then_signal],
            ),
            Worker(client, task_queue=own, activities=[step]),
        ):
            await run_many(client, queue, own, "regular, eager", 5, steps)  # warm up
            for _ in range(rounds):
                for mode in MODES:
                    throughput[mode].append(
                        await run_many(client, queue, own, mode, instances, steps)
                    )
                    handle = await client.start_workflow(
                        "Mechanism",
                        {"mode": mode, "steps": latency_steps, "own_queue": own},
                        id=f"mech-{uuid.uuid4().hex}",
                        task_queue=queue,
                    )
                    started = time.perf_counter()
                    await handle.result()
                    latency[mode].append((time.perf_counter() - started) * 1000 / latency_steps)
                    history = await handle.fetch_history()
                    events[mode] = len(history.events)
    finally:
        await env.shutdown()
    print(
        f"\n{instances} instances x {steps} steps (throughput), 1 instance x {latency_steps} "
        f"steps (latency), {rounds} rounds, one worker, one dev server\n"
    )
    print(f"{'mechanism':22} {'instances/s (each round)':>30} {'ms/step':>9} {'events/step':>12}")
    for mode in MODES:
        rounds_text = " ".join(f"{t:6.1f}" for t in throughput[mode])
        print(
            f"{mode:22} {rounds_text:>30} {statistics.median(latency[mode]):9.1f} "
            f"{events[mode] / latency_steps:12.2f}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=100)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency-steps", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(main(args.instances, args.steps, args.rounds, args.latency_steps))
