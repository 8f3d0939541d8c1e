"""step.do caching and replay, names, concurrency, limits, sleeps, events and output."""

from __future__ import annotations

import asyncio
import functools
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pydantic
import pytest
from temporalio import activity
from temporalio.client import Client, WorkflowFailureError

from adapter import (
    InvalidEventTypeError,
    InvalidParamsError,
    StepConfigError,
    WorkflowEntrypoint,
    WorkflowEvent,
    WorkflowFatalError,
    WorkflowStep,
    WorkflowTimeoutError,
    create_worker,
)

from ..helpers import event_types, eventually, step_attempts, timers

pytestmark = pytest.mark.server

RUNS: dict[str, list[str]] = defaultdict(list)


class TwoPhase(WorkflowEntrypoint[None, None]):
    """A step, an event wait, another step: used to restart the worker in the middle."""

    async def run(self, event: WorkflowEvent[None], step: WorkflowStep) -> Any:
        iid = event.instance_id
        first = await step.do("first", lambda: RUNS[iid].append("first") or {"n": 1})
        ev = await step.wait_for_event("go", type="go", timeout="1 minute")
        second = await step.do("second", lambda: RUNS[iid].append("second") or {"n": 2})
        return {"first": first, "event": ev.payload, "second": second}


async def test_completed_steps_never_rerun_across_a_worker_restart(
    tempflare_client: Client, task_queue: str
) -> None:
    def worker() -> Any:
        # No sticky cache: the second worker must rebuild the run from history.
        return create_worker(
            tempflare_client, task_queue=task_queue, workflows=[TwoPhase], max_cached_workflows=0
        )

    from adapter import Workflow

    binding = Workflow(tempflare_client, TwoPhase, task_queue=task_queue)
    async with worker():
        instance = await binding.create(id=f"restart-{task_queue}")
        await eventually(instance.status, lambda s: s.status == "waiting")
    assert RUNS[instance.id] == ["first"]
    await instance.send_event("go", {"ok": True})
    async with worker():
        result = await instance.handle.result()
    assert result == {"first": {"n": 1}, "event": {"ok": True}, "second": {"n": 2}}
    assert RUNS[instance.id] == ["first", "second"]


class Names(WorkflowEntrypoint[None, None]):
    async def run(self, event: WorkflowEvent[None], step: WorkflowStep) -> Any:
        counts = [
            await step.do("same", lambda ctx: [ctx.step.name, ctx.step.count]) for _ in range(3)
        ]
        errors = []
        for bad in ["x" * 257, "tab\there", ""]:
            try:
                await step.do(bad, lambda: 1)
            except StepConfigError as err:
                errors.append(str(err))
        try:
            await step.do("bad config", {"retries": {"limit": 1}}, lambda: 1)
        except StepConfigError as err:
            errors.append(str(err))
        ok = await step.do("x" * 256, lambda: "longest name is fine")
        return {"counts": counts, "errors": errors, "ok": ok}


async def test_duplicate_names_are_numbered_and_bad_names_rejected(tempflare_worker: Any) -> None:
    async with tempflare_worker(Names) as wf:
        instance = await wf.create()
        result = await instance.handle.result()
    assert result["counts"] == [["same", 1], ["same", 2], ["same", 3]]
    assert "exceeds max length (256 chars, got 257)" in result["errors"][0]
    assert "control characters" in result["errors"][1]
    assert "non-empty" in result["errors"][2]
    assert '"bad config"' in result["errors"][3] and "missing ['delay']" in result["errors"][3]
    assert result["ok"] == "longest name is fine"
    ids = [a.activity_id for a in await step_attempts(instance.handle)]
    assert ids[:3] == ["same#1@1", "same#2@1", "same#3@1"]


SPANS: dict[str, dict[str, tuple[float, float]]] = defaultdict(dict)


