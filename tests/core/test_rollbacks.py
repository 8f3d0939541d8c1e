"""Saga rollbacks on the real server: handlers of completed steps run in reverse start order as
durable steps named ``rollback: <name>``, with ctx, error and output, their own retries, the
``rollingBack`` status, and ``terminate(rollback=True)``."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

import pytest

from adapter import (
    NonRetryableError,
    WorkflowEntrypoint,
    WorkflowEvent,
    WorkflowStep,
    WorkflowTerminatedError,
)

from ..helpers import eventually, step_attempts

pytestmark = pytest.mark.server

LOG: dict[str, list[Any]] = defaultdict(list)


class Booking(WorkflowEntrypoint[None, dict]):
    """Books a flight, a hotel (no rollback) and a car, then fails at payment."""

    async def run(self, event: WorkflowEvent[dict], step: WorkflowStep) -> Any:
        iid, p = event.instance_id, event.payload

        def undo(what: str) -> Any:
            def handler(ctx: Any, error: Exception, output: Any) -> None:
                LOG[iid].append((what, ctx.step.name, type(error).__name__, str(error), output))

            return handler

        flight = await step.do("book flight", lambda: "FL-1", rollback=undo("flight"))
        await step.do("book hotel", lambda: "HO-1")
        attempts = LOG.setdefault(f"{iid}:car", [])

        async def unbook_car(output: Any) -> None:  # names only what it needs
            attempts.append(output)
            if len(attempts) == 1:
                raise RuntimeError("car API down")

        await step.do(
            "book car",
            {"retries": {"limit": 0, "delay": 0}},
            lambda: {"car": "CA-1"},
            {"rollback": unbook_car, "rollbackConfig": {"retries": {"limit": 2, "delay": 10}}},
        )
        if p.get("fail", True):

            def decline() -> None:
                raise NonRetryableError("card declined")

            await step.do("charge card", decline)
        return flight


async def test_failure_runs_rollbacks_in_reverse_order_then_errors(tempflare_worker: Any) -> None:
    async with tempflare_worker(Booking) as binding:
        instance = await binding.create(id="saga-fail", params={})
        await eventually(
            lambda: _status(instance), lambda s: s in ("errored", "complete"), timeout=30
        )
        status = await instance.status()
    assert status.status == "errored"
    assert (status.error.name, status.error.message) == ("NonRetryableError", "card declined")
    # car first (started last): its handler failed once and was retried; then the flight
    assert LOG["saga-fail:car"] == [{"car": "CA-1"}, {"car": "CA-1"}]
    assert LOG["saga-fail"] == [
        ("flight", "rollback: book flight", "NonRetryableError", "card declined", "FL-1")
    ]
    names = [a.activity_type for a in await step_attempts(instance.handle)]
    assert names[-3:] == ["rollback: book car", "rollback: book car", "rollback: book flight"]
    steps = [(s.type, s.name, len(s.attempts), s.success) for s in await instance.steps()]
    assert steps[-2:] == [("rollback", "book car", 2, True), ("rollback", "book flight", 1, True)]


async def test_no_rollback_when_run_completes(tempflare_worker: Any) -> None:
    async with tempflare_worker(Booking) as binding:
        instance = await binding.create(id="saga-ok", params={"fail": False})
        assert await instance.handle.result() == "FL-1"
    assert LOG["saga-ok"] == [] and LOG["saga-ok:car"] == []


SLOW_ROLLBACK: dict[str, list[Any]] = defaultdict(list)


class Reserve(WorkflowEntrypoint[None, dict]):
    """Two parallel steps with rollbacks, then waits for an event that never comes."""

    async def run(self, event: WorkflowEvent[dict], step: WorkflowStep) -> Any:
        iid = event.instance_id

        def undo(what: str, seconds: float) -> Any:
            async def handler(error: BaseException, output: Any) -> None:
                await asyncio.sleep(seconds)
                SLOW_ROLLBACK[iid].append((what, type(error).__name__, output))

            return handler

        await asyncio.gather(
            step.do("seat a", lambda: "A", rollback=undo("a", 0.1)),
            step.do("seat b", lambda: "B", rollback=undo("b", 2.0)),
        )
        await step.wait_for_event("confirm", type="confirm", timeout="1 hour")
        return "confirmed"


@pytest.mark.parametrize("durability", ["durable", "batched"])
async def test_terminate_with_rollback_shows_rolling_back_then_terminated(
    tempflare_worker: Any, durability: str
) -> None:
    iid = f"saga-term-{durability}"
    async with tempflare_worker(Reserve, durability=durability) as binding:
        instance = await binding.create(id=iid, params={})
        await eventually(lambda: _status(instance), lambda s: s == "waiting")
        await instance.terminate({"rollback": True})
        await eventually(lambda: _status(instance), lambda s: s == "rollingBack", timeout=10)
        await eventually(lambda: _status(instance), lambda s: s == "terminated", timeout=20)
    # reverse start order: b (started second) first
    assert SLOW_ROLLBACK[iid] == [
        ("b", WorkflowTerminatedError.__name__, "B"),
        ("a", WorkflowTerminatedError.__name__, "A"),
    ]


async def test_plain_terminate_runs_no_rollback(tempflare_worker: Any) -> None:
    async with tempflare_worker(Reserve) as binding:
        instance = await binding.create(id="saga-plain", params={})
        await eventually(lambda: _status(instance), lambda s: s == "waiting")
        await instance.terminate()
        await eventually(lambda: _status(instance), lambda s: s == "terminated")
        await asyncio.sleep(0.5)
    assert SLOW_ROLLBACK["saga-plain"] == []


async def _status(instance: Any) -> str:
    return str((await instance.status()).status.value)


async def test_terminate_with_rollback_of_a_paused_instance(tempflare_worker: Any) -> None:
    async with tempflare_worker(Reserve) as binding:
        instance = await binding.create(id="saga-paused", params={})
        await eventually(lambda: _status(instance), lambda s: s == "waiting")
        await instance.pause()
        await eventually(lambda: _status(instance), lambda s: s == "paused")
        await instance.terminate(rollback=True)
        await eventually(lambda: _status(instance), lambda s: s == "terminated", timeout=20)
    assert [what for what, _, _ in SLOW_ROLLBACK["saga-paused"]] == ["b", "a"]
