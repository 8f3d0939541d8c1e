"""The ``memory`` benchmark: worker RSS with many sleeping instances.

Each measurement runs the worker in its own process (:mod:`bench.memory_worker`), so that its RSS
holds nothing but the worker. This process reads ``VmRSS`` from ``/proc/<pid>/status``: once the
worker is idle before any instance starts (baseline), once ``--memory-checkpoint`` instances
sleep, and once all ``--memory-instances`` do. "Sleeping" means the worker saw every instance reach
its sleep (a counter the workflow code bumps outside replay) and its CPU has gone quiet, so the
workflow task that starts the timer has completed too. The instances are terminated afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from adapter import InstanceStatus, Workflow

from .common import (
    BenchResult,
    Figure,
    Options,
    Round,
    Side,
    fresh_queue,
    gather_limited,
    ratio_at_most,
    run_rounds,
    tempflare_at_most,
    terminate_all,
)
from .workloads import NativeSleeper, TfSleeper

ROOT = Path(__file__).resolve().parents[1]
#: Native temporalio's default ``max_cached_workflows``.
DEFAULT_CACHE = 1000
START_CONCURRENCY = 100
#: The worker counts as idle when it used less than this share of one core over IDLE_WINDOW s.
IDLE_CPU_SHARE = 0.03
IDLE_WINDOW = 1.0
SETTLE_TIMEOUT = 1800.0
_TICKS = os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    """The process's resident set size (``VmRSS``), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


@dataclass
class WorkerProcess:
    """A running :mod:`bench.memory_worker` process."""

    process: subprocess.Popen[bytes]
    status_file: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def reached(self) -> int:
        try:
            return int(json.loads(self.status_file.read_text())["reached"])
        except (FileNotFoundError, json.JSONDecodeError, KeyError):
            return -1

    async def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while self.reached() < 0:
            if self.process.poll() is not None:
                raise RuntimeError(f"memory worker exited with code {self.process.returncode}")
            if time.monotonic() > deadline:
                raise TimeoutError("memory worker did not start")
            await asyncio.sleep(0.1)

    async def wait_settled(self, reached: int, timeout: float = SETTLE_TIMEOUT) -> None:
        """Waits until ``reached`` instances reached their sleep and the worker is idle."""
        deadline = time.monotonic() + timeout
        while True:
            before = cpu_seconds(self.pid)
            await asyncio.sleep(IDLE_WINDOW)
            busy = (cpu_seconds(self.pid) - before) / IDLE_WINDOW
            if self.process.poll() is not None:
                raise RuntimeError(f"memory worker exited with code {self.process.returncode}")
            if self.reached() >= reached and busy < IDLE_CPU_SHARE:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{self.reached()} of {reached} instances asleep after {timeout:.0f} s"
                )

    async def stop(self) -> None:
        self.process.terminate()
        for _ in range(600):
            if self.process.poll() is not None:
                return
            await asyncio.sleep(0.1)
        self.process.kill()
        self.process.wait()


def spawn_worker(
    client: Client,
    side: Side,
    queue: str,
    max_cached: int | None,
    status_file: Path,
    mode: str,
) -> WorkerProcess:
    config = client.service_client.config
    command = [
        sys.executable,
        "-m",
        "bench.memory_worker",
        "--address",
        config.target_host,
        "--namespace",
        client.namespace,
        "--task-queue",
        queue,
        "--kind",
        side,
        "--status-file",
        str(status_file),
        "--durability",
        mode,
    ]
    if max_cached is not None:
        command += ["--max-cached", str(max_cached)]
    return WorkerProcess(subprocess.Popen(command, cwd=ROOT), status_file)


async def _start_sleepers(
    client: Client, side: Side, queue: str, ids: list[str], mode: str
) -> None:
    if side == "tempflare":
        binding = Workflow(client, TfSleeper, task_queue=queue)
        await gather_limited(lambda i: binding.create(id=i), ids, START_CONCURRENCY)
    else:
        params = {"local": mode == "batched"}
        await gather_limited(
            lambda i: client.start_workflow(NativeSleeper.run, params, id=i, task_queue=queue),
            ids,
            START_CONCURRENCY,
        )


