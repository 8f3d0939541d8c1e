"""The main job: a worker plus one instance of every ported workflow, end to end.

1. Starts the embedded Temporal dev server (SQLite in ``.temporal/``, Web UI on port 8233),
   unless ``TEMPORAL_ADDRESS`` is set.
2. Starts the worker for every workflow in ``workflows/``.
3. Starts one instance of each ported workflow (through the binding, and one through the plain
   Temporal client), sends the events they wait for, and lets timeout paths time out.
4. Prints a table: workflow, instance, final status, output, Web UI link.
5. Exits 0 only if every instance reached its expected status.

``--keep`` leaves the server and worker running afterwards, for the Web UI (Ctrl-C to stop).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table

from adapter import InstanceStatus, Workflow, WorkflowInstance, connect
from adapter.devserver import DevServer, find_free_port, port_is_free
from worker import build_worker
from workflows import PortedWorkflow, discover_workflows

ROOT = Path(__file__).resolve().parent
console = Console()


@dataclass
class Run:
    """One demo instance and what it should end as."""

    ported: PortedWorkflow
    instance: WorkflowInstance
    expected: str
    via: str
    status: str = "queued"
    output: Any = None


async def send_events(run: Run, events: list[tuple[float, str, Any]]) -> None:
    """Sends a demo's events at their delays (seconds after the instance started)."""
    started = time.monotonic()
    for delay, event_type, payload in sorted(events, key=lambda e: e[0]):
        await asyncio.sleep(max(0.0, started + delay - time.monotonic()))
        await run.instance.send_event(event_type, payload)


def render(runs: list[Run], ui: str | None, namespace: str) -> Table:
    table = Table(title="tempflare main job", expand=True)
    for column in ("workflow", "instance", "via", "status", "output", "Web UI"):
        table.add_column(column, overflow="fold")
    for run in runs:
        ok = run.status == run.expected
        done = InstanceStatus(run.status).is_final
        colour = "green" if ok else ("red" if done else "yellow")
        output = json.dumps(run.output, default=str)[:80] if run.output is not None else ""
        link = f"{ui}/namespaces/{namespace}/workflows/{run.instance.id}" if ui else ""
        table.add_row(
            run.ported.workflow.workflow_name,
            run.instance.id,
            run.via,
            f"[{colour}]{run.status}[/] (want {run.expected})",
            output,
            link,
        )
    return table


async def start_demos(client: Any, task_queue: str) -> list[Run]:
    """Starts one instance of every ported workflow's demo."""
    runs: list[Run] = []
    suffix = uuid.uuid4().hex[:6]
    demos = [p for p in discover_workflows() if p.is_demo and hasattr(p.module, "EXAMPLE_PARAMS")]
    for n, ported in enumerate(demos):
        params = ported.module.EXAMPLE_PARAMS
        iid = f"demo-{ported.module.__name__.rsplit('.', 1)[-1].replace('_', '-')}-{suffix}"
        binding = Workflow(client, ported.workflow, task_queue=task_queue)
        if n == 0:
            # one instance goes straight through the plain Temporal client
            await client.start_workflow(
                ported.workflow.workflow_name, params, id=iid, task_queue=task_queue
            )
            instance, via = await binding.get(iid), "temporal client"
        else:
            instance, via = await binding.create(id=iid, params=params), "binding"
        runs.append(
            Run(ported, instance, getattr(ported.module, "EXPECTED_STATUS", "complete"), via)
        )
    return runs


async def run_job(keep: bool, timeout: float) -> int:
    address = os.environ.get("TEMPORAL_ADDRESS")
    server: DevServer | None = None
    if not address:
        port = 7233 if port_is_free(7233) else find_free_port()
        ui_port = 8233 if port_is_free(8233) else find_free_port()
        server = DevServer(
            port=port,
            ui_port=ui_port,
            db_filename=ROOT / ".temporal/dev.sqlite",
            log_file=ROOT / ".temporal/server.log",
        )
        with console.status("Starting the embedded Temporal dev server..."):
            await asyncio.to_thread(server.start)
        address = server.address
        console.print(f"Temporal dev server on {address}, Web UI at {server.ui_url}")
    ui = server.ui_url if server else os.environ.get("TEMPORAL_UI_URL")
    try:
        client = await connect(address)
        task_queue = os.environ.get("TEMPORAL_TASK_QUEUE", "tempflare")
        worker = await build_worker(client=client, task_queue=task_queue)
        async with worker:
            runs = await start_demos(client, task_queue)
            senders = [
                asyncio.create_task(send_events(r, list(getattr(r.ported.module, "EVENTS", []))))
                for r in runs
            ]
            deadline = time.monotonic() + timeout
            with Live(
                render(runs, ui, client.namespace), console=console, refresh_per_second=4
            ) as live:
                while True:
                    for run in runs:
                        status = await run.instance.status()
                        run.status, run.output = (
                            status.status.value,
                            (
                                status.output
                                if status.error is None
                                else f"{status.error.name}: {status.error.message}"
                            ),
                        )
                    live.update(render(runs, ui, client.namespace))
                    if all(InstanceStatus(r.status).is_final for r in runs):
                        break
                    if time.monotonic() > deadline:
                        console.print(f"[red]Timed out after {timeout:.0f}s[/]")
                        break
                    await asyncio.sleep(0.5)
            for task in senders:
                task.cancel()
            failed = [r for r in runs if r.status != r.expected]
            console.print(
                f"{len(runs) - len(failed)} of {len(runs)} instances reached their expected status."
            )
            if keep:
                console.print("--keep: server and worker keep running; Ctrl-C to stop.")
                await asyncio.Event().wait()
            return 1 if failed or not runs else 0
    finally:
        if server is not None:
            await asyncio.to_thread(server.stop)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--keep", action="store_true", help="leave the server and worker running afterwards"
    )
    parser.add_argument("--timeout", type=float, default=240, help="seconds to wait")
    args = parser.parse_args()
    try:
        sys.exit(asyncio.run(run_job(args.keep, args.timeout)))
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
