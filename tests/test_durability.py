"""Per-step durability on the real server: where each step's result is when the next starts,
what a killed worker runs again, how durability is chosen, and what status costs in history.

The kill tests run the worker in a child process (``tests/durability_worker.py``) and SIGKILL it
while a step is in flight, then start another and check the ledger of callback runs.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from adapter import StepConfigError, WorkflowEntrypoint, WorkflowEvent, WorkflowStep
from adapter._constants import CHECKPOINT_SIGNAL
from adapter._history import local_activity_marker, parse_attempt_id
from adapter._workflow import WorkerRuntime, build_workflow_class

from .durability_worker import Ledgered
from .helpers import describe_events

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[1]
CLIENT: dict[str, Client] = {}
SEEN: dict[str, list[list[str]]] = {}


async def recorded_steps(instance_id: str) -> list[str]:
    """Names of the steps whose results the server has, read from the history."""
    history = await CLIENT["client"].get_workflow_handle(instance_id).fetch_history()
    names = []
    for event in history.events:
        data = local_activity_marker(event)
        parsed = parse_attempt_id(str(data.get("activity_id"))) if data else None
        if parsed:
            names.append(parsed[0])
    return names


class Observed(WorkflowEntrypoint[None, None]):
    """Three steps; each notes which earlier results the server had when it started."""

    async def run(self, event: WorkflowEvent[None], step: WorkflowStep) -> list[str]:
        iid = event.instance_id

        async def observe() -> str:
            SEEN.setdefault(iid, []).append(await recorded_steps(iid))
            return "ok"

        return [await step.do(name, observe) for name in ("one", "two", "three")]


@pytest.mark.parametrize("durability", ["durable", "batched"])
async def test_a_durable_result_is_in_history_before_the_next_step_starts(
    tempflare_worker: Any, tempflare_client: Client, durability: str
) -> None:
    CLIENT["client"] = tempflare_client
    async with tempflare_worker(Observed, durability=durability) as wf:
        instance = await wf.create()
        assert await instance.handle.result() == ["ok", "ok", "ok"]
    if durability == "durable":
        assert SEEN[instance.id] == [[], ["one"], ["one", "two"]]
    else:
        # batched: all three ran in one workflow task, which recorded them together
        assert SEEN[instance.id] == [[], [], []]
    assert await recorded_steps(instance.id) == ["one", "two", "three"]


class Chosen(WorkflowEntrypoint[None, None]):
    """Three steps: worker's or class's choice, then batched, then durable by config."""

    async def run(self, event: WorkflowEvent[None], step: WorkflowStep) -> int:
        await step.do("default", lambda: 1)
        await step.do("batched", {"durability": "batched"}, lambda: 2)
        await step.do("durable", {"durability": "durable"}, lambda: 3)
        return 3


class ChosenBatched(Chosen, durability="batched", name="ChosenBatched"):
    pass


async def checkpointed_steps(handle: Any) -> int:
    history = await handle.fetch_history()
    return sum(
        1
        for e in history.events
        if e.HasField("workflow_execution_signaled_event_attributes")
        and e.workflow_execution_signaled_event_attributes.signal_name == CHECKPOINT_SIGNAL
    )


@pytest.mark.parametrize(
    ("cls", "worker_durability", "checkpoints"),
    [
        (Chosen, "durable", 2),  # default and durable
        (Chosen, "batched", 1),  # durable only
        (ChosenBatched, "durable", 1),  # the class wins over the worker
    ],
)
async def test_durability_is_chosen_per_worker_per_class_and_per_step(
    tempflare_worker: Any, cls: Any, worker_durability: str, checkpoints: int
) -> None:
    async with tempflare_worker(cls, durability=worker_durability) as wf:
        instance = await wf.create()
        assert await instance.handle.result() == 3
    assert await checkpointed_steps(instance.handle) == checkpoints


async def test_bad_durability_is_refused_with_the_value_and_the_choices(
    tempflare_client: Client, task_queue: str
) -> None:
    from adapter import create_worker

    with pytest.raises(ValueError, match=r"durability='fast' must be one of \['durable'"):
        create_worker(
            tempflare_client, task_queue=task_queue, workflows=[Chosen], durability="fast"
        )  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="durability='eventually'"):

        class Bad(WorkflowEntrypoint[None, None], durability="eventually"):  # type: ignore[arg-type]
            pass

    from adapter.config import resolve_step_config

    with pytest.raises(StepConfigError, match="durability must be one of"):
        resolve_step_config("s", {"durability": "sometimes"})


class Steady(WorkflowEntrypoint[None, None]):
    """Ten steps, a sleep, ten steps: what the status bookkeeping costs in history."""

    async def run(self, event: WorkflowEvent[None], step: WorkflowStep) -> int:
        total = 0
        for n in range(10):
            total += await step.do(f"before {n}", lambda n=n: n)
        await step.sleep("nap", "50ms")
        for n in range(10):
            total += await step.do(f"after {n}", lambda n=n: n)
        return total


@pytest.mark.parametrize("durability", ["durable", "batched"])
async def test_status_is_written_when_it_changes_not_for_every_step(
    tempflare_worker: Any, durability: str
) -> None:
    async with tempflare_worker(Steady, durability=durability) as wf:
        instance = await wf.create()
        assert await instance.handle.result() == 90
    history = await instance.handle.fetch_history()
    upserts = [
        e.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES
        and "TempflareStatus"
        in e.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
    ]
    written = [
        (json.loads(f["TempflareStatus"].data), json.loads(f["TempflareStep"].data))
        for f in upserts
    ]
    # running from the first step, waiting on the nap, running again: nothing per step, and no
    # final status (Temporal's own execution status tells it)
    assert written == [("running", "before 0"), ("waiting", "nap"), ("running", "after 0")]


class LastStep(WorkflowEntrypoint[None, None]):
    async def run(self, event: WorkflowEvent[None], step: WorkflowStep) -> str:
        SEEN.setdefault(event.instance_id, []).append(["ran"])
        return str(
            await step.do("only", lambda: SEEN[event.instance_id].append(["step"]) or "done")
        )


async def test_a_durable_last_step_runs_once_and_closes_the_run_cleanly(
    tempflare_worker: Any,
) -> None:
    """The checkpoint signal must be handled before the run closes: the server refuses to close
    a run with a buffered signal and fails the task, losing the step's result."""
    async with tempflare_worker(LastStep) as wf:
        instance = await wf.create()
        assert await instance.handle.result() == "done"
    assert SEEN[instance.id].count(["step"]) == 1
    lines = describe_events(await instance.handle.fetch_history())
    assert not [line for line in lines if "TASK_FAILED" in line], lines