class Parallel(WorkflowEntrypoint[None, None]):
    async def run(self, event: WorkflowEvent[None], step: WorkflowStep) -> Any:
        iid = event.instance_id

        def blocking(name: str) -> str:
            start = time.monotonic()
            time.sleep(0.8)  # sync callbacks run in threads: they must not block each other
            SPANS[iid][name] = (start, time.monotonic())
            return name

        async def non_blocking(name: str) -> str:
            start = time.monotonic()
            await asyncio.sleep(0.8)
            SPANS[iid][name] = (start, time.monotonic())
            return name

        gathered = await asyncio.gather(
            step.do("a", functools.partial(blocking, "a")),
            step.do("b", functools.partial(blocking, "b")),
            step.do("c", functools.partial(non_blocking, "c")),
        )
        fast = asyncio.ensure_future(step.do("fast", lambda: "fast"))
        slow = asyncio.ensure_future(step.do("slow", functools.partial(non_blocking, "slow")))
        done, pending = await asyncio.wait([fast, slow], return_when=asyncio.FIRST_COMPLETED)
        winner = next(iter(done)).result()
        await asyncio.gather(*pending)
        return {"gathered": gathered, "winner": winner}


async def test_gather_runs_steps_in_parallel_and_races_work(tempflare_worker: Any) -> None:
    async with tempflare_worker(Parallel) as wf:
        instance = await wf.create()
        result = await instance.handle.result()
    assert result == {"gathered": ["a", "b", "c"], "winner": "fast"}
    spans = SPANS[instance.id]
    latest_start = max(spans[k][0] for k in "abc")
    earliest_end = min(spans[k][1] for k in "abc")
    assert latest_start < earliest_end, f"steps did not overlap: {spans}"


class Limits(WorkflowEntrypoint[None, dict]):
    async def run(self, event: WorkflowEvent[dict], step: WorkflowStep) -> Any:
        iid = event.instance_id

        def body() -> Any:
            RUNS[iid].append("attempt")
            return "x" * (1024 * 1024 + 10) if event.payload["kind"] == "big" else object()

        try:
            await step.do("too much", {"retries": {"limit": 3, "delay": 10}}, body)
        except WorkflowFatalError as err:
            return {"name": err.name, "message": err.message}
        return {}


@pytest.mark.parametrize(
    ("kind", "fragment"),
    [
        ("big", 'Step "too much-1" output is too large: 1048588 bytes'),
        ("object", 'Step "too much-1" returned a value which is not serialisable'),
    ],
)
async def test_oversized_or_unserialisable_results_fail_without_retries(
    tempflare_worker: Any, kind: str, fragment: str
) -> None:
    async with tempflare_worker(Limits) as wf:
        instance = await wf.create(id=f"limits-{kind}", params={"kind": kind})
        result = await instance.handle.result()
    assert result["name"] == "WorkflowFatalError"
    assert fragment in result["message"]
    assert RUNS[instance.id] == ["attempt"]


class Sleeps(WorkflowEntrypoint[None, dict]):
    async def run(self, event: WorkflowEvent[dict], step: WorkflowStep) -> Any:
        p = event.payload
        await step.sleep("ms", 300)
        await step.sleep("delta", timedelta(milliseconds=400))
        await step.sleep("words", "1 second")
        await step.sleep("compact", "250ms")
        await step.sleep_until("past", datetime(2000, 1, 1, tzinfo=UTC))
        await step.sleepUntil("epoch", p["until_ms"])
        errors = []
        for bad in ["1 fortnight", "366 days"]:
            try:
                await step.sleep("bad", bad)
            except ValueError as err:
                errors.append(str(err))
        try:
            await step.sleep_until("naive", datetime(2030, 1, 1))
        except ValueError as err:
            errors.append(str(err))
        return {"errors": errors}


async def test_sleep_forms_become_named_timers(tempflare_worker: Any) -> None:
    async with tempflare_worker(Sleeps) as wf:
        until = int(time.time() * 1000) + 60_000
        instance = await wf.create(params={"until_ms": until})
        # the sleep_until target is a minute away: wait for its timer, then check it
        found = await eventually(lambda: timers(instance.handle), lambda t: len(t) == 5)
        await instance.terminate()
    assert [(t.summary, t.seconds) for t in found[:4]] == [
        ("ms", 0.3),
        ("delta", 0.4),
        ("words", 1.0),
        ("compact", 0.25),
    ]
    # the past sleep_until made no timer; the epoch one waits about a minute
    assert found[4].summary == "epoch" and 50 < found[4].seconds <= 60


