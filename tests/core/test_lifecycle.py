"""Instance lifecycle on the real server: every status, pause, resume, terminate, restart, events,
batches, and the same operations on instances started with the plain Temporal client."""

from __future__ import annotations

import asyncio
import functools
from collections import defaultdict
from typing import Any

import pytest
from temporalio import activity
from temporalio.client import Client

from adapter import (
    InstanceFinishedError,
    InstanceNotFoundError,
    StepNotFoundError,
    Workflow,
    WorkflowEntrypoint,
    WorkflowEvent,
    WorkflowStep,
    WorkflowStepError,
    create_worker,
)

from ..helpers import eventually, timers

pytestmark = pytest.mark.server

RAN: dict[str, list[str]] = defaultdict(list)


@activity.defn(name="slow_work")
async def slow_work(iid: str, seconds: float) -> str:
    """A registered activity: the server sees it start, so ``running`` shows at once."""
    RAN[iid].append("slow")
    await asyncio.sleep(seconds)
    return "slow done"


class Lifecycle(WorkflowEntrypoint[None, dict]):
    """One slow step, a sleep, an event wait, a last step; shaped by params."""

    async def run(self, event: WorkflowEvent[dict], step: WorkflowStep) -> Any:
        p, iid = event.payload, event.instance_id
        first = await step.do("slow step", functools.partial(slow_work, iid, p.get("slow", 0.1)))
        await step.sleep("nap", p.get("nap", 100))
        got = await step.wait_for_event("approval", type="approve", timeout="1 minute")
        last = await step.do("last step", lambda: RAN[iid].append("last") or "last done")
        if p.get("fail"):
            raise WorkflowStepError("asked to fail", name="Failing")
        return {"first": first, "event": got.payload, "last": last}


def status_of(instance: Any) -> Any:
    async def read() -> str:
        return (await instance.status()).status.value

    return read


async def test_status_walks_queued_running_waiting_complete(
    tempflare_client: Client, task_queue: str
) -> None:
    binding = Workflow(tempflare_client, Lifecycle, task_queue=task_queue)
    instance = await binding.create(id=f"walk-{task_queue}", params={"slow": 1.5, "nap": 1000})
    assert (await instance.status()).status == "queued"  # no worker yet
    async with create_worker(
        tempflare_client, task_queue=task_queue, workflows=[Lifecycle], activities=[slow_work]
    ):
        await eventually(status_of(instance), lambda s: s == "running")
        await eventually(status_of(instance), lambda s: s == "waiting")
        await instance.send_event("approve", {"by": "me"})
        await eventually(status_of(instance), lambda s: s == "complete")
    # read with the worker stopped: all from the server
    status = await instance.status()
    assert status.status == "complete"
    assert status.output == {"first": "slow done", "event": {"by": "me"}, "last": "last done"}


async def test_pause_waits_for_the_attempt_in_flight_then_pauses(tempflare_worker: Any) -> None:
    async with tempflare_worker(Lifecycle, activities=[slow_work]) as wf:
        instance = await wf.create(id="pause-inflight", params={"slow": 2, "nap": 100})
        await eventually(status_of(instance), lambda s: s == "running")
        await instance.pause()
        assert await eventually(status_of(instance), lambda s: s != "running") == "waitingForPause"
        await eventually(status_of(instance), lambda s: s == "paused")
        await asyncio.sleep(1.5)
        # paused: the nap has not elapsed into the event wait, no new step ran
        assert await status_of(instance)() == "paused"
        assert RAN[instance.id] == ["slow"]
        await instance.send_event("approve", {"while": "paused"})  # buffered
        await instance.resume()
        result = await instance.handle.result()
    assert result["event"] == {"while": "paused"}
    assert RAN[instance.id] == ["slow", "last"]


async def test_pause_interrupts_a_sleep_and_resume_keeps_the_remaining_time(
    tempflare_worker: Any,
) -> None:
    async with tempflare_worker(Lifecycle, activities=[slow_work]) as wf:
        instance = await wf.create(id="pause-sleep", params={"nap": 10_000})
        await eventually(lambda: timers(instance.handle), lambda t: len(t) == 1)
        await asyncio.sleep(2)
        await instance.pause()
        await eventually(status_of(instance), lambda s: s == "paused")
        await asyncio.sleep(2)
        await instance.resume()
        found = await eventually(lambda: timers(instance.handle), lambda t: len(t) == 2)
        await instance.terminate()
    first, second = found[0], found[1]
    assert (first.summary, first.seconds) == ("nap", 10.0)
    assert second.summary == "nap"
    # the second timer only covers what was left: about 8 of the 10 seconds
    assert 5.0 <= second.seconds <= 9.0, second.seconds


