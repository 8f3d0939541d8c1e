"""instance.subscribe() on the real server: step, event and status changes, recorded first and then
live, with a filter, resumable from a cursor, sensitive outputs redacted, across continue-as-new."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from adapter import (
    InstanceEvent,
    InvalidValueError,
    WorkflowEntrypoint,
    WorkflowEvent,
    WorkflowStep,
)

pytestmark = pytest.mark.server


class Watched(WorkflowEntrypoint[None, dict]):
    async def run(self, event: WorkflowEvent[dict], step: WorkflowStep) -> Any:
        first = await step.do("first", lambda: 1)
        await step.sleep("nap", 50)
        got = await step.wait_for_event("go", type="go", timeout="1 minute")
        await step.do("secret", {"sensitive": "output"}, lambda: "hidden")
        total = first
        for i in range(event.payload.get("more", 0)):
            total += await step.do(f"more {i}", lambda i=i: i)
        return {"first": first, "event": got.payload, "total": total}


async def collect(instance: Any, **options: Any) -> list[InstanceEvent]:
    changes = []
    async for change in instance.subscribe(**options):
        changes.append(change)
        if change.kind == "status" and change.status in ("complete", "errored", "terminated"):
            break
    return changes


def short(changes: list[InstanceEvent]) -> list[tuple[Any, ...]]:
    return [
        (c.kind, c.status)
        if c.kind == "status"
        else (c.kind, c.event_type)
        if c.kind == "event"
        else (c.kind, c.step_type, c.name, c.change)
        for c in changes
    ]


async def test_history_first_then_live_with_filter_and_cursor(tempflare_worker: Any) -> None:
    async with tempflare_worker(Watched) as binding:
        instance = await binding.create(id="watched", params={})
        live = asyncio.create_task(collect(instance))
        await asyncio.sleep(1.0)  # the stream is live, waiting on the event
        assert not live.done()
        await instance.send_event("go", {"n": 7})
        changes = await asyncio.wait_for(live, 30)
    assert short(changes) == [
        ("status", "queued"),
        ("status", "running"),
        ("step", "do", "first", "attemptStarted"),
        ("step", "do", "first", "completed"),
        ("status", "waiting"),
        ("step", None, "nap", "waiting"),
        ("step", None, "nap", "waitEnded"),
        ("status", "waiting"),
        ("step", None, "go", "waiting"),
        ("event", "go"),
        ("step", "waitForEvent", "go", "completed"),
        ("status", "running"),
        ("step", "do", "secret", "attemptStarted"),
        ("step", "do", "secret", "completed"),
        ("status", "complete"),
    ]
    assert changes[3].output == 1
    assert changes[10].output["payload"] == {"n": 7}
    secret = changes[13]
    assert secret.output is None and secret.output_redacted
    assert changes[-1].output == {"first": 1, "event": {"n": 7}, "total": 1}
    # the same stream read again afterwards, resumed from a cursor, and filtered
    again = await collect(instance)
    assert short(again) == short(changes)
    resumed = await collect(instance, cursor=changes[5].cursor)
    assert short(resumed) == short(changes[6:])
    statuses = await collect(instance, filter="status")
    assert [c.status for c in statuses] == [
        "queued",
        "running",
        "waiting",
        "waiting",
        "running",
        "complete",
    ]
    options_form = [c async for c in instance.subscribe({"filter": ["event"]})]
    assert [c.event_type for c in options_form] == ["go"]


async def test_a_long_instance_streams_as_one(tempflare_worker: Any) -> None:
    async with tempflare_worker(Watched, continue_as_new_after=40) as binding:
        instance = await binding.create(id="watched-long", params={"more": 20})
        live = asyncio.create_task(collect(instance, filter=["step", "status"]))
        await asyncio.sleep(0.5)
        await instance.send_event("go", {"n": 1})
        changes = await asyncio.wait_for(live, 60)
    completed = [c.name for c in changes if c.kind == "step" and c.change == "completed"]
    assert completed == ["first", "go", "secret", *[f"more {i}" for i in range(20)]]
    assert changes[-1].status == "complete" and changes[-1].output["total"] == 1 + 190
    assert len({c.cursor.split(":")[0] for c in changes}) >= 2  # several runs behind it


async def test_bad_filter_and_cursor(tempflare_worker: Any) -> None:
    async with tempflare_worker(Watched) as binding:
        instance = await binding.create(id="watched-bad", params={})
        with pytest.raises(InvalidValueError, match="unknown kind"):
            instance.subscribe(filter="steps")
        with pytest.raises(InvalidValueError, match="cursor"):
            instance.subscribe(cursor="nonsense")
        with pytest.raises(InvalidValueError, match="does not have"):
            await anext(instance.subscribe(cursor="other-run:3"))
        await instance.terminate()