# --------------------------------------------------------------------------- killed workers


@contextmanager
def worker_process(
    address: str, task_queue: str, durability: str
) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.durability_worker", address, task_queue, durability],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)


def ledger_lines(ledger: Path) -> list[str]:
    return ledger.read_text().splitlines() if ledger.exists() else []


async def run_killing_the_worker(
    env: WorkflowEnvironment, tmp_path: Path, durability: str, hang_in: str, ready: list[str]
) -> tuple[Counter[str], Any]:
    """Starts ``Ledgered``, kills its worker once the ledger shows ``ready``, finishes it on a
    second worker, and returns how often each ledger line was written, and the history."""
    client = env.client
    address = client.service_client.config.target_host
    task_queue = f"kill-{uuid.uuid4().hex[:8]}"
    ledger = tmp_path / "ledger.txt"
    with worker_process(address, task_queue, durability) as first:
        handle = await client.start_workflow(
            "Ledgered",
            {"ledger": str(ledger), "hang_in": hang_in},
            id=f"kill-{task_queue}",
            task_queue=task_queue,
            # a short task timeout: the server hands the dead worker's task on sooner
            task_timeout=timedelta(seconds=2),
        )
        deadline = time.monotonic() + 60
        while not all(line in ledger_lines(ledger) for line in ready):
            assert time.monotonic() < deadline, ledger_lines(ledger)
            await asyncio.sleep(0.02)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    with worker_process(address, task_queue, durability):
        result = await asyncio.wait_for(handle.result(), 60)
    assert result == ["first", "second", "a", "b", "c", "last"]
    return Counter(ledger_lines(ledger)), await handle.fetch_history()


