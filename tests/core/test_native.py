"""Instances started and signalled with Temporal's own client and CLI behave like binding ones;
step names are what the Web UI shows; recorded histories replay deterministically."""

from __future__ import annotations

import asyncio
import functools
import gc
import json
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer

from adapter import Workflow, WorkflowEntrypoint, WorkflowEvent, WorkflowStep, create_worker
from adapter._workflow.definition import WorkerRuntime, build_workflow_class
from adapter.devserver import ensure_temporal_cli

from ..helpers import describe_events, eventually, step_attempts, timers

pytestmark = pytest.mark.server


class Native(WorkflowEntrypoint[None, dict]):
    async def run(self, event: WorkflowEvent[dict], step: WorkflowStep) -> Any:
        total = await step.do("add numbers", lambda: sum(event.payload["numbers"]))
        await step.sleep("short nap", "200ms")
        approval = await step.wait_for_event("await approval", type="approval", timeout="1 minute")
        return {
            "total": total,
            "approved_by": approval.payload["by"],
            "id": event.instance_id,
            "name": event.workflow_name,
        }


def expected(iid: str) -> dict[str, Any]:
    return {"total": 6, "approved_by": "ops", "id": iid, "name": "Native"}


async def test_plain_temporal_client_start_and_signal(
    tempflare_worker: Any, tempflare_client: Client
) -> None:
    async with tempflare_worker(Native) as wf:
        handle = await tempflare_client.start_workflow(
            "Native", {"numbers": [1, 2, 3]}, id="native-client", task_queue=wf.task_queue
        )
        await handle.signal("approval", {"by": "ops"})
        assert await handle.result() == expected("native-client")
        # and the binding sees it like any instance
        status = await (await wf.get("native-client")).status()
    assert status.status == "complete" and status.output == expected("native-client")


