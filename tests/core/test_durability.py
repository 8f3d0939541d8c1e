"""Per-step durability on the real server: where each step's result is when the next starts,
what a killed worker runs again, how durability is chosen, and what status costs in history.

The kill tests run the worker in a child process (``tests/core/durability_worker.py``) and
SIGKILL it while a step is in flight, then start another and check the ledger of callback runs.
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

from adapter import StepConfigError, Workflow, WorkflowEntrypoint, WorkflowEvent, WorkflowStep
from adapter._workflow.definition import WorkerRuntime, build_workflow_class

from ..helpers import StepAttempt, attempts_in, describe_events
from .durability_worker import Ledgered

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[2]
CLIENT: dict[str, Client] = {}
SEEN: dict[str, list[list[str]]] = {}


async def recorded_steps(instance_id: str) -> list[str]:
    """Names of the steps whose results the server has, read from the history."""
    history = await CLIENT["client"].get_workflow_handle(instance_id).fetch_history()
    return [a.summary for a in completed_attempts(history)]


def completed_attempts(history: Any) -> list[StepAttempt]:
    return [a for a in attempts_in(history) if not a.failed]


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


async def activity_steps(handle: Any) -> list[str]:
    """Steps that ran as regular activities (durable), not as local activities (batched)."""
    history = await handle.fetch_history()
    return [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
    ]


@pytest.mark.parametrize(
    ("cls", "worker_durability", "durable_steps"),
    [
        (Chosen, "durable", ["default", "durable"]),
        (Chosen, "batched", ["durable"]),
        (ChosenBatched, "durable", ["durable"]),  # the class wins over the worker
    ],
)
async def test_durability_is_chosen_per_worker_per_class_and_per_step(
    tempflare_worker: Any, cls: Any, worker_durability: str, durable_steps: list[str]
) -> None:
    async with tempflare_worker(cls, durability=worker_durability) as wf:
        instance = await wf.create()
        assert await instance.handle.result() == 3
    assert await activity_steps(instance.handle) == durable_steps


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

    from adapter._shared.config import resolve_step_config

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
    # nothing per step, and no final status (Temporal's own execution status tells it)
    if durability == "durable":
        # running from the first step, waiting on the nap, running again
        assert written == [("running", "before 0"), ("waiting", "nap"), ("running", "after 0")]
    else:
        # local activities run inside workflow tasks, whose ends only a reader sees: the nap
        assert written == [("waiting", "nap")]


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
        [sys.executable, "-m", "tests.core.durability_worker", address, task_queue, durability],
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


async def replay_failure(history: Any, client: Client, durability: Any = "durable") -> str | None:
    """Replays a history with the configuration that recorded it (durability is part of it)."""
    replayer = Replayer(
        workflows=[build_workflow_class(Ledgered, WorkerRuntime(durability=durability))],
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
    failure = await replay_failure(history, tempflare_env.client, durability)
    assert failure is None, describe_events(history)


async def test_a_worker_killed_in_the_middle_of_a_fan_out(
    tempflare_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    runs, history = await run_killing_the_worker(
        tempflare_env, tmp_path, "durable", hang_in="c", ready=["end a", "end b", "start c"]
    )
    # the steps before the fan-out, and the fan-out's finished steps, were in history: each
    # step's result is recorded as it ends; only the step in flight ran again
    assert runs["end first"] == runs["end second"] == 1
    assert runs["end a"] == runs["end b"] == 1
    assert runs["start c"] == 2 and runs["end c"] == 1
    assert runs["end last"] == 1
    assert await replay_failure(history, tempflare_env.client) is None, describe_events(history)


class LongStep(WorkflowEntrypoint[None, None]):
    """A step that outlasts the workflow task timeout, which is its heartbeat timeout."""

    async def run(self, event: WorkflowEvent[None], step: WorkflowStep) -> str:
        runs = SEEN.setdefault(event.instance_id, [])

        async def long() -> str:
            runs.append(["long"])
            await asyncio.sleep(3)
            return "long"

        await step.do("long", long)
        return str(await step.do("after", lambda: "after"))


async def test_a_long_durable_step_heartbeats_and_runs_once(tempflare_worker: Any) -> None:
    async with tempflare_worker(LongStep) as wf:
        handle = await wf.client.start_workflow(
            "LongStep",
            None,
            id=f"long-{uuid.uuid4().hex[:8]}",
            task_queue=wf.task_queue,
            task_timeout=timedelta(seconds=1),  # a dead worker is told within 1 s
        )
        assert await asyncio.wait_for(handle.result(), 30) == "after"
    history = await handle.fetch_history()
    assert SEEN[handle.id] == [["long"]]
    assert [(a.summary, a.failed) for a in attempts_in(history)] == [
        ("long", False),
        ("after", False),
    ], describe_events(history)


class Handed(WorkflowEntrypoint[None, None]):
    """Steps that note the process they ran in."""

    async def run(self, event: WorkflowEvent[None], step: WorkflowStep) -> list[int]:
        runs = SEEN.setdefault(event.instance_id, [])

        def where(name: str) -> Any:
            def body() -> int:
                runs.append([name])
                return 1

            return body

        return [await step.do(f"step {n}", where(f"step {n}")) for n in range(3)]


async def test_an_attempt_another_worker_gets_is_handed_back_to_the_one_with_its_code(
    tempflare_client: Client, task_queue: str
) -> None:
    """Two workers on one task queue, eager dispatch off: the task queue hands some attempts to
    the worker that does not run their workflow, which hands them back, and they run once, in
    the worker that holds their callback."""
    from adapter import connect, create_worker

    # a second connection: one client runs one worker per task queue
    other = await connect(tempflare_client.service_client.config.target_host)

    def worker(client: Client) -> Any:
        return create_worker(
            client, task_queue=task_queue, workflows=[Handed], disable_eager_activity_execution=True
        )

    binding = Workflow(tempflare_client, Handed, task_queue=task_queue)
    async with worker(tempflare_client), worker(other):
        instances = [await binding.create() for _ in range(8)]
        for instance in instances:
            assert await asyncio.wait_for(instance.handle.result(), 60) == [1, 1, 1]
    handed_back = 0
    for instance in instances:
        assert SEEN[instance.id] == [["step 0"], ["step 1"], ["step 2"]]
        history = await instance.handle.fetch_history()
        attempts = attempts_in(history)
        handed_back += sum(a.failed for a in attempts)
        assert [a.summary for a in attempts if not a.failed] == ["step 0", "step 1", "step 2"]
    assert handed_back > 0  # 24 attempts, each taken by either worker: some went astray
