"""Crash test: kill the worker and the server under load, then audit every step execution.

    make crash-test                                   # 200 instances, durable steps
    make crash-test ARGS="--instances 1000"
    make crash-test ARGS="--durability batched --seed 7 --json /tmp/crash.json"

The script starts its own dev server on a fresh SQLite file (in a temp dir, on a free port) and
a worker in a separate process (this script with ``--worker``). It creates ``--instances``
instances of an 8-step workflow in batches of 50 spread over the first part of the run, sends
each one its "approval" event at a random moment, SIGKILLs the worker every ``--kill-every``
seconds (restarting it at once) and SIGKILLs the dev server's process group ``--server-kills``
times (restarting it on the same SQLite file and port, and the worker with it). Every step
callback writes a row to an external SQLite ledger when it starts and when it ends, from the
worker process, so runs that a kill made happen again are visible. When every instance has
closed (or the drain deadline passes) it reads each instance's status and history and reports:
completion, step executions and re-runs, re-runs that started after the history already held
the step's result (a durability violation), steps in flight at each kill, lost or duplicated
events, and failed workflow tasks (TMPRL1100 is nondeterminism). The figures also go to a JSON
file (``--json``).

``--cluster`` runs it on the local production-shaped cluster instead (cluster/local.py:
PostgreSQL, one frontend, two history, one matching and one worker service process), brought up
fresh on a free port block and torn down after. Its ``--server-kills`` (default 3) are then the
faults a cluster has, in turn: a history service SIGKILLed and restarted, the frontend restarted,
PostgreSQL crashed (immediate shutdown) and restarted. The worker is not killed with them; it
rides them out.

The workflow::

    A (async) -> sleep 200-500 ms -> B (sync, fails its first attempt, retried after 100 ms)
      -> wait_for_event("approval") -> gather(fan 0, fan 1, fan 2) -> final (sync)

Reading the report. An attempt is ``(instance, step, count, attempt)``, named in history by its
activity id ``<step>#<count>@<attempt>``. The history "had" a durable attempt's outcome when
it recorded the activity's completion or failure, and a batched attempt's from the
``WORKFLOW_TASK_COMPLETED`` event just before its local-activity marker. A *completed-step
re-run* is a completed execution of an attempt beyond the first. Two checks must be 0 in every
mode: re-runs that started after the history had the attempt's outcome, and lost or duplicated
events. Two more must be 0 in durable mode (batched mode does both by design): a step that
started before the previous step's outcome was in history, and a re-run of a step whose
successor had already started in the killed worker ("batch lost"). A step whose callback had
ended but whose result had not reached history yet runs again; "result in history this long
after the callback ended" measures that window. The exit status is 1 when a check fails or an
instance did not complete, and the run directory is then kept for a post-mortem.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import itertools
import json
import logging
import os
import random
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Final, TypeVar

from google.protobuf.timestamp_pb2 import Timestamp
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType, TimeoutType, WorkflowTaskFailedCause
from temporalio.api.workflowservice.v1 import SignalWorkflowExecutionRequest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapter import (
    InstanceAlreadyExistsError,
    StepContext,
    Workflow,
    WorkflowEntrypoint,
    WorkflowEvent,
    WorkflowStep,
    connect,
    create_worker,
)
from adapter._shared.history_format import local_activity_marker, parse_attempt_id
from adapter.devserver import DevServer, find_free_port
from cluster.local import LocalCluster, free_base_port

T = TypeVar("T")

EVENT_TYPE: Final = "approval"
#: The workflow's do-steps in order; the steps of one group run side by side.
STEP_ORDER: Final[tuple[tuple[str, ...], ...]] = (
    ("A",),
    ("B",),
    ("fan 0", "fan 1", "fan 2"),
    ("final",),
)
BATCH_SIZE: Final = 50
STEP_CONFIG: Final[dict[str, Any]] = {
    "retries": {"limit": 5, "delay": "200ms", "backoff": "constant"},
    "timeout": "30 seconds",
}
FLAKY_CONFIG: Final[dict[str, Any]] = {
    "retries": {"limit": 3, "delay": "100ms", "backoff": "constant"},
    "timeout": "30 seconds",
}
#: RPC failures that a server restart causes; the driver retries these with backoff.
TRANSIENT: Final = frozenset(
    {
        RPCStatusCode.UNAVAILABLE,
        RPCStatusCode.DEADLINE_EXCEEDED,
        RPCStatusCode.UNKNOWN,
        RPCStatusCode.CANCELLED,
        RPCStatusCode.INTERNAL,
        RPCStatusCode.RESOURCE_EXHAUSTED,
        RPCStatusCode.ABORTED,
    }
)
RPC_TIMEOUT: Final = timedelta(seconds=10)


# ------------------------------------------------------------------------------------------
# The ledger: one SQLite file, WAL mode, one connection per process, one statement a write
# ------------------------------------------------------------------------------------------


class Ledger:
    """Append-only record of step executions (written by workers) and kills (by the driver)."""

    SCHEMA: Final = """
        CREATE TABLE IF NOT EXISTS executions (
            id INTEGER PRIMARY KEY,
            instance TEXT NOT NULL,
            step TEXT NOT NULL,
            count INTEGER NOT NULL,
            attempt INTEGER NOT NULL,
            pid INTEGER NOT NULL,
            started REAL NOT NULL,
            ended REAL,
            outcome TEXT
        );
        CREATE TABLE IF NOT EXISTS kills (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            pid INTEGER,
            at REAL NOT NULL
        );
    """

    def __init__(self, path: Path, *, create: bool = False) -> None:
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(
            path, timeout=30, isolation_level=None, check_same_thread=False
        )
        self._conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL loses nothing when a process dies (only on power loss), and keeps writes fast.
        self._conn.execute("PRAGMA synchronous=NORMAL")
        if create:
            self._conn.executescript(self.SCHEMA)

    def begin(self, instance: str, ctx: StepContext) -> int:
        """Records that an attempt started in this process; returns the row to close."""
        with self._lock:
            cursor = self._conn.execute(
                "INSERT INTO executions (instance, step, count, attempt, pid, started) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (instance, ctx.step.name, ctx.step.count, ctx.attempt, os.getpid(), time.time()),
            )
            row = cursor.lastrowid
        assert row is not None
        return row

    def end(self, row: int, outcome: str) -> None:
        """Records that the attempt's callback returned (``ok``) or raised (``error``)."""
        with self._lock:
            self._conn.execute(
                "UPDATE executions SET ended = ?, outcome = ? WHERE id = ?",
                (time.time(), outcome, row),
            )

    def kill(self, kind: str, pid: int | None, at: float) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT INTO kills (kind, pid, at) VALUES (?, ?, ?)", (kind, pid, at)
            )

    def rows(self, query: str) -> list[tuple[Any, ...]]:
        with self._lock:
            return list(self._conn.execute(query))

    def close(self) -> None:
        with self._lock:
            self._conn.close()