async def _cli(*args: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        str(ensure_temporal_cli()),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return out.decode()


async def test_temporal_cli_start_and_signal(
    tempflare_worker: Any, tempflare_client: Client
) -> None:
    address = tempflare_client.service_client.config.target_host
    async with tempflare_worker(Native) as wf:
        await _cli(
            "workflow",
            "start",
            "--address",
            address,
            "--type",
            "Native",
            "--task-queue",
            wf.task_queue,
            "--workflow-id",
            "native-cli",
            "--input",
            json.dumps({"numbers": [1, 2, 3]}),
        )
        instance = await wf.get("native-cli")
        await eventually(instance.status, lambda s: s.status == "waiting")
        await _cli(
            "workflow",
            "signal",
            "--address",
            address,
            "--workflow-id",
            "native-cli",
            "--name",
            "approval",
            "--input",
            json.dumps({"by": "ops"}),
        )
        assert await instance.handle.result() == expected("native-cli")
        shown = await _cli(
            "workflow",
            "describe",
            "--address",
            address,
            "--workflow-id",
            "native-cli",
            "--output",
            "json",
        )
    described = json.loads(shown)
    assert described["workflowExecutionInfo"]["type"]["name"] == "Native"


async def test_history_names_every_step_sleep_and_wait(tempflare_worker: Any) -> None:
    async with tempflare_worker(Native) as wf:
        instance = await wf.create(id="native-ui", params={"numbers": [1, 2, 3]})
        # send the event once the wait (not the nap) is in progress, so its timer exists
        await eventually(lambda: timers(instance.handle), lambda t: len(t) == 2)
        await instance.send_event("approval", {"by": "ops"})
        await instance.handle.result()
    attempts = await step_attempts(instance.handle)
    assert [(a.activity_type, a.summary) for a in attempts] == [("add numbers", "add numbers")]
    assert [(t.summary, t.seconds) for t in await timers(instance.handle)] == [
        ("short nap", 0.2),
        ("await approval", 60.0),
    ]
    desc = await instance.handle.describe()
    assert await desc.static_summary() == "Native instance native-ui"


class Chains(WorkflowEntrypoint[None, None]):
    """Two chains of steps whose attempts finish at different moments: live, their results reach
    the workflow one by one; on replay Temporal may hand several over in one activation."""

    async def run(self, event: WorkflowEvent[None], step: WorkflowStep) -> Any:
        async def pause(seconds: float, name: str) -> str:
            await asyncio.sleep(seconds)
            return name

        async def chain(first: tuple[str, float], second: tuple[str, float]) -> list[str]:
            return [
                await step.do(first[0], functools.partial(pause, first[1], first[0])),
                await step.do(second[0], functools.partial(pause, second[1], second[0])),
            ]

        return await asyncio.gather(
            chain(("a1", 0.0), ("a2", 0.6)),
            chain(("b1", 0.3), ("b2", 0.0)),
        )


async def test_parallel_chains_replay_whatever_the_activation_grouping(
    tempflare_worker: Any,
) -> None:
    async with tempflare_worker(Chains) as wf:
        instance = await wf.create()
        assert await instance.handle.result() == [["a1", "a2"], ["b1", "b2"]]
    history = await instance.handle.fetch_history()
    replayer = Replayer(
        workflows=[build_workflow_class(Chains, WorkerRuntime())],
        data_converter=wf.client.data_converter,
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, (str(result.replay_failure), describe_events(history))


class Orphaned(WorkflowEntrypoint[None, None], name="Orphaned"):
    """Left waiting in the cache of a worker that is then shut down."""

    async def run(self, event: WorkflowEvent[None], step: WorkflowStep) -> Any:
        await step.do("orphan step", lambda: 1)
        await step.wait_for_event("orphan wait", type="never", timeout="1 hour")


class CollectsGarbage(WorkflowEntrypoint[None, None], name="CollectsGarbage"):
    async def run(self, event: WorkflowEvent[None], step: WorkflowStep) -> str:
        gc.collect()  # a garbage-collection pass that happens to run during this activation
        await step.sleep("nap", "100ms")
        return "ok"


async def test_an_orphaned_run_finalised_during_another_run_writes_nothing_into_it(
    tempflare_client: Client, task_queue: str
) -> None:
    """A worker shut down with runs still open leaves their coroutines for the garbage collector;
    their ``finally`` blocks may then run inside another run's activation. They must not record
    anything there (it would be a foreign status and a history that cannot replay)."""
    orphan_queue = f"{task_queue}-orphan"
    async with create_worker(tempflare_client, task_queue=orphan_queue, workflows=[Orphaned]):
        orphan = await Workflow(tempflare_client, Orphaned, task_queue=orphan_queue).create()
        await eventually(
            lambda: orphan.handle.fetch_history(),
            lambda h: any(e.HasField("timer_started_event_attributes") for e in h.events),
        )
    await orphan.terminate()
    async with create_worker(tempflare_client, task_queue=task_queue, workflows=[CollectsGarbage]):
        victim = await Workflow(tempflare_client, CollectsGarbage, task_queue=task_queue).create()
        assert await victim.handle.result() == "ok"
    history = await victim.handle.fetch_history()
    lines = describe_events(history)
    assert not [line for line in lines if "orphan" in line], lines
    replayer = Replayer(
        workflows=[build_workflow_class(CollectsGarbage, WorkerRuntime())],
        data_converter=tempflare_client.data_converter,
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, (str(result.replay_failure), lines)


async def test_recorded_histories_replay_without_nondeterminism(tempflare_worker: Any) -> None:
    from . import test_retries, test_steps

    classes = [
        Native,
        test_steps.Events,
        test_steps.Parallel,
        test_retries.Flaky,
        test_steps.Names,
        test_retries.DelayFn,
    ]
    async with tempflare_worker(*classes) as wf:
        client, queue = wf.client, wf.task_queue

        def bind(cls: Any) -> Workflow[Any]:
            return Workflow(client, cls, task_queue=queue)

        native = await wf.create(params={"numbers": [1, 2, 3]})
        await native.send_event("approval", {"by": "ops"})
        events = await bind(test_steps.Events).create(params={})
        for event_type, payload in [("a", 1), ("a", 2), ("a", 3), ("b", 4), ("ready", None)]:
            await events.send_event(event_type, payload)
        flaky = await bind(test_retries.Flaky).create(
            params={"fail_times": 2, "config": {"retries": {"limit": 2, "delay": 10}}}
        )
        others = [
            await bind(c).create()
            for c in (test_steps.Parallel, test_steps.Names, test_retries.DelayFn)
        ]
        instances = [native, events, flaky, *others]
        for instance in instances:
            await instance.handle.result()
    replayer = Replayer(
        workflows=[build_workflow_class(c, WorkerRuntime()) for c in classes],
        data_converter=client.data_converter,
    )
    for instance in instances:
        history: WorkflowHistory = await instance.handle.fetch_history()
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        assert result.replay_failure is None, (
            history.workflow_id,
            str(result.replay_failure),
            describe_events(history),
        )
    # a renamed step is caught as nondeterminism: the check can fail
    strict = Replayer(
        workflows=[build_workflow_class(RenamedNative, WorkerRuntime())],
        data_converter=client.data_converter,
    )
    result = await strict.replay_workflow(
        await native.handle.fetch_history(), raise_on_replay_failure=False
    )
    assert result.replay_failure is not None
    assert "sum numbers" in str(result.replay_failure)


class RenamedNative(WorkflowEntrypoint[None, dict], name="Native"):
    """``Native`` after a careless edit: its first step was renamed."""

    async def run(self, event: WorkflowEvent[dict], step: WorkflowStep) -> Any:
        return await step.do("sum numbers", lambda: sum(event.payload["numbers"]))
