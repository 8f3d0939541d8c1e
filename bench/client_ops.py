"""Client-side benchmarks: ``create_batch`` and ``status``. No worker runs while they are timed."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from adapter import InstanceStatus, Workflow
from adapter._shared.config import Durability

from .common import (
    BenchResult,
    Figure,
    Options,
    Round,
    Side,
    Stopwatch,
    check_results,
    expected_total,
    fresh_queue,
    ratio_at_most,
    run_rounds,
    settle,
    terminate_all,
)
from .throughput import run_native_fleet, run_tempflare_fleet
from .workloads import NativeActivities, TfSteps

#: Interleaved batches per side in one round of ``create_batch``; the round keeps the median.
BATCHES_PER_ROUND = 3


# --------------------------------------------------------------------------- create_batch


async def bench_create_batch(env: WorkflowEnvironment, opts: Options) -> BenchResult:
    """``binding.create_batch`` of N items against N concurrent ``client.start_workflow``."""
    client, n = env.client, opts.batch_size
    result = BenchResult(
        "create_batch",
        f"binding.create_batch of {n} items against {n} concurrent client.start_workflow "
        f"calls, no worker (median of {BATCHES_PER_ROUND} interleaved batches per round; "
        "instances terminated afterwards)",
        [Figure("seconds", f"seconds for {n} starts", "s", fmt=".3f")],
    )

    async def tempflare_batch(queue: str, tag: int) -> tuple[float, list[str]]:
        binding = Workflow(client, TfSteps, task_queue=queue)
        items = [{"id": f"{queue}-{tag}-{i}", "params": {"steps": 1}} for i in range(n)]
        with Stopwatch() as sw:
            created = await binding.create_batch(items)
        ids = [inst.id for inst in created]
        if ids != [item["id"] for item in items]:
            raise AssertionError(f"create_batch created {len(ids)} of {n} instances")
        return sw.seconds, ids

    async def native_batch(queue: str, tag: int) -> tuple[float, list[str]]:
        ids = [f"{queue}-{tag}-{i}" for i in range(n)]
        with Stopwatch() as sw:
            handles = await asyncio.gather(
                *(
                    client.start_workflow(
                        NativeActivities.run, {"steps": 1}, id=i, task_queue=queue
                    )
                    for i in ids
                )
            )
        if [h.id for h in handles] != ids:
            raise AssertionError("native starts returned the wrong handles")
        return sw.seconds, ids

    async def measure(rnd: Round) -> None:
        times: dict[Side, list[float]] = {"tempflare": [], "native": []}
        started: list[str] = []
        queues = {side: fresh_queue(f"batch-{side}") for side in rnd.order}
        for tag in range(BATCHES_PER_ROUND):
            for side in rnd.order:
                start = tempflare_batch if side == "tempflare" else native_batch
                await settle(0.5)
                seconds, ids = await start(queues[side], tag)
                times[side].append(seconds)
                started += ids
        # Every instance exists and is running (no worker has picked it up).
        for wid in (started[0], started[-1]):
            desc = await client.get_workflow_handle(wid).describe()
            if desc.status != WorkflowExecutionStatus.RUNNING:
                raise AssertionError(f"{wid} is {desc.status}, expected RUNNING")
        await terminate_all(client, started)
        for side, values in times.items():
            rnd.put("seconds", side, statistics.median(values))

    return await run_rounds(result, opts.rounds, measure)


# --------------------------------------------------------------------------------- status


async def _median_ms(call: Callable[[], Awaitable[Any]], calls: int) -> float:
    for _ in range(3):  # warm-up: connections, caches
        await call()
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        await call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def status_figures(sizes: tuple[int, ...]) -> list[Figure]:
    figures = []
    big = max(sizes)
    for mode, native in (("durable", "activities"), ("batched", "local activities")):
        for steps in sizes:
            target = ("≤ 1.5", ratio_at_most(1.5)) if steps == big else ("", None)
            figures.append(
                Figure(
                    f"status_{mode}_{steps}",
                    f"status() vs describe(), {mode} ({native}), {steps:,} steps",
                    "ms",
                    target[0],
                    target[1],
                    fmt=".2f",
                )
            )
            figures.append(
                Figure(
                    f"status_result_{mode}_{steps}",
                    f"status() vs describe()+result(), {mode}, {steps:,} steps",
                    "ms",
                    fmt=".2f",
                )
            )
    return figures


async def bench_status(env: WorkflowEnvironment, opts: Options) -> BenchResult:
    """``instance.status()`` against ``handle.describe()`` on completed instances."""
    client, sizes, calls = env.client, opts.status_sizes, opts.status_calls
    result = BenchResult(
        "status",
        f"median latency of {calls} sequential calls on one completed instance per shape "
        f"({', '.join(f'{s:,}' for s in sizes)} steps; made once, before the rounds; no worker "
        "running): tempflare status() against native describe() (and describe() + result())",
        status_figures(sizes),
    )
    print(f"\n(status: preparing {4 * len(sizes)} completed instances)", flush=True)
    modes: tuple[Durability, ...] = ("durable", "batched")
    tf_ids: dict[tuple[str, int], str] = {}
    native_ids: dict[tuple[str, int], str] = {}
    setup: dict[str, float] = {}
    for mode in modes:
        for steps in sizes:
            seconds, ids = await run_tempflare_fleet(
                client, durability=mode, steps=steps, instances=1
            )
            tf_ids[mode, steps] = ids[0]
            setup[f"tempflare_{mode}_{steps}"] = seconds
            seconds, ids = await run_native_fleet(
                client, local=mode == "batched", steps=steps, instances=1
            )
            native_ids[mode, steps] = ids[0]
            setup[f"native_{mode}_{steps}"] = seconds
    result.extra["setup_seconds"] = setup
    binding = Workflow(client, TfSteps, task_queue="unused")

    async def measure(rnd: Round) -> None:
        for side in rnd.order:
            for (mode, steps), wid in (tf_ids if side == "tempflare" else native_ids).items():
                if side == "tempflare":
                    instance = await binding.get(wid)
                    details = await instance.status()
                    if details.status != InstanceStatus.COMPLETE or details.output != {
                        "total": expected_total(steps),
                        "steps": steps,
                    }:
                        raise AssertionError(f"status() of {wid} returned {details!r}")
                    ms = await _median_ms(instance.status, calls)
                    rnd.put(f"status_{mode}_{steps}", side, ms)
                    rnd.put(f"status_result_{mode}_{steps}", side, ms)
                else:
                    handle = client.get_workflow_handle(wid)
                    desc = await handle.describe()
                    if desc.status != WorkflowExecutionStatus.COMPLETED:
                        raise AssertionError(f"{wid} is {desc.status}")
                    check_results([await handle.result()], steps, wid)

                    async def both(handle: Any = handle) -> None:
                        await handle.describe()
                        await handle.result()

                    rnd.put(
                        f"status_{mode}_{steps}", side, await _median_ms(handle.describe, calls)
                    )
                    rnd.put(f"status_result_{mode}_{steps}", side, await _median_ms(both, calls))

    return await run_rounds(result, opts.rounds, measure)