async def test_resume_on_a_running_instance_does_nothing(tempflare_worker: Any) -> None:
    async with tempflare_worker(Lifecycle, activities=[slow_work]) as wf:
        instance = await wf.create(id="resume-noop", params={"nap": 100})
        await eventually(status_of(instance), lambda s: s == "waiting")
        await instance.resume()
        assert await status_of(instance)() == "waiting"
        await instance.send_event("approve", 1)
        assert (await instance.handle.result())["event"] == 1


async def test_terminate_and_finished_instances(tempflare_worker: Any) -> None:
    async with tempflare_worker(Lifecycle, activities=[slow_work]) as wf:
        instance = await wf.create(id="terminate-me", params={})
        await eventually(status_of(instance), lambda s: s == "waiting")
        await instance.terminate()
        assert await status_of(instance)() == "terminated"
        for operation in (
            instance.terminate(),
            instance.send_event("approve", 1),
            instance.pause(),
        ):
            with pytest.raises(InstanceFinishedError, match="terminated, a final status"):
                await operation
        with pytest.raises(InstanceNotFoundError, match='"no-such-instance" not found'):
            await wf.get("no-such-instance")


async def test_errored_status_with_the_worker_stopped(
    tempflare_client: Client, task_queue: str
) -> None:
    binding = Workflow(tempflare_client, Lifecycle, task_queue=task_queue)
    async with create_worker(
        tempflare_client, task_queue=task_queue, workflows=[Lifecycle], activities=[slow_work]
    ):
        instance = await binding.create(id=f"err-{task_queue}", params={"fail": True})
        await instance.send_event("approve", 1)
        await eventually(status_of(instance), lambda s: s == "errored")
    status = await instance.status()
    assert status.error is not None
    assert (status.error.name, status.error.message) == ("Failing", "asked to fail")


async def test_restart_runs_everything_again_from_any_status(tempflare_worker: Any) -> None:
    async with tempflare_worker(Lifecycle, activities=[slow_work]) as wf:
        instance = await wf.create(id="restart-all", params={"nap": 100})
        await instance.send_event("approve", "first time")
        await instance.handle.result()
        assert RAN[instance.id] == ["slow", "last"]
        await instance.restart()  # from complete
        await eventually(status_of(instance), lambda s: s == "waiting")
        # the old event is gone with the old run: the wait is waiting again
        assert RAN[instance.id] == ["slow", "last", "slow"]
        await instance.restart()  # from waiting (running)
        await eventually(lambda: asyncio.sleep(0, RAN[instance.id]), lambda r: len(r) == 4)
        await instance.terminate()
        await instance.restart()  # from terminated
        await instance.send_event("approve", "second time")
        result = await instance.handle.result()
    assert result["event"] == "second time"
    assert RAN[instance.id] == ["slow", "last", "slow", "slow", "slow", "last"]


async def test_restart_from_a_step_keeps_earlier_results(tempflare_worker: Any) -> None:
    async with tempflare_worker(Lifecycle, activities=[slow_work]) as wf:
        instance = await wf.create(id="restart-step", params={"nap": 100})
        await instance.send_event("approve", "kept")
        await instance.handle.result()
        await instance.restart(from_step={"name": "last step", "count": 1, "type": "do"})
        result = await instance.handle.result()
        # only the last step ran again; the event before it was delivered again
        assert RAN[instance.id] == ["slow", "last", "last"]
        assert result == {"first": "slow done", "event": "kept", "last": "last done"}
        fresh = await wf.create(id="restart-nap", params={"nap": 100})
        await fresh.send_event("approve", "kept")
        await fresh.handle.result()
        await fresh.restart(from_step={"name": "nap", "type": "sleep"})
        await fresh.send_event("approve", "new")
        # the event wait after the sleep gets the first buffered event again (from before)
        assert (await fresh.handle.result())["event"] == "kept"
        assert RAN[fresh.id] == ["slow", "last", "last"]
        with pytest.raises(StepNotFoundError, match=r'"missing" .* not found'):
            await instance.restart(from_step={"name": "missing"})