async def replay_failure(history: Any, client: Client) -> str | None:
    replayer = Replayer(
        workflows=[build_workflow_class(Ledgered, WorkerRuntime())],
        data_converter=client.data_converter,
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    return None if result.replay_failure is None else str(result.replay_failure)


@pytest.mark.parametrize("durability", ["durable", "batched"])
async def test_a_killed_worker_runs_again_only_the_step_in_flight(
    tempflare_env: WorkflowEnvironment, tmp_path: Path, durability: str
) -> None:
    runs, history = await run_killing_the_worker(
        tempflare_env, tmp_path, durability, hang_in="second", ready=["start second"]
    )
    assert runs["start second"] == 2 and runs["end second"] == 1  # in flight: runs again
    if durability == "durable":
        assert runs["start first"] == runs["end first"] == 1  # in history: never again
    else:
        # batched: "first" finished in the task that "second" held open, so it was lost too
        assert runs["start first"] == runs["end first"] == 2
    assert all(runs[f"end {name}"] == 1 for name in ("a", "b", "c", "last"))
    assert await replay_failure(history, tempflare_env.client) is None, describe_events(history)


async def test_a_worker_killed_in_the_middle_of_a_fan_out(
    tempflare_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    runs, history = await run_killing_the_worker(
        tempflare_env, tmp_path, "durable", hang_in="c", ready=["end a", "end b", "start c"]
    )
    # the steps before the fan-out were in history: they never ran again
    assert runs["end first"] == runs["end second"] == 1
    # the fan-out's local activities are recorded together, when the last of them ends: the
    # finished siblings were not in history yet, so they ran again with the one in flight
    assert runs["start c"] == 2 and runs["end c"] == 1
    assert runs["end a"] == runs["end b"] == 2
    assert runs["end last"] == 1
    assert await replay_failure(history, tempflare_env.client) is None, describe_events(history)


class LongStep(WorkflowEntrypoint[None, None]):
    """A step that outlasts the task heartbeat, then another."""

    async def run(self, event: WorkflowEvent[None], step: WorkflowStep) -> str:
        async def long() -> str:
            await asyncio.sleep(2.5)
            return "long"

        await step.do("long", long)
        return str(await step.do("after", lambda: "after"))


async def test_a_step_outlasting_the_task_heartbeat_is_recorded_before_the_next_starts(
    tempflare_worker: Any,
) -> None:
    """sdk-core completes a task whose local activity runs past 80% of the task timeout; the
    server then starts the next task with the checkpoint signal the step sent before it ran, so
    a timer has to start the task after the one that records the step."""
    async with tempflare_worker(LongStep) as wf:
        handle = await wf.client.start_workflow(
            "LongStep",
            None,
            id=f"long-{uuid.uuid4().hex[:8]}",
            task_queue=wf.task_queue,
            task_timeout=timedelta(seconds=2),  # a heartbeat every 1.6 s
        )
        assert await asyncio.wait_for(handle.result(), 30) == "after"
    history = await handle.fetch_history()
    lines = describe_events(history)
    markers = [i for i, line in enumerate(lines) if "core_local_activity" in line]
    timers = [i for i, line in enumerate(lines) if "TIMER_STARTED" in line]
    assert len(markers) == 2 and len(timers) == 1, lines
    assert markers[0] < timers[0] < markers[1], lines  # "long" recorded, then a timer, then "after"
    replayer = Replayer(
        workflows=[build_workflow_class(LongStep, WorkerRuntime())],
        data_converter=wf.client.data_converter,
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, (str(result.replay_failure), lines)
