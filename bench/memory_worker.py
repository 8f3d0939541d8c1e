"""One worker process of the ``memory`` benchmark: ``python -m bench.memory_worker ...``.

It runs the sleeper workflow of one side (tempflare's ``TfSleeper`` or ``NativeSleeper``) and,
every 0.2 s, writes ``{"pid", "reached"}`` (sleepers that reached their sleep in this process) to
``--status-file``, until SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

from adapter import create_worker

from . import workloads


def _write_status(path: Path) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"pid": os.getpid(), "reached": workloads.reached_sleep}))
    tmp.replace(path)


async def serve(args: argparse.Namespace) -> None:
    client = await Client.connect(
        args.address, namespace=args.namespace, data_converter=pydantic_data_converter
    )
    options: dict[str, Any] = {}
    if args.max_cached is not None:
        options["max_cached_workflows"] = args.max_cached
    worker: Worker
    if args.kind == "tempflare":
        worker = create_worker(
            client,
            task_queue=args.task_queue,
            workflows=[workloads.TfSleeper],
            durability=args.durability,
            **options,
        )
    else:
        worker = Worker(
            client,
            task_queue=args.task_queue,
            workflows=[workloads.NativeSleeper],
            activities=workloads.NATIVE_ACTIVITIES,
            **options,
        )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    status_file = Path(args.status_file)
    async with worker:
        while not stop.is_set():
            _write_status(status_file)
            try:
                await asyncio.wait_for(stop.wait(), 0.2)
            except TimeoutError:
                pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--address", required=True)
    parser.add_argument("--namespace", default="default")
    parser.add_argument("--task-queue", required=True)
    parser.add_argument("--kind", choices=["tempflare", "native"], required=True)
    parser.add_argument("--max-cached", type=int, default=None)
    parser.add_argument("--durability", choices=["durable", "batched"], default="durable")
    parser.add_argument("--status-file", required=True)
    asyncio.run(serve(parser.parse_args()))
    # The worker has shut down; skip interpreter finalisation, which temporalio's runtime
    # threads can abort with "Fatal Python error: PyGILState_Release".
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