async def test_restarted_run_sees_earlier_events_before_ones_sent_after_restart(
    tempflare_client: Client, task_queue: str
) -> None:
    """An event sent right after a from-step restart lands in the new run's first workflow task,
    together with the start; the re-delivered earlier event still comes first."""
    binding = Workflow(tempflare_client, Lifecycle, task_queue=task_queue)
    worker = functools.partial(
        create_worker,
        tempflare_client,
        task_queue=task_queue,
        workflows=[Lifecycle],
        activities=[slow_work],
    )
    async with worker():
        instance = await binding.create(id=f"order-{task_queue}", params={"nap": 10})
        await instance.send_event("approve", "earlier")
        await instance.handle.result()
    # no worker: the restart and the new event both wait for the run's first task
    await instance.restart(from_step={"name": "nap", "type": "sleep"})
    await instance.send_event("approve", "later")
    async with worker():
        result = await instance.handle.result()
    assert result["event"] == "earlier"
    history = await instance.handle.fetch_history()
    first_task = next(
        e.event_id for e in history.events if e.HasField("workflow_task_started_event_attributes")
    )
    signalled = [
        e.event_id
        for e in history.events
        if e.HasField("workflow_execution_signaled_event_attributes")
    ]
    assert signalled and signalled[0] < first_task  # the case under test really happened


async def test_operations_on_an_instance_started_by_the_plain_client(
    tempflare_worker: Any, tempflare_client: Client
) -> None:
    async with tempflare_worker(Lifecycle, activities=[slow_work]) as wf:
        await tempflare_client.start_workflow(
            "Lifecycle", {"nap": 5000}, id="plain-ops", task_queue=wf.task_queue
        )
        instance = await wf.get("plain-ops")
        await eventually(status_of(instance), lambda s: s == "waiting")
        await instance.pause()
        await eventually(status_of(instance), lambda s: s == "paused")
        await instance.resume()
        await eventually(status_of(instance), lambda s: s == "waiting")
        await instance.restart()
        await eventually(lambda: asyncio.sleep(0, RAN["plain-ops"]), lambda r: len(r) == 2)
        await instance.terminate()
        assert await status_of(instance)() == "terminated"


async def test_list_query_finds_waiting_and_errored_instances(tempflare_worker: Any) -> None:
    async with tempflare_worker(Lifecycle, activities=[slow_work]) as wf:
        waiting = await wf.create(id="listed-waiting", params={})
        failing = await wf.create(id="listed-errored", params={"fail": True})
        await failing.send_event("approve", 1)
        await eventually(status_of(waiting), lambda s: s == "waiting")
        await eventually(status_of(failing), lambda s: s == "errored")
        query = (
            f"WorkflowType = 'Lifecycle' AND TaskQueue = '{wf.task_queue}' AND "
            "(TempflareStatus = 'waiting' OR ExecutionStatus = 'Failed')"
        )

        async def listed() -> set[str]:
            return {w.id async for w in wf.client.list_workflows(query)}

        assert await eventually(listed, lambda ids: len(ids) == 2) == {
            "listed-waiting",
            "listed-errored",
        }
        desc = await waiting.handle.describe()
        assert await desc.static_summary() == "Lifecycle instance listed-waiting"
        raw = desc.raw_description.workflow_extended_info
        details = desc.raw_description.execution_config.user_metadata.details
        assert raw is not None and details is not None
        await waiting.terminate()


async def test_create_batch(tempflare_worker: Any) -> None:
    async with tempflare_worker(Lifecycle, activities=[slow_work]) as wf:
        await wf.create(id="batch-existing", params={})
        created = await wf.create_batch(
            [
                {"id": "batch-a", "params": {}},
                {"id": "batch-existing"},
                {"id": "batch-b"},
                {"id": "batch-a"},
                {"params": {"nap": 5}},
            ]
        )
        ids = [i.id for i in created]
        assert ids[:2] == ["batch-a", "batch-b"] and len(ids) == 3
        with pytest.raises(ValueError, match="1 to 100 items, got 101"):
            await wf.createBatch([{} for _ in range(101)])
        with pytest.raises(ValueError, match="got 0"):
            await wf.create_batch([])
        for instance in [*created, await wf.get("batch-existing")]:
            await instance.terminate()
