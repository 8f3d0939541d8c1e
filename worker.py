"""Runs a tempflare worker for every workflow in ``workflows/``.

Configuration comes from the environment:

* ``TEMPORAL_ADDRESS`` (default ``localhost:7233``), ``TEMPORAL_NAMESPACE`` (``default``),
* ``TEMPORAL_TASK_QUEUE`` (``tempflare``),
* ``TEMPFLARE_DATA_DIR`` (``.tempflare-data``): where the local env bindings keep their files;
* ``TEMPFLARE_D1_URL``, ``TEMPFLARE_KV_URL``, ``TEMPFLARE_R2_URL``: the bindings' backends
  (``postgresql://...``, ``redis://...``, ``s3://bucket?endpoint=...``; each example gets its own
  schema or key prefix, see ``workflows/_helpers.py``), instead of files in the data folder;
* each workflow module's service URLs (``PAYMENT_GATEWAY_URL``, ``EMAIL_API_URL``...; see the
  ``make_env`` of the modules in ``workflows/`` and ``SERVICE_URLS`` in
  ``workflows/_shared_env.py``), defaulting to the seeds' own URLs.

The worker builds each module's production env (``make_env``): it starts no stand-in services and
needs neither the test suite nor the main job's demo (``main.py`` builds the demo envs instead).
It starts no Temporal server either.

SIGINT, SIGTERM and SIGHUP stop polling, let in-flight steps finish (up to 30 s), then exit.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import timedelta
from pathlib import Path

import structlog
from temporalio.worker import Worker

from adapter import connect, create_worker, ensure_search_attributes
from adapter._shared.constants import DEFAULT_TASK_QUEUE
from workflows import discover_workflows

log = structlog.get_logger("tempflare.worker")


async def build_worker(
    *,
    client: object | None = None,
    task_queue: str | None = None,
    data_dir: Path | None = None,
    demo: bool = False,
    graceful_shutdown: timedelta = timedelta(seconds=30),
) -> Worker:
    """Connects (unless given a client) and builds the worker for every ported workflow.

    Args:
        client: A connected Temporal client; ``None`` connects to ``$TEMPORAL_ADDRESS``.
        task_queue: Default ``$TEMPORAL_TASK_QUEUE``, else ``tempflare``.
        data_dir: Where the env bindings keep their files; default ``$TEMPFLARE_DATA_DIR``.
        demo: Build the main job's demo envs (``make_demo_env``, with local stand-in
            services) instead of the production ones (``make_env``).
        graceful_shutdown: How long shutting down waits for in-flight steps.
    """
    from temporalio.client import Client

    real_client = client if isinstance(client, Client) else await connect()
    await ensure_search_attributes(real_client)
    data = data_dir or Path(os.environ.get("TEMPFLARE_DATA_DIR", ".tempflare-data"))
    data.mkdir(parents=True, exist_ok=True)
    queue = task_queue or os.environ.get("TEMPORAL_TASK_QUEUE", DEFAULT_TASK_QUEUE)
    ported = discover_workflows()
    envs = {p.workflow: p.make_env(data, real_client, queue, demo=demo) for p in ported}
    activities = [a for p in ported for a in p.activities]
    return create_worker(
        real_client,
        task_queue=queue,
        workflows=[p.workflow for p in ported],
        envs=envs,
        activities=list({id(a): a for a in activities}.values()),
        graceful_shutdown_timeout=graceful_shutdown,
    )


async def main() -> None:
    """Runs the worker until SIGINT, SIGTERM or SIGHUP."""
    worker = await build_worker()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, stop.set)
    log.info(
        "worker started",
        task_queue=worker.task_queue,
        workflows=sorted(p.workflow.workflow_name for p in discover_workflows()),
    )
    async with worker:
        await stop.wait()
        log.info("shutting down: waiting for in-flight steps")
    log.info("worker stopped")


def exit_process(code: int) -> None:
    """Ends the process once its work is done, without running the interpreter's finalisation.

    The Temporal SDK's Rust threads (client connection, runtime) may still call into Python while
    the interpreter finalises, which aborts the process (``Fatal Python error: PyGILState_Release``,
    exit -6) after a clean shutdown. Everything that matters has finished by now: flush and leave.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    structlog.configure(
        processors=[structlog.processors.TimeStamper(fmt="iso"), structlog.dev.ConsoleRenderer()]
    )
    asyncio.run(main())
    exit_process(0)