#: Set in the worker process; step callbacks write through it.
LEDGER: Ledger | None = None


def _ledger() -> Ledger:
    if LEDGER is None:
        raise RuntimeError("step callbacks run only in the crash-test worker process")
    return LEDGER


async def _work_async(
    instance: str, ctx: StepContext, *, fail_first: bool = False
) -> dict[str, Any]:
    row = _ledger().begin(instance, ctx)
    await asyncio.sleep(random.uniform(0.005, 0.05))
    if fail_first and ctx.attempt == 1:
        _ledger().end(row, "error")
        raise RuntimeError("planned failure of the first attempt")
    _ledger().end(row, "ok")
    return {"step": ctx.step.name, "attempt": ctx.attempt}


def _work_sync(instance: str, ctx: StepContext, *, fail_first: bool = False) -> dict[str, Any]:
    row = _ledger().begin(instance, ctx)
    time.sleep(random.uniform(0.005, 0.05))
    if fail_first and ctx.attempt == 1:
        _ledger().end(row, "error")
        raise RuntimeError("planned failure of the first attempt")
    _ledger().end(row, "ok")
    return {"step": ctx.step.name, "attempt": ctx.attempt}


class CrashWorkflow(WorkflowEntrypoint[None, dict[str, Any]]):
    """Eight steps: do, sleep, flaky do, event wait, three parallel do's, do."""

    async def run(self, event: WorkflowEvent[dict[str, Any]], step: WorkflowStep) -> Any:
        iid = event.instance_id

        async def a(ctx: StepContext) -> dict[str, Any]:
            return await _work_async(iid, ctx)

        async def fan_async(ctx: StepContext) -> dict[str, Any]:
            return await _work_async(iid, ctx)

        first = await step.do("A", STEP_CONFIG, a)
        await step.sleep("nap", int(event.payload["nap_ms"]))
        flaky = await step.do("B", FLAKY_CONFIG, lambda ctx: _work_sync(iid, ctx, fail_first=True))
        approval = await step.wait_for_event(EVENT_TYPE, type=EVENT_TYPE, timeout="10 minutes")
        fan = await asyncio.gather(
            step.do("fan 0", STEP_CONFIG, fan_async),
            step.do("fan 1", STEP_CONFIG, lambda ctx: _work_sync(iid, ctx)),
            step.do("fan 2", STEP_CONFIG, fan_async),
        )
        final = await step.do("final", STEP_CONFIG, lambda ctx: _work_sync(iid, ctx))
        return {"event": approval.payload, "steps": [first, flaky, *fan, final]}


# ------------------------------------------------------------------------------------------
# The worker process
# ------------------------------------------------------------------------------------------


def _die_with_parent(parent: int) -> None:
    """SIGKILL this process when the driver dies, however it dies (Linux only)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)
    if os.getppid() != parent:
        os._exit(0)


async def _serve(address: str, task_queue: str, durability: str) -> None:
    client = await _retry(lambda: connect(address), "worker connect", budget=120.0)
    worker = create_worker(
        client,
        task_queue=task_queue,
        workflows=[CrashWorkflow],
        durability="batched" if durability == "batched" else "durable",
    )
    print(f"worker {os.getpid()} polling {task_queue} ({durability})", flush=True)
    await worker.run()


def worker_main(args: argparse.Namespace) -> None:
    global LEDGER
    _die_with_parent(args.parent)
    # B's planned first-attempt failure would log a traceback per instance.
    logging.getLogger("temporalio.activity").setLevel(logging.ERROR)
    LEDGER = Ledger(Path(args.ledger))
    asyncio.run(_serve(args.address, args.task_queue, args.durability))


class WorkerProcess:
    """The worker subprocess: started, SIGKILLed and restarted by the driver."""

    def __init__(self, argv: list[str], log_path: Path) -> None:
        self._argv = argv
        self._log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.unexpected_exits: list[int] = []

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def start(self) -> int:
        with open(self._log_path, "ab") as log:
            self._process = subprocess.Popen(
                self._argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches the driver only, which kills us
            )
        self.starts += 1
        return self._process.pid

    def kill(self) -> tuple[int, float] | None:
        """SIGKILLs the worker's process group; returns its pid and the kill time."""
        process = self._process
        if process is None:
            return None
        self._process = None
        at = time.time()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        process.wait()
        return process.pid, at

    def ensure_running(self) -> None:
        """Restarts the worker if it exited on its own (that is recorded, not expected)."""
        if self._process is not None and self._process.poll() is not None:
            self.unexpected_exits.append(self._process.returncode)
            self._process = None
            self.start()


