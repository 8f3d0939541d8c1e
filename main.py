"""The main job: a worker plus one instance of every ported workflow, end to end.

1. Starts the embedded Temporal dev server (SQLite in ``.temporal/``, Web UI on port 8233),
   unless ``TEMPORAL_ADDRESS`` or ``TEMPORAL_PROFILE`` is set: then ``connect()`` takes the
   server from the ``TEMPORAL_*`` variables and the Temporal config file.
2. Starts the worker for every workflow in ``workflows/``.
3. Starts one instance of each ported workflow (through the binding, and one through the plain
   Temporal client), sends the events they wait for, and lets timeout paths time out.
4. Prints a table: workflow, instance, final status, output, Web UI link.
5. Exits 0 only if every instance reached its expected status.

``--keep`` leaves the server and worker running afterwards, for the Web UI, until Ctrl-C,
SIGTERM or SIGHUP; then both stop.

The dev server keeps its SQLite file in ``--server-dir`` (``.temporal/``) and holds a lock on that
folder while it runs. If another dev server already runs on the folder (another ``make run
--keep``, say), this job reuses it when it answers, waits up to ``--wait-for-server`` seconds for
it to answer or exit otherwise, and then fails with ``DevServerDataFolderLockedError``, which names
the process and ports that hold the folder.

SIGINT, SIGTERM and SIGHUP stop the worker and the dev server this job started (a second signal
cuts the worker's drain short), and exit 128 + the signal number (with ``--keep``: the demos'
status). If this process is killed outright, the kernel kills the server too (Linux).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table
from temporalio.client import Client

from adapter import InstanceStatus, Workflow, WorkflowInstance, connect
from adapter._client.connection import data_converter
from adapter.devserver import (
    DevServer,
    DevServerDataFolderLockedError,
    DevServerError,
    find_free_port,
    port_is_free,
    server_answers,
)
from worker import build_worker, exit_process
from workflows import PortedWorkflow, discover_workflows, example_name

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


def selected(ported: PortedWorkflow, only: list[str]) -> bool:
    """Whether ``--only`` picks this demo (by module or workflow name, substring match; the
    module name includes its pattern package, so ``--only human_in_the_loop`` picks a group)."""
    names = (example_name(ported.module), ported.workflow.workflow_name)
    return not only or any(word in name for word in only for name in names)


async def start_demos(client: Any, task_queue: str, only: list[str]) -> list[Run]:
    """Starts one instance of every ported workflow's demo (or of those ``only`` names)."""
    runs: list[Run] = []
    suffix = uuid.uuid4().hex[:6]
    demos = [
        p
        for p in discover_workflows()
        if p.is_demo and hasattr(p.module, "EXAMPLE_PARAMS") and selected(p, only)
    ]
    for n, ported in enumerate(demos):
        params = ported.module.EXAMPLE_PARAMS
        iid = re.sub(r"[^A-Za-z0-9_-]", "-", f"demo-{ported.workflow.workflow_name}-{suffix}")
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


@dataclass
class Server:
    """The Temporal server the job runs on, and whether the job started it."""

    address: str
    ui: str | None
    owned: DevServer | None = None


async def start_or_reuse_server(server_dir: Path, wait: float) -> Server:
    """Starts the dev server on ``server_dir``, or reuses the one that already runs there.

    Raises:
        DevServerDataFolderLockedError: Another dev server holds the folder and did not answer
            (nor exit) within ``wait`` seconds.
        DevServerError: The server could not start for another reason.
    """
    deadline = time.monotonic() + wait
    waiting = False
    while True:
        port = 7233 if port_is_free(7233) else find_free_port()
        ui_port = 8233 if port_is_free(8233) else find_free_port()
        server = DevServer(
            port=port,
            ui_port=ui_port,
            db_filename=server_dir / "dev.sqlite",
            log_file=server_dir / "server.log",
        )
        try:
            with console.status("Starting the embedded Temporal dev server..."):
                await server.astart()
        except DevServerDataFolderLockedError as locked:
            owner = locked.owner
            if owner is not None and await asyncio.to_thread(
                server_answers, owner.address, owner.namespace
            ):
                console.print(
                    f"Reusing {owner.describe()}, which already runs on {server_dir}: it keeps "
                    "running after this job."
                )
                return Server(owner.address, owner.ui_url)
            if time.monotonic() >= deadline:
                raise
            if not waiting:
                console.print(
                    f"{server_dir} is held by "
                    f"{owner.describe() if owner else 'another dev server'}, which does not "
                    f"answer yet; waiting up to {wait:.0f}s for it to answer or exit..."
                )
                waiting = True
            await asyncio.sleep(0.5)
            continue
        console.print(
            f"Temporal dev server on {server.address} (pid {server.pid}), Web UI at {server.ui_url}"
        )
        return Server(server.address, server.ui_url, owned=server)