async def _check_sleeping(client: Client, side: Side, queue: str, ids: list[str]) -> None:
    """All instances are running; a sample of them has a timer started (and reports waiting)."""
    query = f"TaskQueue = '{queue}' AND ExecutionStatus = 'Running'"
    deadline = time.monotonic() + 60
    while (running := (await client.count_workflows(query)).count) != len(ids):
        if time.monotonic() > deadline:  # visibility may lag a little behind, not this much
            raise AssertionError(f"{running} of {len(ids)} sleepers running on {queue}")
        await asyncio.sleep(0.5)
    binding = Workflow(client, TfSleeper, task_queue=queue)
    for wid in ids[:: max(1, len(ids) // 5)]:
        handle = client.get_workflow_handle(wid)
        history = await handle.fetch_history()
        if not any(event.HasField("timer_started_event_attributes") for event in history.events):
            raise AssertionError(f"{wid} has no timer started")
        if side == "tempflare":
            status = (await (await binding.get(wid)).status()).status
            if status != InstanceStatus.WAITING:
                raise AssertionError(f"{wid} is {status}, expected waiting")
        elif (await handle.describe()).status != WorkflowExecutionStatus.RUNNING:
            raise AssertionError(f"{wid} is not running")


async def measure_worker(
    client: Client, side: Side, max_cached: int | None, opts: Options
) -> dict[str, float]:
    """RSS of one worker process at baseline, checkpoint and N sleeping instances (KiB)."""
    n = opts.memory_instances
    checkpoint = min(opts.memory_checkpoint, n)
    queue = fresh_queue(f"mem-{side}")
    ids = [f"{queue}-{i}" for i in range(n)]
    with tempfile.TemporaryDirectory() as tmp:
        worker = spawn_worker(
            client, side, queue, max_cached, Path(tmp) / "status.json", opts.memory_mode
        )
        try:
            await worker.wait_ready()
            await worker.wait_settled(0)
            out: dict[str, float] = {"baseline": rss_kib(worker.pid)}
            started = time.perf_counter()
            await _start_sleepers(client, side, queue, ids[:checkpoint], opts.memory_mode)
            await worker.wait_settled(checkpoint)
            out["checkpoint"] = rss_kib(worker.pid)
            await _start_sleepers(client, side, queue, ids[checkpoint:], opts.memory_mode)
            await worker.wait_settled(n)
            out["seconds"] = time.perf_counter() - started
            out["final"] = rss_kib(worker.pid)
            checked = time.perf_counter()
            await _check_sleeping(client, side, queue, ids)
            if time.perf_counter() - checked > 5:
                print(f"    (checking took {time.perf_counter() - checked:.0f} s)", flush=True)
        finally:
            await worker.stop()
            with contextlib.suppress(Exception):
                await terminate_all(client, ids, limit=START_CONCURRENCY)
    return out


def memory_figures(opts: Options) -> list[Figure]:
    n, cp, small = (
        opts.memory_instances,
        min(opts.memory_checkpoint, opts.memory_instances),
        (opts.memory_small_cache),
    )
    figures: list[Figure] = []
    for cache, label in (
        ("default", f"default cache ({DEFAULT_CACHE})"),
        ("small", f"cache {small}"),
    ):
        figures += [
            Figure(f"kib_per_cached_{cache}", f"KiB per cached sleeper, {label}", "KiB",
                   "≤ 1.1", ratio_at_most(1.1), fmt=".1f"),
            Figure(f"growth_pct_{cache}", f"RSS growth {cp:,} → {n:,} sleepers, {label}", "%",
                   "tempflare ≤ 5 (flat)" if cache == "small" else "",
                   tempflare_at_most(5.0) if cache == "small" else None, ratio=False, fmt=".1f"),
            Figure(f"baseline_mib_{cache}", f"baseline RSS, {label}", "MiB", fmt=".1f"),
            Figure(f"rss_checkpoint_mib_{cache}", f"RSS at {cp:,} sleepers, {label}", "MiB",
                   fmt=".1f"),
            Figure(f"rss_final_mib_{cache}", f"RSS at {n:,} sleepers, {label}", "MiB", fmt=".1f"),
            Figure(f"start_per_s_{cache}", f"sleepers started and asleep per s, {label}",
                   "inst/s", fmt=".1f"),
        ]  # fmt: skip
    return figures


async def bench_memory(env: WorkflowEnvironment, opts: Options) -> BenchResult:
    """Worker RSS with N sleeping instances, default and small workflow cache."""
    client, n = env.client, opts.memory_instances
    result = BenchResult(
        "memory",
        f"worker RSS (own process) with {n:,} instances asleep after one trivial "
        f"{opts.memory_mode} step (native: a "
        f"{'local activity' if opts.memory_mode == 'batched' else 'regular activity'}); "
        f"default cache and max_cached_workflows={opts.memory_small_cache}",
        memory_figures(opts),
    )
    result.notes.append(
        "KiB per cached sleeper = (RSS with all sleepers - baseline) / min(sleepers, cache "
        "size). With a small cache most of that growth is not the cached workflows themselves "
        "(allocator high-water from eviction and replay churn, buffers), so it overstates the "
        "per-workflow cost; the default-cache figure is the meaningful one."
    )
    caches: dict[str, int | None] = {"default": None, "small": opts.memory_small_cache}
    raw: list[dict[str, Any]] = []

    async def measure(rnd: Round) -> None:
        for cache, max_cached in caches.items():
            cached = min(n, max_cached if max_cached is not None else DEFAULT_CACHE)
            # Alternate the order between the two caches as well as between rounds.
            order = rnd.order if cache == "default" else rnd.order[::-1]
            for side in order:
                kib = await measure_worker(client, side, max_cached, opts)
                raw.append({"round": rnd.index + 1, "cache": cache, "side": side, **kib})
                rnd.put(f"kib_per_cached_{cache}", side, (kib["final"] - kib["baseline"]) / cached)
                rnd.put(
                    f"growth_pct_{cache}",
                    side,
                    (kib["final"] - kib["checkpoint"]) / kib["checkpoint"] * 100,
                )
                rnd.put(f"baseline_mib_{cache}", side, kib["baseline"] / 1024)
                rnd.put(f"rss_checkpoint_mib_{cache}", side, kib["checkpoint"] / 1024)
                rnd.put(f"rss_final_mib_{cache}", side, kib["final"] / 1024)
                rnd.put(f"start_per_s_{cache}", side, n / kib["seconds"])
                print(
                    f"    ({side}, {cache} cache: RSS {kib['baseline'] / 1024:.1f} → "
                    f"{kib['checkpoint'] / 1024:.1f} → {kib['final'] / 1024:.1f} MiB, "
                    f"{kib['seconds']:.0f} s)",
                    flush=True,
                )

    result.extra["raw_kib"] = raw
    return await run_rounds(result, opts.memory_rounds, measure)