async def test_invalid_sleeps_raise_value_errors_naming_the_value(tempflare_worker: Any) -> None:
    async with tempflare_worker(Sleeps) as wf:
        until = int(time.time() * 1000) - 1000
        result = await (await wf.create(params={"until_ms": until})).handle.result()
    assert "'1 fortnight'" in result["errors"][0] and "Accepted:" in result["errors"][0]
    assert "longer than the maximum of 365 days" in result["errors"][1]
    assert "timezone-aware" in result["errors"][2]


class Events(WorkflowEntrypoint[None, dict]):
    async def run(self, event: WorkflowEvent[dict], step: WorkflowStep) -> Any:
        if event.payload.get("mode") == "timeout":
            try:
                await step.wait_for_event("never", type="never", timeout="500ms")
            except WorkflowTimeoutError as err:
                return {"timeout": err.message, "name": err.name}
        if event.payload.get("mode") == "default":
            await step.wait_for_event("default timeout", type="nothing")
            return {}
        if event.payload.get("mode") == "bad type":
            try:
                await step.wait_for_event("bad", type="has space")
            except InvalidEventTypeError as err:
                return {"error": str(err)}
        await step.wait_for_event("ready", type="ready", timeout="1 minute")
        first, second = await asyncio.gather(
            step.wait_for_event("w1", type="a", timeout="1 minute"),
            step.wait_for_event("w2", type="a", timeout="1 minute"),
        )
        b = await step.waitForEvent("wb", {"type": "b", "timeout": "1 minute"})
        third = await step.wait_for_event("w3", type="a", timeout="1 minute")
        return {
            "a": [first.payload, second.payload, third.payload],
            "b": b.payload,
            "types": [first.type, b.type],
            "timestamp_aware": first.timestamp.tzinfo is not None,
        }


async def test_events_are_buffered_fifo_per_type_and_served_in_order(
    tempflare_worker: Any,
) -> None:
    async with tempflare_worker(Events) as wf:
        instance = await wf.create(params={})
        for n in (1, 2, 3):
            await instance.send_event("a", n)
        await instance.send_event("b", "bee")
        await instance.send_event("ready", None)
        result = await instance.handle.result()
    assert result == {"a": [1, 2, 3], "b": "bee", "types": ["a", "b"], "timestamp_aware": True}


async def test_event_wait_timeout_raises_and_defaults_to_24h(tempflare_worker: Any) -> None:
    async with tempflare_worker(Events) as wf:
        result = await (await wf.create(params={"mode": "timeout"})).handle.result()
        assert result == {
            "timeout": "Execution timed out after 500ms",
            "name": "WorkflowTimeoutError",
        }
        waiting = await wf.create(params={"mode": "default"})
        found = await eventually(lambda: timers(waiting.handle), bool)
        await waiting.terminate()
    assert (found[0].summary, found[0].seconds) == ("default timeout", 86400.0)


async def test_event_types_are_validated(tempflare_worker: Any) -> None:
    async with tempflare_worker(Events) as wf:
        result = await (await wf.create(params={"mode": "bad type"})).handle.result()
        assert "Invalid event type 'has space'" in result["error"]
        instance = await wf.create(params={})
        for bad in ["-dash-first", "x" * 101, "dot.ted"]:
            with pytest.raises(InvalidEventTypeError, match="Invalid event type"):
                await instance.send_event(bad, 1)
        await instance.send_event("a" * 100, 1)  # the longest valid type
        await instance.terminate()


class Order(pydantic.BaseModel):
    order_id: str
    amount: float = pydantic.Field(gt=0)


class Receipt(pydantic.BaseModel):
    order_id: str
    charged: float


async def charge(order: Order) -> Receipt:
    return Receipt(order_id=order.order_id, charged=order.amount)


class Typed(WorkflowEntrypoint[dict, Order]):
    async def run(self, event: WorkflowEvent[Order], step: WorkflowStep) -> Receipt:
        receipt = await step.do("charge", functools.partial(charge, event.payload))
        assert isinstance(receipt, Receipt)  # decoded by the callback's return annotation
        prefix = await step.do("env", lambda: self.env["prefix"])
        return Receipt(order_id=prefix + receipt.order_id, charged=receipt.charged)


