"""tempflare against native temporalio, side by side, on one dev server started for the run.

    make bench                                   # everything, 3 rounds
    make bench ARGS="--only durable,batched --rounds 5 --json out.json"
    make bench ARGS="--cluster"                  # on the local cluster (cluster/local.py)
    .venv/bin/python bench/run.py --only memory --memory-instances 2000

Benchmarks (``--only`` takes a comma-separated selection; all run by default, in this order):

    durable       tempflare default mode, 100 concurrent instances x 5 steps, against native
                  regular activities: instances/s (target ratio ≥ 1.0), history events
    batched       durability="batched", 50 instances x 20 steps, against native local activities:
                  steps/s (target ≥ 0.95), history events per step (target ≤ 1.1)
    create_batch  binding.create_batch(100) against 100 concurrent client.start_workflow
    status        instance.status() against handle.describe() on completed 10- and 1,000-step
                  instances, both modes (target ≤ 1.5 at 1,000 steps)
    per-step      ms per step of 10-, 100- and 1,000-step instances run one at a time, both
                  modes (target: 1,000-step / 10-step ≤ 1.2)
    memory        worker RSS (own process) with 10,000 sleeping instances, default and small
                  workflow cache: KiB per cached instance (target ratio ≤ 1.1), flat RSS
                  after eviction

Each benchmark runs ``--rounds`` rounds (memory: ``--memory-rounds``), alternating which side
goes first, on fresh task queues. Every round prints both sides and their ratio (tempflare /
native); the final table gives the medians and the median per-round ratio. The machine is
shared and noisy: compare within a run, not across runs.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from temporalio.testing import WorkflowEnvironment

from adapter import connect
from bench.client_ops import bench_create_batch, bench_status
from bench.common import Benchmark, BenchResult, Options, print_summary, start_server
from bench.memory import bench_memory
from bench.throughput import bench_batched, bench_durable, bench_per_step, warm_up
from cluster.local import LocalCluster, free_base_port

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS: dict[str, Benchmark] = {
    "durable": bench_durable,
    "batched": bench_batched,
    "create_batch": bench_create_batch,
    "status": bench_status,
    "per-step": bench_per_step,
    "memory": bench_memory,
}


def _sizes(text: str) -> tuple[int, ...]:
    sizes = tuple(sorted({int(part) for part in text.split(",") if part.strip()}))
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return sizes


def _selection(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown benchmark(s) {unknown}; choose from {', '.join(BENCHMARKS)}"
        )
    return names


def source_state() -> dict[str, str | None]:
    """The git commit, and a fingerprint of ``adapter/``'s sources as they are on disk now.

    The run's own process imports the adapter once, at start; the memory benchmark's worker
    processes import it when they start, so an edit during a run reaches only them.
    """
    try:
        commit: str | None = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = None
    digest = hashlib.sha1()
    for path in sorted((ROOT / "adapter").rglob("*.py")):
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return {"commit": commit, "adapter_sha1": digest.hexdigest()[:12]}


def parse_args(
    argv: Sequence[str] | None = None,
) -> tuple[list[str], Options, Path | None, bool]:
    defaults = Options()
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add = parser.add_argument
    add("--only", type=_selection, default=list(BENCHMARKS), help="comma-separated benchmarks")
    add("--rounds", type=int, default=defaults.rounds, help="rounds per benchmark")
    add("--json", type=Path, default=None, help="write every figure to this JSON file")
    add("--durable-instances", type=int, default=defaults.durable_instances)
    add("--durable-steps", type=int, default=defaults.durable_steps)
    add("--batched-instances", type=int, default=defaults.batched_instances)
    add("--batched-steps", type=int, default=defaults.batched_steps)
    add("--batch-size", type=int, default=defaults.batch_size, help="create_batch items (≤ 100)")
    add("--status-calls", type=int, default=defaults.status_calls)
    add("--status-sizes", type=_sizes, default=defaults.status_sizes, help="e.g. 10,1000")
    add("--per-step-sizes", type=_sizes, default=defaults.per_step_sizes, help="e.g. 10,100,1000")
    add("--memory-instances", type=int, default=defaults.memory_instances)
    add(
        "--memory-checkpoint",
        type=int,
        default=defaults.memory_checkpoint,
        help="sleepers at the first RSS reading (flatness is checked from here to the end)",
    )
    add("--memory-small-cache", type=int, default=defaults.memory_small_cache)
    add("--memory-rounds", type=int, default=defaults.memory_rounds)
    add(
        "--memory-mode",
        choices=["durable", "batched"],
        default=defaults.memory_mode,
        help="the sleepers' step: durable (against a native regular activity) or batched "
        "(against a native local activity)",
    )
    add(
        "--cluster",
        action="store_true",
        help="run on a fresh local cluster (cluster/local.py: PostgreSQL, one process per "
        "service) instead of the dev server",
    )
    args = parser.parse_args(argv)
    opts = Options(
        rounds=args.rounds,
        durable_instances=args.durable_instances,
        durable_steps=args.durable_steps,
        batched_instances=args.batched_instances,
        batched_steps=args.batched_steps,
        batch_size=args.batch_size,
        status_calls=args.status_calls,
        status_sizes=args.status_sizes,
        per_step_sizes=args.per_step_sizes,
        memory_instances=args.memory_instances,
        memory_checkpoint=args.memory_checkpoint,
        memory_small_cache=args.memory_small_cache,
        memory_rounds=args.memory_rounds,
        memory_mode=args.memory_mode,
    )
    if not 1 <= opts.batch_size <= 100:
        parser.error("--batch-size must be 1 to 100 (create_batch's limit)")
    if opts.rounds < 1 or opts.memory_rounds < 1:
        parser.error("--rounds and --memory-rounds must be at least 1")
    return args.only, opts, args.json, args.cluster


async def main(
    selected: list[str], opts: Options, json_path: Path | None, cluster: bool = False
) -> int:
    if not cluster:
        return await _main(selected, opts, json_path, await start_server(), "dev server")
    # The local production-shaped cluster (cluster/local.py), fresh for the run, in a folder of
    # its own (not the default one `make cluster-up` uses).
    with tempfile.TemporaryDirectory(prefix="tempflare-bench-cluster-") as scratch:
        os.chmod(scratch, 0o755)  # PostgreSQL runs as the `postgres` user when we are root
        local = LocalCluster(Path(scratch) / "cluster", base_port=free_base_port())
        await asyncio.to_thread(local.up)
        try:
            client = await connect(local.address)
            env = WorkflowEnvironment.from_client(client)
            server = "local cluster (PostgreSQL, 5 service processes)"
            return await _main(selected, opts, json_path, env, server)
        finally:
            await asyncio.to_thread(local.down)


async def _main(
    selected: list[str],
    opts: Options,
    json_path: Path | None,
    env: WorkflowEnvironment,
    server: str,
) -> int:
    started = time.perf_counter()
    source_at_start = source_state()
    print(
        f"{server} at {env.client.service_client.config.target_host}; "
        f"{os.cpu_count()} CPUs; temporalio {version('temporalio')}; "
        f"Python {platform.python_version()}; commit {(source_at_start['commit'] or '?')[:7]}, "
        f"adapter/ sha1 {source_at_start['adapter_sha1']}; running {', '.join(selected)}",
        flush=True,
    )
    results: list[BenchResult] = []
    durations: dict[str, float] = {}
    try:
        await warm_up(env)
        for name in selected:
            bench_started = time.perf_counter()
            results.append(await BENCHMARKS[name](env, opts))
            durations[name] = time.perf_counter() - bench_started
    finally:
        await env.shutdown()
    total = time.perf_counter() - started
    print_summary(results)
    print(
        "time: "
        + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in durations.items())
        + f"; total {total:.0f} s",
        flush=True,
    )
    source_at_end = source_state()
    if source_at_end["adapter_sha1"] != source_at_start["adapter_sha1"]:
        print(
            f"warning: adapter/ changed during the run (sha1 {source_at_start['adapter_sha1']} "
            f"-> {source_at_end['adapter_sha1']}); worker processes started after the change "
            "(memory) ran the newer code",
            flush=True,
        )
    if json_path is not None:
        report = {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "options": {k: v for k, v in vars(opts).items()},
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "temporalio": version("temporalio"),
                "platform": platform.platform(),
            },
            "server": server,
            "source": {"start": source_at_start, "end": source_at_end},
            "seconds": {"total": total, **durations},
            "benchmarks": {result.name: result.as_json() for result in results},
        }
        text = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
        await asyncio.to_thread(json_path.write_text, text)
        print(f"wrote {json_path}")
    return 0


if __name__ == "__main__":
    exit_code = asyncio.run(main(*parse_args()))
    # Skip interpreter finalisation: temporalio's runtime threads can abort it ("Fatal Python
    # error: PyGILState_Release") after everything has been printed and written.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(exit_code)