# ------------------------------------------------------------------------------------------
# The driver
# ------------------------------------------------------------------------------------------


async def _retry(
    op: Callable[[], Awaitable[T]], what: str, *, budget: float = 300.0, log: bool = False
) -> T:
    """Runs ``op``, retrying transient failures (a server restart) with backoff."""
    deadline = time.monotonic() + budget
    delay = 0.2
    while True:
        try:
            return await op()
        except RPCError as err:
            if err.status not in TRANSIENT or time.monotonic() > deadline:
                raise
            reason = f"{err.status.name}: {err.message}"
        except RuntimeError as err:  # Client.connect: "Failed client connect"
            if "connect" not in str(err).lower() or time.monotonic() > deadline:
                raise
            reason = str(err)
        if log:
            print(f"  .. {what}: {reason[:120]}; retrying in {delay:.1f}s", flush=True)
        await asyncio.sleep(delay)
        delay = min(delay * 2, 3.0)


@dataclass
class Plan:
    instances: int
    start_window: float
    chaos_seconds: float
    drain_seconds: float
    kill_every: tuple[float, float]
    server_kills: int
    event_delay: float


@dataclass
class RunState:
    created: dict[str, float] = field(default_factory=dict)
    sent: dict[str, str] = field(default_factory=dict)
    send_errors: dict[str, str] = field(default_factory=dict)
    create_errors: dict[str, str] = field(default_factory=dict)
    kills: list[dict[str, Any]] = field(default_factory=list)
    server_restarts: list[dict[str, float]] = field(default_factory=list)
    cluster_faults: list[dict[str, Any]] = field(default_factory=list)
    open_count: int | None = None