def stop_on_signals(task: asyncio.Task[Any]) -> list[signal.Signals]:
    """SIGINT, SIGTERM and SIGHUP cancel ``task`` (each time); returns the signals received."""
    received: list[signal.Signals] = []
    loop = asyncio.get_running_loop()

    def on_signal(sig: signal.Signals) -> None:
        if not received:
            console.print(f"{sig.name}: stopping the worker and the dev server it started...")
        received.append(sig)
        task.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, on_signal, sig)
    return received


async def run_job(
    keep: bool, timeout: float, server_dir: Path, wait: float, only: list[str]
) -> int:
    task = asyncio.current_task()
    assert task is not None
    signals = stop_on_signals(task)
    result: int | None = None
    server: Server | None = None
    try:
        if os.environ.get("TEMPORAL_ADDRESS") or os.environ.get("TEMPORAL_PROFILE"):
            client = await connect()
            address = client.service_client.config.target_host
            server = Server(address, os.environ.get("TEMPORAL_UI_URL"))
        else:
            server = await start_or_reuse_server(server_dir, wait)
            # Not connect(): the embedded server is local and plain, and the user's Temporal
            # config (TLS, API key, namespace) may well describe some other cluster.
            client = await Client.connect(server.address, data_converter=data_converter())
        task_queue = os.environ.get("TEMPORAL_TASK_QUEUE", "tempflare")
        worker = await build_worker(
            client=client,
            task_queue=task_queue,
            demo=True,
            # The demo's steps are short; a signal should not wait long for them.
            graceful_shutdown=timedelta(seconds=5),
        )
        async with worker:
            runs = await start_demos(client, task_queue, only)
            senders = [
                asyncio.create_task(send_events(r, list(getattr(r.ported.module, "EVENTS", []))))
                for r in runs
            ]
            deadline = time.monotonic() + timeout
            ui = server.ui
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
            for sender in senders:
                sender.cancel()
            failed = [r for r in runs if r.status != r.expected]
            console.print(
                f"{len(runs) - len(failed)} of {len(runs)} instances reached their expected status."
            )
            result = 1 if failed or not runs else 0
            if keep:
                what = "the worker" if server.owned is None else "the server and the worker"
                console.print(f"--keep: {what} keep running; Ctrl-C (or SIGTERM, SIGHUP) stops.")
                await asyncio.Event().wait()
            return result
    except asyncio.CancelledError:
        if not signals:
            raise
        # A signal asked us to stop: the finally below stops the server.
        return result if keep and result is not None else 128 + signals[0].value
    finally:
        if server is not None and server.owned is not None:
            # Synchronously: a few seconds, and a second signal cannot interrupt it halfway.
            server.owned.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--keep",
        action="store_true",
        help="leave the server and worker running afterwards, until Ctrl-C, SIGTERM or SIGHUP",
    )
    parser.add_argument("--timeout", type=float, default=240, help="seconds to wait")
    parser.add_argument(
        "--server-dir",
        type=Path,
        default=ROOT / ".temporal",
        help="folder of the dev server's SQLite file and log (default: .temporal/)",
    )
    parser.add_argument(
        "--wait-for-server",
        type=float,
        default=20,
        metavar="SECONDS",
        help="how long to wait for a dev server that holds --server-dir but does not answer",
    )
    parser.add_argument(
        "--only",
        default="",
        metavar="NAMES",
        help="comma-separated parts of module (e.g. human_in_the_loop, race) or workflow "
        "names: run only those demos",
    )
    args = parser.parse_args()
    only = [word.strip() for word in args.only.split(",") if word.strip()]
    try:
        code = asyncio.run(
            run_job(args.keep, args.timeout, args.server_dir.resolve(), args.wait_for_server, only)
        )
    except DevServerError as error:
        console.print(f"[red]{type(error).__name__}:[/] {error}", highlight=False)
        code = 2
    except KeyboardInterrupt:
        code = 130
    exit_process(code)


if __name__ == "__main__":
    main()
