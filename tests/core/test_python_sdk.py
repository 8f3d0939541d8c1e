"""``adapter.workers``: Cloudflare's Python Workflows SDK surface, on the real dev server.

The event as a dict, ``wait_for_event(name, type, /, timeout=...)`` returning a dict, sleeps with
bare numbers (milliseconds) and datetimes, ``__init__(self, ctx, env)``, the binding and the
instance with dict arguments and dict results, and both styles side by side in one worker.
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import pytest
from temporalio.client import Client

from adapter import InstanceAlreadyExistsError, WorkflowEvent, WorkflowTimeoutError, WrongTypeError
from adapter import WorkflowEntrypoint as NativeEntrypoint
from adapter import WorkflowStep as NativeStep
from adapter.workers import WorkflowEntrypoint
from adapter.workers.workflows import NonRetryableError, Workflow

from ..helpers import eventually, timers

pytestmark = pytest.mark.server

RUNS: dict[str, list[str]] = defaultdict(list)


class Env:
    greeting = "hello"


class Surface(WorkflowEntrypoint):
    """What run() receives, as a Python-SDK workflow sees it."""

    def __init__(self, ctx: Any, env: Any) -> None:
        super().__init__(ctx, env)
        self.built_with = [ctx, type(env).__name__]

    async def run(self, event: Any, step: Any) -> Any:
        @step.do()
        async def read_event() -> Any:
            return {
                "payload": event["payload"],
                "instanceId": event.get("instanceId"),
                "workflowName": event.get("workflowName"),
                "timestamp_is_aware": event["timestamp"].tzinfo is not None,
                "env": self.env.greeting,
                "built_with": self.built_with,
            }

        seen = await read_event()
        started = event["timestamp"]
        await step.sleep("bare number", 500)  # milliseconds
        await step.sleep_until("epoch ms", started.timestamp() * 1000 + 2500)
        await step.sleep_until("aware datetime", started + timedelta(seconds=3))
        await step.sleep_until("naive datetime", datetime.now() + timedelta(seconds=1))
        await step.sleep_until("seconds trap", time.time())  # read as ms: 1970, returns at once
        received = await step.wait_for_event("approval", "approved", timeout="1 minute")
        try:
            await step.wait_for_event("nothing comes", "never", timeout="1 second")
            timed_out = None
        except Exception as err:  # Cloudflare's docs catch Exception
            timed_out = type(err).__name__
        legacy = await step.do("callback form", lambda: "still works")
        return {
            "seen": seen,
            "received": {
                "payload": received["payload"],
                "type": received["type"],
                "timestamp_is_aware": received["timestamp"].tzinfo is not None,
            },
            "timed_out": timed_out,
            "legacy": legacy,
        }


async def test_run_gets_cloudflare_python_shapes(tempflare_worker: Any) -> None:
    async with tempflare_worker(Surface, env=Env()) as native:
        binding = Workflow(native)
        instance = await binding.create({"id": "py-surface", "params": {"userId": "u1"}})
        waiting = await eventually(instance.status, lambda s: s["status"] == "waiting")
        assert waiting == {"status": "waiting", "error": None, "output": None}
        await instance.send_event({"type": "approved", "payload": {"ok": True}})
        done = await eventually(instance.status, lambda s: s["status"] == "complete")
        slept = {t.summary: t.seconds for t in await timers(instance.native.handle)}
    assert done["error"] is None
    assert done["output"] == {
        "seen": {
            "payload": {"userId": "u1"},
            "instanceId": "py-surface",
            "workflowName": "Surface",
            "timestamp_is_aware": True,
            "env": "hello",
            "built_with": [None, "Env"],
        },
        "received": {"payload": {"ok": True}, "type": "approved", "timestamp_is_aware": True},
        "timed_out": WorkflowTimeoutError.__name__,
        "legacy": "still works",
    }
    assert slept["bare number"] == 0.5
    # One after the other: until start + 2.5 s, then until start + 3 s, then 1 s from then.
    assert 1.0 < slept["epoch ms"] <= 2.0
    assert 0.2 < slept["aware datetime"] <= 0.5
    assert 0.7 < slept["naive datetime"] <= 1.5  # workflow.now() is the task's start time
    assert "seconds trap" not in slept


class Lifecycle(WorkflowEntrypoint):
    """Waits for events until told to stop; fails on request."""

    async def run(self, event: Any, step: Any) -> Any:
        iid = event["instanceId"]

        @step.do()
        def started() -> str:
            RUNS[iid].append("started")
            return "started"

        await started()
        got = await step.wait_for_event("wait", "next", timeout="5 minutes")
        if got["payload"] == "fail":

            @step.do(config={"retries": {"limit": 3, "delay": "1 second"}})
            async def refuse() -> None:
                raise NonRetryableError("refused on purpose")

            await refuse()
        return got["payload"]


async def test_the_binding_and_instance_take_and_return_dicts(
    tempflare_client: Client, tempflare_worker: Any
) -> None:
    async with tempflare_worker(Lifecycle) as native:
        binding = Workflow(tempflare_client, Lifecycle, task_queue=native.task_queue)
        one = await binding.create({"id": "py-one"})
        batch = await binding.create_batch(
            [{"id": "py-two", "params": {"n": 2}}, {"id": "py-three"}, {"id": "py-one"}]
        )
        assert [i.id for i in batch] == ["py-two", "py-three"]  # the used id is skipped
        with pytest.raises(InstanceAlreadyExistsError):
            await binding.create({"id": "py-one"})
        auto = await binding.create()
        assert auto.id and auto.id != "py-one"
        two = await binding.get("py-two")
        for instance in (one, two, auto):
            await eventually(instance.status, lambda s: s["status"] == "waiting")

        await one.send_event({"type": "next", "payload": "done"})
        assert await eventually(one.status, lambda s: s["status"] == "complete") == {
            "status": "complete",
            "error": None,
            "output": "done",
        }

        await two.send_event({"type": "next", "payload": "fail"})
        failed = await eventually(two.status, lambda s: s["status"] == "errored")
        assert failed == {
            "status": "errored",
            "error": {"name": "NonRetryableError", "message": "refused on purpose"},
            "output": None,
        }

        await auto.pause()
        await eventually(auto.status, lambda s: s["status"] == "paused")
        await auto.resume()
        await eventually(auto.status, lambda s: s["status"] == "waiting")
        await auto.terminate()
        await eventually(auto.status, lambda s: s["status"] == "terminated")

        await two.restart()  # from the start: the first step runs again
        await eventually(two.status, lambda s: s["status"] == "waiting")
        await two.send_event({"type": "next", "payload": "second life"})
        assert (await eventually(two.status, lambda s: s["status"] == "complete"))[
            "output"
        ] == "second life"

        # From the event wait: the step before it keeps its result and does not run again.
        await two.restart({"from": {"name": "wait", "type": "waitForEvent"}})
        await eventually(two.status, lambda s: s["status"] == "waiting")
        await two.send_event({"type": "next", "payload": "third life"})
        assert (await eventually(two.status, lambda s: s["status"] == "complete"))[
            "output"
        ] == "third life"
    assert RUNS["py-two"] == ["started", "started"]
    with pytest.raises(WrongTypeError, match="takes a dict"):
        await binding.create("py-four")  # type: ignore[arg-type]


class Native(NativeEntrypoint[None, int], name="NativeBeside"):
    """The native style, decorator form included, in the same worker as Python-SDK ones."""

    async def run(self, event: WorkflowEvent[int], step: NativeStep) -> Any:
        doubled = await step.do("double", lambda: event.payload * 2)

        @step.do()
        async def plus_one() -> int:
            return doubled + 1

        got = await step.wait_for_event("wait", type="go", timeout="1 minute")
        return [await plus_one(), got.payload]


class PythonBeside(WorkflowEntrypoint):
    async def run(self, event: Any, step: Any) -> Any:
        @step.do()
        async def square() -> int:
            return int(event["payload"]) ** 2

        # The run's native step is there too, and shares the declared steps.
        @step.native.do()
        async def plus_one(square: int) -> int:
            return square + 1

        return await plus_one()


async def test_both_styles_side_by_side(tempflare_worker: Any) -> None:
    async with tempflare_worker(Native, PythonBeside) as native_binding:
        python_binding = Workflow(
            native_binding.client, PythonBeside, task_queue=native_binding.task_queue
        )
        native = await native_binding.create(params=20)
        python = await python_binding.create({"params": 6})
        await eventually(native.status, lambda s: s.status == "waiting")
        await native.send_event("go", "now")
        assert await native.handle.result() == [41, "now"]
        assert (await eventually(python.status, lambda s: s["status"] == "complete"))[
            "output"
        ] == 37