class Driver:
    def __init__(
        self,
        args: argparse.Namespace,
        server: DevServer | LocalCluster,
        worker: WorkerProcess,
        ledger: Ledger,
        plan: Plan,
    ) -> None:
        self.args = args
        self.server = server
        self.worker = worker
        self.ledger = ledger
        self.plan = plan
        self.rng = random.Random(args.seed)
        self.state = RunState()
        self.task_queue: str = args.task_queue
        self.tag: str = args.tag
        self.client: Client | None = None
        self.t0 = time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self.t0

    async def get_client(self) -> Client:
        if self.client is None:
            address = self.server.address
            self.client = await _retry(lambda: connect(address), "driver connect", log=True)
        return self.client

    def binding(self, client: Client) -> Workflow[dict[str, Any]]:
        return Workflow(client, CrashWorkflow, task_queue=self.task_queue)

    # -- load --------------------------------------------------------------------------------

    async def create_all(self, events: list[asyncio.Task[None]]) -> None:
        n = self.plan.instances
        batches = [range(i, min(i + BATCH_SIZE, n)) for i in range(0, n, BATCH_SIZE)]
        gap = self.plan.start_window / max(1, len(batches))
        gate = asyncio.Semaphore(10)
        for index, batch in enumerate(batches):
            due = self.t0 + index * gap
            await asyncio.sleep(max(0.0, due - time.monotonic()))

            async def create(i: int) -> None:
                iid = f"crash-{self.tag}-{i:05d}"
                params = {"i": i, "nap_ms": self.rng.randint(200, 500)}
                async with gate:
                    try:
                        await self._create(iid, params)
                    except Exception as err:
                        self.state.create_errors[iid] = f"{type(err).__name__}: {err}"
                        return
                self.state.created[iid] = time.time()
                delay = self.rng.uniform(0.0, self.plan.event_delay)
                events.append(asyncio.create_task(self.send_event_later(iid, delay)))

            await asyncio.gather(*(create(i) for i in batch))

    async def _create(self, iid: str, params: dict[str, Any]) -> None:
        async def op() -> None:
            client = await self.get_client()
            try:
                await self.binding(client).create(id=iid, params=params)
            except InstanceAlreadyExistsError:
                pass  # an earlier try reached the server before it went down

        await _retry(op, f"create {iid}")

    async def send_event_later(self, iid: str, delay: float) -> None:
        await asyncio.sleep(delay)
        token = f"{iid}:{self.rng.getrandbits(64):016x}"
        client = await self.get_client()
        request = SignalWorkflowExecutionRequest(
            namespace=client.namespace,
            workflow_execution=WorkflowExecution(workflow_id=iid),
            signal_name=EVENT_TYPE,
            identity=client.identity,
            # One request id for every retry: the server drops a repeat it already applied, so
            # the driver's own retries after a server restart cannot duplicate the event.
            request_id=f"{EVENT_TYPE}-{iid}",
        )
        request.input.payloads.extend(await client.data_converter.encode([{"token": token}]))
        self.state.sent[iid] = token
        try:
            await _retry(
                lambda: client.workflow_service.signal_workflow_execution(
                    request, timeout=RPC_TIMEOUT
                ),
                f"event {iid}",
            )
        except Exception as err:
            self.state.send_errors[iid] = f"{type(err).__name__}: {err}"

    # -- chaos -------------------------------------------------------------------------------

    def kill_worker(self, kind: str) -> None:
        killed = self.worker.kill()
        if killed is not None:
            pid, at = killed
            self.state.kills.append({"kind": kind, "pid": pid, "at": at, "t": self.elapsed()})
            self.ledger.kill(kind, pid, at)

    def cluster_fault(self, cluster: LocalCluster) -> None:
        """The next of the cluster's faults: a history service, the frontend, PostgreSQL."""
        number = len(self.state.server_restarts)
        kind = CLUSTER_FAULTS[number % len(CLUSTER_FAULTS)]
        at = time.time()
        if kind == "postgres":
            took = cluster.restart_postgres()
            pid = None
        else:
            pid = cluster.pids.get(kind)
            took = cluster.restart(kind, kill=kind.startswith("history"))
        self.ledger.kill(kind, pid, at)
        self.state.server_restarts.append({"t": self.elapsed(), "at": at, "down_s": took})
        self.state.cluster_faults.append({"fault": kind, "t": self.elapsed(), "down_s": took})
        print(f"[{self.elapsed():6.1f}s] cluster fault: {kind} restarted ({took:.1f}s down)")

    def restart_server(self) -> None:
        """SIGKILLs the dev server's process group and the worker; restarts both."""
        if isinstance(self.server, LocalCluster):
            self.cluster_fault(self.server)
            return
        self.kill_worker("worker (with server)")
        pid = self.server.pid
        at = time.time()
        if pid is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
            while self.server.running:  # reaps the killed process
                time.sleep(0.01)
        self.ledger.kill("server", pid, at)
        began = time.monotonic()
        # Blocks the event loop for a few seconds; nothing can reach the server meanwhile
        # anyway. Started from the main thread, so the server dies with this process.
        self.server.start(timeout=120.0)
        took = time.monotonic() - began
        self.state.server_restarts.append({"t": self.elapsed(), "at": at, "down_s": took})
        print(f"[{self.elapsed():6.1f}s] server killed and restarted ({took:.1f}s down)")
        self.worker.start()

    async def chaos(self, done: asyncio.Event) -> None:
        low, high = self.plan.kill_every
        end = self.plan.chaos_seconds
        server_kills = [
            end * k / (self.plan.server_kills + 1) for k in range(1, 1 + self.plan.server_kills)
        ]
        next_kill = self.rng.uniform(low, high)
        while self.elapsed() < end and not done.is_set():
            due = min([next_kill, *server_kills])
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    done.wait(), timeout=max(0.0, min(due, end) - self.elapsed())
                )
            if done.is_set() or self.elapsed() >= end:
                break
            self.worker.ensure_running()
            if server_kills and self.elapsed() >= server_kills[0]:
                server_kills.pop(0)
                self.restart_server()
                next_kill = self.elapsed() + self.rng.uniform(low, high)
            elif self.elapsed() >= next_kill:
                self.kill_worker("worker")
                self.worker.start()
                next_kill = self.elapsed() + self.rng.uniform(low, high)

    async def watch(self, creating: asyncio.Task[None], done: asyncio.Event) -> None:
        """Counts open instances every few seconds; sets ``done`` when all have closed."""
        last_print = -1e9
        while True:
            await asyncio.sleep(2.0)
            self.worker.ensure_running()
            try:
                client = await self.get_client()
                count = await client.count_workflows(
                    "WorkflowType = 'CrashWorkflow' AND ExecutionStatus = 'Running'",
                    rpc_timeout=RPC_TIMEOUT,
                )
                self.state.open_count = count.count
            except RPCError:
                continue
            executions = self.ledger.rows("SELECT COUNT(*) FROM executions")[0][0]
            if self.elapsed() - last_print >= 10:
                last_print = self.elapsed()
                print(
                    f"[{self.elapsed():6.1f}s] created {len(self.state.created)}/"
                    f"{self.plan.instances}, events sent {len(self.state.sent)}, open "
                    f"{count.count}, worker kills {len(self.state.kills)}, step executions "
                    f"{executions}",
                    flush=True,
                )
            if creating.done() and count.count == 0 and await self._all_closed():
                done.set()
                return

    async def _all_closed(self) -> bool:
        """Confirms with describe (visibility may lag) that every instance has closed."""
        client = await self.get_client()
        gate = asyncio.Semaphore(8)

        async def closed(iid: str) -> bool:
            async with gate:
                desc = await _retry(
                    lambda: client.get_workflow_handle(iid).describe(rpc_timeout=RPC_TIMEOUT),
                    f"describe {iid}",
                )
            return desc.close_time is not None

        results = await asyncio.gather(*(closed(iid) for iid in self.state.created))
        return all(results)

    async def run(self) -> dict[str, Any]:
        events: list[asyncio.Task[None]] = []
        done = asyncio.Event()
        creating = asyncio.create_task(self.create_all(events))
        watching = asyncio.create_task(self.watch(creating, done))
        try:
            await self.chaos(done)
            self.worker.ensure_running()
            remaining = self.plan.chaos_seconds + self.plan.drain_seconds - self.elapsed()
            print(f"[{self.elapsed():6.1f}s] chaos over; draining (up to {remaining:.0f}s)")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), timeout=max(1.0, remaining))
            finished = done.is_set()
        finally:
            watching.cancel()
            creating.cancel()
            for task in events:
                task.cancel()
            await asyncio.gather(watching, creating, *events, return_exceptions=True)
        print(
            f"[{self.elapsed():6.1f}s] "
            + ("all instances closed" if finished else "deadline passed")
            + "; collecting statuses and histories"
        )
        wall = self.elapsed()
        return await self.collect(wall, finished)

    # -- audit -------------------------------------------------------------------------------

    async def collect(self, wall: float, finished: bool) -> dict[str, Any]:
        client = await self.get_client()
        binding = self.binding(client)
        gate = asyncio.Semaphore(8)
        statuses: dict[str, Any] = {}
        histories: dict[str, Any] = {}

        async def one(iid: str) -> None:
            async with gate:
                instance = await _retry(lambda: binding.get(iid), f"get {iid}")
                statuses[iid] = await _retry(instance.status, f"status {iid}")
                history = await _retry(
                    lambda: client.get_workflow_handle(iid).fetch_history(), f"history {iid}"
                )
                histories[iid] = history.events

        await asyncio.gather(*(one(iid) for iid in self.state.created))
        return audit(self, statuses, histories, wall, finished)