async def test_pydantic_params_env_and_output(tempflare_worker: Any) -> None:
    async with tempflare_worker(Typed, env={"prefix": "paid-"}) as wf:
        instance = await wf.create(id="typed-1", params={"order_id": "o1", "amount": 12.5})
        assert await instance.handle.result() == {"order_id": "paid-o1", "charged": 12.5}
        status = await instance.status()
        assert status.status == "complete" and status.output == {
            "order_id": "paid-o1",
            "charged": 12.5,
        }
        with pytest.raises(InvalidParamsError, match="amount"):
            await wf.create(params={"order_id": "o2", "amount": -1})
        # a bad payload that bypasses the binding errors the instance, with pydantic's message
        raw = await wf.client.start_workflow(
            "Typed", {"order_id": "o3"}, id="typed-raw", task_queue=wf.task_queue
        )
        with pytest.raises(WorkflowFailureError):
            await raw.result()
        failed = await (await wf.get("typed-raw")).status()
    assert failed.status == "errored" and failed.error is not None
    assert failed.error.name == "ValidationError" and "amount" in failed.error.message


class Crashes(WorkflowEntrypoint[None, None]):
    async def run(self, event: WorkflowEvent[None], step: WorkflowStep) -> Any:
        await step.do("fine", lambda: 1)
        raise KeyError("missing thing")


async def test_exception_outside_steps_fails_the_instance_not_the_task(
    tempflare_worker: Any,
) -> None:
    async with tempflare_worker(Crashes) as wf:
        instance = await wf.create()
        with pytest.raises(WorkflowFailureError):
            await instance.handle.result()
        status = await instance.status()
    assert status.error is not None
    assert (status.error.name, status.error.message) == ("KeyError", "'missing thing'")
    kinds = await event_types(instance.handle)
    assert "workflow_task_failed_event_attributes" not in kinds
    assert kinds[-1] == "workflow_execution_failed_event_attributes"


ACTIVITY_CALLS: list[tuple[str, int]] = []


@activity.defn(name="resize_image")
async def resize_image(image: str, width: int) -> str:
    ACTIVITY_CALLS.append((image, width))
    if len([c for c in ACTIVITY_CALLS if c[0] == image]) < 2:
        raise RuntimeError("image service busy")
    return f"{image}@{width}px"


class Heavy(WorkflowEntrypoint[None, None]):
    async def run(self, event: WorkflowEvent[None], step: WorkflowStep) -> Any:
        return await step.do(
            "resize",
            {"retries": {"limit": 2, "delay": 100, "backoff": "constant"}, "timeout": "10s"},
            functools.partial(resize_image, f"cat-{event.instance_id}.png", 300),
        )


async def test_registered_activity_runs_as_a_regular_activity_with_retries(
    tempflare_worker: Any,
) -> None:
    async with tempflare_worker(Heavy, activities=[resize_image]) as wf:
        instance = await wf.create(id="heavy-1")
        assert await instance.handle.result() == "cat-heavy-1.png@300px"
    assert ACTIVITY_CALLS.count(("cat-heavy-1.png", 300)) == 2
    attempts = await step_attempts(instance.handle)
    assert [(a.activity_type, a.summary, a.failed) for a in attempts] == [
        ("resize_image", "resize", True),
        ("resize_image", "resize", False),
    ]
    assert [t.seconds for t in await timers(instance.handle)] == [0.1]


async def test_create_rejects_bad_ids_and_duplicates(tempflare_worker: Any) -> None:
    from adapter import InstanceAlreadyExistsError, InvalidInstanceIdError

    async with tempflare_worker(Names) as wf:
        for bad in ["", "-x", "a b", "x" * 101]:
            with pytest.raises(InvalidInstanceIdError, match="Invalid instance id"):
                await wf.create(id=bad)
        await wf.create(id="dup-1")
        with pytest.raises(InstanceAlreadyExistsError, match='"dup-1" already exists'):
            await wf.create(id="dup-1")


class Typo(WorkflowEntrypoint[None, None]):
    async def run(self, event: WorkflowEvent[None], step: WorkflowStep) -> Any:
        class Order:
            order_id = "P"

        return Order().orderid  # type: ignore[attr-defined]


async def test_attribute_error_reports_its_class_name(tempflare_worker: Any) -> None:
    async with tempflare_worker(Typo) as wf:
        instance = await wf.create()
        with pytest.raises(WorkflowFailureError):
            await instance.handle.result()
        status = await instance.status()
    assert status.error is not None
    assert status.error.name == "AttributeError"
    assert "orderid" in status.error.message
