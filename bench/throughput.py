"""Throughput benchmarks: ``durable``, ``batched`` and ``per-step``.

The worker runs in this process, next to the client that starts the instances and waits for
their results, for both sides alike. Each side gets its own worker on a fresh task queue.
"""

from __future__ import annotations

import asyncio
import statistics
from typing import Any

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from adapter import Workflow, create_worker
from adapter._shared.config import Durability

from .common import (
    BenchResult,
    Figure,
    Options,
    Round,
    Side,
    Stopwatch,
    check_results,
    fresh_queue,
    mean_history_length,
    ratio_at_least,
    ratio_at_most,
    run_rounds,
    settle,
    tempflare_at_most,
)
from .workloads import NATIVE_ACTIVITIES, NativeActivities, NativeLocalActivities, TfSteps


async def run_tempflare_fleet(
    client: Client,
    *,
    durability: Durability,
    steps: int,
    instances: int,
    sync: bool = False,
) -> tuple[float, list[str]]:
    """Runs ``instances`` concurrent TfSteps instances; returns the seconds and their ids."""
    queue = fresh_queue(f"tf-{durability}")
    ids = [f"{queue}-{i}" for i in range(instances)]
    async with create_worker(client, task_queue=queue, workflows=[TfSteps], durability=durability):
        binding = Workflow(client, TfSteps, task_queue=queue)
        params = {"steps": steps, "sync": sync}
        await settle()
        with Stopwatch() as sw:
            created = await asyncio.gather(*(binding.create(id=i, params=params) for i in ids))
            results = await asyncio.gather(*(inst.handle.result() for inst in created))
    check_results(results, steps, f"tempflare {durability}")
    return sw.seconds, ids


async def run_native_fleet(
    client: Client, *, local: bool, steps: int, instances: int
) -> tuple[float, list[str]]:
    """Runs ``instances`` concurrent native instances (local or regular activities)."""
    kind = NativeLocalActivities if local else NativeActivities
    queue = fresh_queue("native-la" if local else "native-act")
    ids = [f"{queue}-{i}" for i in range(instances)]
    async with Worker(client, task_queue=queue, workflows=[kind], activities=NATIVE_ACTIVITIES):
        await settle()
        with Stopwatch() as sw:
            handles = await asyncio.gather(
                *(
                    client.start_workflow(kind.run, {"steps": steps}, id=i, task_queue=queue)
                    for i in ids
                )
            )
            results = await asyncio.gather(*(h.result() for h in handles))
    check_results(results, steps, f"native {kind.__name__}")
    return sw.seconds, ids


async def warm_up(env: WorkflowEnvironment) -> None:
    """Runs a few small untimed instances of every kind, so that imports, schema caches and
    connections are ready before the first round of whichever side goes first."""
    client = env.client
    for durability in ("durable", "batched"):
        await run_tempflare_fleet(client, durability=durability, steps=3, instances=10)
    await run_tempflare_fleet(client, durability="batched", steps=3, instances=10, sync=True)
    for local in (False, True):
        await run_native_fleet(client, local=local, steps=3, instances=10)


# ------------------------------------------------------------------------------- durable


async def bench_durable(env: WorkflowEnvironment, opts: Options) -> BenchResult:
    """tempflare durable mode (async callbacks) against native regular activities."""
    client, n, steps = env.client, opts.durable_instances, opts.durable_steps
    result = BenchResult(
        "durable",
        f"{n} concurrent instances x {steps} trivial steps; tempflare default (durable) mode "
        "against native regular activities (eager)",
        [
            Figure("inst_per_s", "instances/s", "inst/s", "≥ 1.0", ratio_at_least(1.0), fmt=".1f"),
            Figure("seconds", "wall time", "s", fmt=".2f"),
            Figure("events", "history events per instance", "events", fmt=".1f"),
        ],
    )

    async def measure(rnd: Round) -> None:
        for side in rnd.order:
            if side == "tempflare":
                seconds, ids = await run_tempflare_fleet(
                    client, durability="durable", steps=steps, instances=n
                )
            else:
                seconds, ids = await run_native_fleet(client, local=False, steps=steps, instances=n)
            rnd.put("inst_per_s", side, n / seconds)
            rnd.put("seconds", side, seconds)
            rnd.put("events", side, await mean_history_length(client, ids))

    return await run_rounds(result, opts.rounds, measure)


# ------------------------------------------------------------------------------- batched