def _step_group(name: str) -> int:
    return next(i for i, names in enumerate(STEP_ORDER) if name in names)


def _follows(row: tuple[Any, ...], earlier: tuple[Any, ...]) -> bool:
    """Whether ledger ``row`` is a later step (or attempt) than ``earlier`` in the workflow."""
    group, earlier_group = _step_group(row[2]), _step_group(earlier[2])
    return group > earlier_group or (row[2] == earlier[2] and row[4] > earlier[4])


def _spread(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)
    return {
        "n": len(ordered),
        "median": round(statistics.median(ordered), 3),
        "p90": round(ordered[int(0.9 * (len(ordered) - 1))], 3),
        "max": round(ordered[-1], 3),
    }


def _seconds(ts: Timestamp) -> float:
    return ts.seconds + ts.nanos / 1e9


def audit(
    driver: Driver,
    statuses: dict[str, Any],
    histories: dict[str, Any],
    wall: float,
    finished: bool,
) -> dict[str, Any]:
    state, plan = driver.state, driver.plan
    # ---- history: when the server had each attempt's outcome; task failures; signals
    recorded: dict[tuple[str, str, int, int], float] = {}
    task_failures: Counter[str] = Counter()
    nondeterminism: list[dict[str, Any]] = []
    other_failures: list[dict[str, Any]] = []
    task_timeouts: Counter[str] = Counter()
    approvals: dict[str, int] = {}
    activity_steps = 0
    history_events = 0
    for iid, events in histories.items():
        last_completed: float | None = None
        scheduled: dict[int, tuple[str, int, int]] = {}
        approvals[iid] = 0
        history_events += len(events)
        for event in events:
            kind = event.event_type
            if kind == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
                last_completed = _seconds(event.event_time)
            elif kind == EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
                timeout = event.workflow_task_timed_out_event_attributes.timeout_type
                task_timeouts[TimeoutType.Name(timeout).removeprefix("TIMEOUT_TYPE_")] += 1
            elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
                name = event.workflow_execution_signaled_event_attributes.signal_name
                if name == EVENT_TYPE:
                    approvals[iid] += 1
            elif kind == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
                attrs = event.workflow_task_failed_event_attributes
                cause = WorkflowTaskFailedCause.Name(attrs.cause)
                message = attrs.failure.message
                item = {
                    "instance": iid,
                    "event_id": event.event_id,
                    "cause": cause,
                    "message": message[:300],
                }
                if "TMPRL1100" in message or "NONDETERMINISTIC" in cause:
                    task_failures["nondeterminism"] += 1
                    nondeterminism.append(item)
                else:
                    task_failures[cause] += 1
                    other_failures.append(item)
            elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                # a durable step's attempt: a regular activity named <step>#<count>@<attempt>
                parsed = parse_attempt_id(
                    event.activity_task_scheduled_event_attributes.activity_id
                )
                if parsed is not None:
                    scheduled[event.event_id] = parsed
            elif kind in (
                EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
                EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED,
            ):
                # the server had the outcome as it recorded this event; an attempt another worker
                # handed back (TempflareStepElsewhere) never ran there and is no outcome
                which = event.WhichOneof("attributes")
                attrs = getattr(event, which)
                failure = getattr(attrs, "failure", None)
                elsewhere = failure is not None and (
                    failure.application_failure_info.type == "TempflareStepElsewhere"
                )
                parsed = scheduled.get(attrs.scheduled_event_id)
                if parsed is not None and not elsewhere:
                    activity_steps += 1
                    recorded.setdefault((iid, *parsed), _seconds(event.event_time))
            else:
                marker = local_activity_marker(event)
                if marker is not None and last_completed is not None:
                    parsed = parse_attempt_id(str(marker.get("activity_id", "")))
                    if parsed is not None:
                        recorded.setdefault((iid, *parsed), last_completed)

    # ---- ledger: executions, re-runs, violations, in flight at kills
    rows = driver.ledger.rows(
        "SELECT id, instance, step, count, attempt, pid, started, ended, outcome FROM executions"
    )
    by_attempt: dict[tuple[str, str, int, int], list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        by_attempt[(row[1], row[2], row[3], row[4])].append(row)
    completed_rows = [r for r in rows if r[7] is not None]
    reruns = 0  # extra completed executions of one attempt beyond the one history kept
    rerun_by_step: Counter[str] = Counter()
    extra_executions = 0  # any execution beyond the first of an attempt (completed or not)
    for key, group in by_attempt.items():
        done_count = sum(1 for r in group if r[7] is not None)
        reruns += max(0, done_count - 1)
        rerun_by_step[key[1]] += max(0, done_count - 1)
        extra_executions += len(group) - 1
    # How long after its callback ended each kept result reached the history: the window in
    # which a crash makes a completed step run again.
    lag: dict[str, list[float]] = defaultdict(list)
    for key, recorded_at in recorded.items():
        ends = [r[7] for r in by_attempt.get(key, []) if r[7] is not None and r[7] <= recorded_at]
        if ends:
            kind = "fan" if key[1].startswith("fan") else "sequential"
            lag[kind].append(recorded_at - max(ends))
    violations: list[dict[str, Any]] = []
    for row in rows:
        key = (row[1], row[2], row[3], row[4])
        had = recorded.get(key)
        if had is not None and row[6] > had:
            violations.append(
                {
                    "instance": row[1],
                    "activity_id": f"{row[2]}#{row[3]}@{row[4]}",
                    "pid": row[5],
                    "started": row[6],
                    "history_had_it_at": had,
                    "started_after_s": round(row[6] - had, 4),
                    "completed": row[7] is not None,
                }
            )
    in_flight_total = 0
    killed_at: dict[int, float] = {}
    for kill in state.kills:
        pid, at = kill["pid"], kill["at"]
        killed_at[pid] = at
        hit = [r for r in rows if r[5] == pid and r[6] < at and (r[7] is None or r[7] > at)]
        kill["in_flight"] = len(hit)
        in_flight_total += len(hit)
    interrupted = sum(1 for r in rows if r[7] is None)

    # ---- re-runs of completed executions: how long before the kill the first one had ended
    # (its result still not in history), and how long after the kill the re-run started
    # (its result still not in history), how long after the kill the re-run started, and
    # whether a later step had already started in the killed process (the batch was lost)
    unrecorded_for: list[float] = []
    rerun_delay: list[float] = []
    after_successor: list[dict[str, Any]] = []
    by_process: dict[tuple[str, int], list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        by_process[(row[1], row[5])].append(row)
    for group in by_attempt.values():
        group.sort(key=lambda r: r[6])
        for earlier, later in itertools.pairwise(group):
            at = killed_at.get(earlier[5])
            if at is None:
                continue
            rerun_delay.append(later[6] - at)
            if earlier[7] is None or earlier[7] > at:
                continue
            unrecorded_for.append(at - earlier[7])
            successors = [
                f"{r[2]}#{r[3]}@{r[4]}"
                for r in by_process[(earlier[1], earlier[5])]
                if r[6] < at and _follows(r, earlier)
            ]
            if successors:
                after_successor.append(
                    {
                        "instance": earlier[1],
                        "activity_id": f"{earlier[2]}#{earlier[3]}@{earlier[4]}",
                        "successors_started": successors,
                    }
                )

    # ---- a step attempt that started before the previous one's outcome was in history: the
    # thing durable mode rules out (in batched mode, steps of one workflow task do this)
    early: list[dict[str, Any]] = []
    last_attempt: dict[tuple[str, str, int], int] = {}
    for iid, name, count, attempt in recorded:
        key3 = (iid, name, count)
        last_attempt[key3] = max(attempt, last_attempt.get(key3, 0))
    for row in rows:
        iid, name, count, attempt = row[1], row[2], row[3], row[4]
        if attempt > 1:
            before = [(iid, name, count, attempt - 1)]
        else:
            group_index = _step_group(name)
            previous = STEP_ORDER[group_index - 1] if group_index else ()
            before = [(iid, p, 1, last_attempt.get((iid, p, 1), 0)) for p in previous]
        times = [recorded.get(key) for key in before]
        if not before or any(t is None for t in times):
            continue
        had = max(t for t in times if t is not None)
        if row[6] < had:
            early.append(
                {
                    "instance": iid,
                    "activity_id": f"{name}#{count}@{attempt}",
                    "started_before_s": round(had - row[6], 4),
                }
            )

    # ---- instances: status, events
    status_counts: Counter[str] = Counter()
    failures: list[dict[str, Any]] = []
    lost: list[str] = []
    duplicated: list[str] = []
    for iid in sorted(state.created):
        details = statuses.get(iid)
        status = str(details.status) if details is not None else "unknown"
        status_counts[status] += 1
        if status != "complete":
            error = details.error if details is not None else None
            failures.append(
                {
                    "instance": iid,
                    "status": status,
                    "error": None if error is None else f"{error.name}: {error.message}",
                    "event_sent": iid in state.sent and iid not in state.send_errors,
                }
            )
        if approvals.get(iid, 0) > 1:
            duplicated.append(iid)
        if status == "complete":
            output = details.output if details is not None else None
            got = output.get("event") if isinstance(output, dict) else None
            want = state.sent.get(iid)
            if not isinstance(got, dict) or got.get("token") != want:
                lost.append(iid)
        elif approvals.get(iid, 0) == 0 and iid in state.sent and iid not in state.send_errors:
            lost.append(iid)
    for iid, error in state.create_errors.items():
        failures.append({"instance": iid, "status": "not created", "error": error})

    n = plan.instances
    complete = status_counts.get("complete", 0)
    report: dict[str, Any] = {
        "durability": driver.args.durability,
        "instances": n,
        "seed": driver.args.seed,
        "wall_seconds": round(wall, 1),
        "all_closed_before_deadline": finished,
        "complete": complete,
        "complete_pct": round(100.0 * complete / n, 2) if n else 0.0,
        "statuses": dict(status_counts),
        "failures": failures,
        "worker_kills": len(state.kills),
        "worker_starts": driver.worker.starts,
        "worker_unexpected_exits": driver.worker.unexpected_exits,
        "server_restarts": state.server_restarts,
        "cluster_faults": state.cluster_faults,
        "events_sent": len(state.sent) - len(state.send_errors),
        "event_send_errors": state.send_errors,
        "events_lost": lost,
        "events_duplicated": duplicated,
        "history_events": history_events,
        "activity_step_outcomes": activity_steps,
        "step_attempts": len(by_attempt),
        "step_executions": len(rows),
        "completed_executions": len(completed_rows),
        "interrupted_executions": interrupted,
        "extra_executions": extra_executions,
        "completed_step_reruns": reruns,
        "completed_step_reruns_by_step": dict(rerun_by_step),
        "reruns_after_history_had_result": len(violations),
        "violations": violations,
        "steps_in_flight_at_kills": in_flight_total,
        "kills": state.kills,
        "rerun_pct_of_executions": round(100.0 * reruns / len(rows), 2) if rows else 0.0,
        "extra_pct_of_executions": round(100.0 * extra_executions / len(rows), 2) if rows else 0.0,
        "workflow_task_failures": dict(task_failures),
        "nondeterminism_errors": nondeterminism,
        "other_task_failures": other_failures,
        "workflow_task_timeouts": dict(task_timeouts),
        "started_before_previous_step_in_history": len(early),
        "started_before_previous_step_examples": early[:20],
        "reruns_after_successor_started": len(after_successor),
        "reruns_after_successor_started_examples": after_successor[:20],
        "rerun_first_completed_before_kill_s": _spread(unrecorded_for),
        "recording_lag_s": {kind: _spread(values) for kind, values in sorted(lag.items())},
        "rerun_started_after_kill_s": _spread(rerun_delay),
    }
    return report


def print_report(report: dict[str, Any]) -> None:
    def line(label: str, value: Any) -> None:
        print(f"  {label:<60} {value}")

    def spread(figures: dict[str, float]) -> str:
        if not figures:
            return "-"
        return f"median {figures['median']}, p90 {figures['p90']}, max {figures['max']}"

    def counts(figures: dict[str, int]) -> str:
        return ", ".join(f"{k} {v}" for k, v in sorted(figures.items()) if v) or "0"

    n = report["instances"]
    executions = report["step_executions"]
    print()
    print(
        f"crash test: {n} instances, durability={report['durability']}, seed={report['seed']}, "
        f"{report['wall_seconds']} s"
    )
    print("-" * 80)
    line("complete", f"{report['complete']}/{n} ({report['complete_pct']}%)")
    line("statuses", counts(report["statuses"]))
    line("all closed before the deadline", report["all_closed_before_deadline"])
    line(
        "worker kills / starts / unexpected exits",
        f"{report['worker_kills']} / {report['worker_starts']} / "
        f"{len(report['worker_unexpected_exits'])}",
    )
    line(
        "server kills + restarts (seconds down)",
        ", ".join(f"{r['down_s']:.1f}" for r in report["server_restarts"]) or "0",
    )
    if report.get("cluster_faults"):
        line(
            "cluster faults (seconds to restart)",
            ", ".join(f"{f['fault']} {f['down_s']:.1f}" for f in report["cluster_faults"]),
        )
    line(
        "history events (all instances) / step outcomes as activities",
        f"{report['history_events']} / {report['activity_step_outcomes']}",
    )
    print("-" * 80)
    line("step attempts (distinct instance, step, count, attempt)", report["step_attempts"])
    line("step executions (ledger rows)", executions)
    line("completed executions (with an end time)", report["completed_executions"])
    line("interrupted executions (no end time: killed mid-step)", report["interrupted_executions"])
    line(
        "steps in flight at the worker kills (total; per kill)",
        f"{report['steps_in_flight_at_kills']}; "
        + " ".join(str(k.get("in_flight", 0)) for k in report["kills"]),
    )
    line(
        "executions beyond the first of an attempt",
        f"{report['extra_executions']} ({report['extra_pct_of_executions']}% of executions)",
    )
    line(
        "completed-step re-runs (extra completed executions)",
        f"{report['completed_step_reruns']} ({report['rerun_pct_of_executions']}% of executions)",
    )
    line("  by step", counts(report["completed_step_reruns_by_step"]))
    line(
        "  first run had ended this long before the kill (s)",
        spread(report["rerun_first_completed_before_kill_s"]),
    )
    line(
        "  of which a later step had already started (batch lost)",
        report["reruns_after_successor_started"],
    )
    line(
        "  re-run started this long after the kill (s)",
        spread(report["rerun_started_after_kill_s"]),
    )
    for kind, figures in report["recording_lag_s"].items():
        line(f"result in history this long after the callback ended, {kind} (s)", spread(figures))
    line(
        "re-runs started after history had the result (VIOLATIONS)",
        report["reruns_after_history_had_result"],
    )
    line(
        "steps started before the previous step was in history",
        f"{report['started_before_previous_step_in_history']}"
        + (" (durable mode: VIOLATIONS)" if report["durability"] == "durable" else ""),
    )
    print("-" * 80)
    line("events sent", report["events_sent"])
    line(
        "events lost / duplicated",
        f"{len(report['events_lost'])} / {len(report['events_duplicated'])}",
    )
    line("nondeterminism errors (TMPRL1100)", len(report["nondeterminism_errors"]))
    other = {k: v for k, v in report["workflow_task_failures"].items() if k != "nondeterminism"}
    line("other workflow task failures", counts(other))
    line("workflow task timeouts (by type)", counts(report["workflow_task_timeouts"]))
    print("-" * 80)
    sections: list[tuple[str, list[dict[str, Any]]]] = [
        ("failures", report["failures"]),
        ("violations", report["violations"]),
        ("nondeterminism", report["nondeterminism_errors"]),
        ("other task failures", report["other_task_failures"]),
    ]
    if report["durability"] == "durable":
        sections.append(
            (
                "re-runs whose later step had already started",
                report["reruns_after_successor_started_examples"],
            )
        )
        sections.append(
            (
                "started before the previous step was in history",
                report["started_before_previous_step_examples"],
            )
        )
    for title, items in sections:
        if items:
            print(f"{title} ({len(items)}, first 20):")
            for item in items[:20]:
                print("   ", json.dumps(item))
    for title, ids in (
        ("lost events", report["events_lost"]),
        ("duplicated events", report["events_duplicated"]),
    ):
        if ids:
            print(f"{title}: {', '.join(ids[:20])}")


# ------------------------------------------------------------------------------------------
# Entry point
# ------------------------------------------------------------------------------------------


def parse_range(text: str) -> tuple[float, float]:
    low, _, high = text.partition("-")
    pair = (float(low), float(high or low))
    if not 0 < pair[0] <= pair[1]:
        raise argparse.ArgumentTypeError(f"expected LOW-HIGH seconds, got {text!r}")
    return pair


#: The cluster faults ``--cluster`` injects, in turn.
CLUSTER_FAULTS: Final = ("history-1", "frontend", "postgres", "history-2")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--instances", type=int, default=200)
    parser.add_argument("--durability", choices=["durable", "batched"], default="durable")
    parser.add_argument(
        "--kill-every",
        type=parse_range,
        default=(3.0, 6.0),
        help="seconds between worker kills, LOW-HIGH (default 3-6)",
    )
    parser.add_argument(
        "--server-kills",
        type=int,
        default=None,
        help="dev server kills (default 2); with --cluster, cluster faults (default 3)",
    )
    parser.add_argument(
        "--cluster",
        action="store_true",
        help="run on a fresh local cluster (cluster/local.py) with history, frontend and "
        "PostgreSQL restarts instead of dev server kills",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--start-window",
        type=float,
        default=None,
        help="seconds over which instances are created (default N/10, >= 15)",
    )
    parser.add_argument(
        "--chaos-seconds",
        type=float,
        default=None,
        help="seconds of kills (default start window + 20)",
    )
    parser.add_argument(
        "--drain-seconds",
        type=float,
        default=300.0,
        help="after the kills stop, how long to wait for instances to close",
    )
    parser.add_argument(
        "--event-delay",
        type=float,
        default=6.0,
        help="each event is sent 0..this many seconds after its create",
    )
    parser.add_argument("--json", type=Path, default=None, help="where to write the figures")
    parser.add_argument(
        "--keep", action="store_true", help="keep the run directory (server DB, ledger, logs)"
    )
    # Internal: the worker subprocess.
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--address", help=argparse.SUPPRESS)
    parser.add_argument("--task-queue", default="crash-test", help=argparse.SUPPRESS)
    parser.add_argument("--ledger", help=argparse.SUPPRESS)
    parser.add_argument("--parent", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--tag", default="", help=argparse.SUPPRESS)
    return parser


def main() -> int:
    args = build_parser().parse_args()
    if args.worker:
        worker_main(args)
        return 0
    start_window = args.start_window or max(15.0, args.instances / 10)
    plan = Plan(
        instances=args.instances,
        start_window=start_window,
        chaos_seconds=args.chaos_seconds or start_window + 20.0,
        drain_seconds=args.drain_seconds,
        kill_every=args.kill_every,
        server_kills=(3 if args.cluster else 2) if args.server_kills is None else args.server_kills,
        event_delay=args.event_delay,
    )
    args.tag = f"{args.durability[0]}{args.seed}"
    run_dir = Path(tempfile.mkdtemp(prefix=f"tempflare-crash-{args.durability}-"))
    json_path: Path = args.json or Path(tempfile.gettempdir()) / f"{run_dir.name}.json"
    ledger_path = run_dir / "ledger.sqlite"
    ledger = Ledger(ledger_path, create=True)
    server: DevServer | LocalCluster
    if args.cluster:
        run_dir.chmod(0o755)  # PostgreSQL runs as the `postgres` user when we are root
        server = LocalCluster(run_dir / "cluster", base_port=free_base_port())
    else:
        server = DevServer(
            port=find_free_port(),
            ui_port=None,
            db_filename=run_dir / "temporal.sqlite",
            log_file=run_dir / "server.log",
        )
    print(
        f"crash test: {plan.instances} instances, durability={args.durability}, seed={args.seed}"
        f"; creating over {plan.start_window:.0f}s, kills for {plan.chaos_seconds:.0f}s "
        f"(worker every {plan.kill_every[0]:g}-{plan.kill_every[1]:g}s, server x"
        f"{plan.server_kills}), drain up to {plan.drain_seconds:.0f}s; run dir {run_dir}"
        + ("; on the local cluster" if args.cluster else ""),
        flush=True,
    )
    if isinstance(server, LocalCluster):
        server.up()
    else:
        server.start(timeout=120.0)
    worker = WorkerProcess(
        [
            sys.executable,
            str(Path(__file__).resolve()),
            "--worker",
            "--address",
            server.address,
            "--task-queue",
            args.task_queue,
            "--ledger",
            str(ledger_path),
            "--durability",
            args.durability,
            "--parent",
            str(os.getpid()),
        ],
        run_dir / "worker.log",
    )
    keep = args.keep
    try:
        worker.start()
        driver = Driver(args, server, worker, ledger, plan)
        report = asyncio.run(driver.run())
        report["run_dir"] = str(run_dir)
        print_report(report)
        json_path.write_text(json.dumps(report, indent=2, default=str))
        print(f"\nfigures written to {json_path}")
        trouble = (
            report["reruns_after_history_had_result"]
            or (
                args.durability == "durable"
                and (
                    report["started_before_previous_step_in_history"]
                    or report["reruns_after_successor_started"]
                )
            )
            or report["nondeterminism_errors"]
            or report["complete"] != plan.instances
            or report["events_lost"]
            or report["events_duplicated"]
        )
        keep = keep or bool(trouble)
        return 1 if trouble else 0
    finally:
        worker.kill()
        if isinstance(server, LocalCluster):
            server.down(keep_files=keep)  # its logs and database, for a post-mortem
        else:
            server.stop()
        ledger.close()
        if keep:
            print(f"run directory kept: {run_dir}")
        else:
            shutil.rmtree(run_dir, ignore_errors=True)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("interrupted; the server and worker were stopped", file=sys.stderr)
        sys.exit(130)