async def bench_batched(env: WorkflowEnvironment, opts: Options) -> BenchResult:
    """tempflare batched mode against native local activities."""
    client, n, steps = env.client, opts.batched_instances, opts.batched_steps
    result = BenchResult(
        "batched",
        f"{n} concurrent instances x {steps} trivial steps; tempflare durability='batched' "
        "against native local activities (async callbacks and activities; plus tempflare with "
        "sync lambdas against the same native figure)",
        [
            Figure("steps_per_s", "steps/s", "steps/s", "≥ 0.95", ratio_at_least(0.95), fmt=".0f"),
            Figure("events_per_step", "history events per step", "events", "≤ 1.1",
                   ratio_at_most(1.1), fmt=".3f"),
            Figure("steps_per_s_sync", "steps/s, tempflare sync lambdas", "steps/s", fmt=".0f"),
        ],
    )  # fmt: skip

    async def measure(rnd: Round) -> None:
        total = n * steps
        for side in rnd.order:
            if side == "tempflare":
                seconds, ids = await run_tempflare_fleet(
                    client, durability="batched", steps=steps, instances=n
                )
                rnd.put("steps_per_s", side, total / seconds)
                rnd.put("events_per_step", side, await mean_history_length(client, ids) / steps)
                seconds, _ = await run_tempflare_fleet(
                    client, durability="batched", steps=steps, instances=n, sync=True
                )
                rnd.put("steps_per_s_sync", side, total / seconds)
            else:
                seconds, ids = await run_native_fleet(client, local=True, steps=steps, instances=n)
                rnd.put("steps_per_s", side, total / seconds)
                rnd.put("steps_per_s_sync", side, total / seconds)
                rnd.put("events_per_step", side, await mean_history_length(client, ids) / steps)

    return await run_rounds(result, opts.rounds, measure)


# ------------------------------------------------------------------------------- per-step


def per_step_reps(steps: int) -> int:
    """How many instances of one size run one after another: 10 of 10 steps, 1 of 1,000."""
    return max(1, min(10, 200 // steps))


async def _per_step_ms(
    client: Client, side: Side, durability: Durability, sizes: tuple[int, ...]
) -> dict[int, float]:
    """Median ms per step of instances of each size, run one at a time on one worker."""
    out: dict[int, float] = {}
    queue = fresh_queue(f"per-step-{side}-{durability}")
    local = durability == "batched"
    native_kind = NativeLocalActivities if local else NativeActivities
    worker = (
        create_worker(client, task_queue=queue, workflows=[TfSteps], durability=durability)
        if side == "tempflare"
        else Worker(client, task_queue=queue, workflows=[native_kind], activities=NATIVE_ACTIVITIES)
    )
    binding = Workflow(client, TfSteps, task_queue=queue)
    async with worker:
        await settle()
        for steps in sizes:
            times = []
            for rep in range(per_step_reps(steps)):
                wid = f"{queue}-{steps}-{rep}"
                with Stopwatch() as sw:
                    result: Any
                    if side == "tempflare":
                        inst = await binding.create(id=wid, params={"steps": steps})
                        result = await inst.handle.result()
                    else:
                        handle = await client.start_workflow(
                            native_kind.run, {"steps": steps}, id=wid, task_queue=queue
                        )
                        result = await handle.result()
                check_results([result], steps, f"{side} {durability} {steps} steps")
                times.append(sw.seconds)
            out[steps] = statistics.median(times) / steps * 1000
    return out


def per_step_figures(sizes: tuple[int, ...]) -> list[Figure]:
    """ms/step per mode and size, and each mode's largest/smallest ratio (target ≤ 1.2)."""
    figures = []
    for mode, native in (("durable", "activities"), ("batched", "local activities")):
        for steps in sizes:
            figures.append(
                Figure(
                    f"{mode}_ms_per_step_{steps}",
                    f"{mode} (native: {native}), {steps} steps",
                    "ms/step",
                    fmt=".3f",
                )
            )
        if len(sizes) > 1:
            big, small = max(sizes), min(sizes)
            figures.append(
                Figure(
                    f"{mode}_scaling",
                    f"{mode} ms/step {big:,} / {small:,} steps",
                    "",
                    "tempflare ≤ 1.2",
                    tempflare_at_most(1.2),
                    ratio=False,
                    fmt=".3f",
                )
            )
    return figures


async def bench_per_step(env: WorkflowEnvironment, opts: Options) -> BenchResult:
    """Per-step time of single instances of growing size."""
    client, sizes = env.client, opts.per_step_sizes
    result = BenchResult(
        "per-step",
        f"per-step time of {', '.join(map(str, sizes))}-step instances run one at a time "
        f"(median of {', '.join(str(per_step_reps(s)) for s in sizes)} instances), from "
        "create to result",
        per_step_figures(sizes),
    )

    async def measure(rnd: Round) -> None:
        modes: tuple[Durability, ...] = ("durable", "batched")
        for durability in modes:
            for side in rnd.order:
                ms = await _per_step_ms(client, side, durability, sizes)
                for steps, value in ms.items():
                    rnd.put(f"{durability}_ms_per_step_{steps}", side, value)
                if len(sizes) > 1:
                    rnd.put(f"{durability}_scaling", side, ms[max(sizes)] / ms[min(sizes)])

    return await run_rounds(result, opts.rounds, measure)
