"""Reading back what a run wrote to its Temporal history, and polling helpers for tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from temporalio.client import WorkflowHandle

from adapter._shared.history_format import local_activity_marker, summary_of

T = TypeVar("T")


@dataclass(frozen=True)
class Timer:
    summary: str
    seconds: float


@dataclass(frozen=True)
class StepAttempt:
    activity_type: str
    activity_id: str
    summary: str
    failed: bool


async def timers(handle: WorkflowHandle[Any, Any]) -> list[Timer]:
    """Every timer the run started, with its summary and exact duration."""
    history = await handle.fetch_history()
    return [
        Timer(
            summary_of(e),
            e.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta().total_seconds(),
        )
        for e in history.events
        if e.HasField("timer_started_event_attributes")
    ]


async def step_attempts(handle: WorkflowHandle[Any, Any]) -> list[StepAttempt]:
    """Every step attempt: local-activity markers and regular activities, in order."""
    return attempts_in(await handle.fetch_history())


def attempts_in(history: Any) -> list[StepAttempt]:
    """Every step attempt in a history: local-activity markers and regular activities."""
    attempts = []
    scheduled: dict[int, Any] = {}
    for e in history.events:
        data = local_activity_marker(e)
        if data is not None:
            attrs = e.marker_recorded_event_attributes
            attempts.append(
                StepAttempt(
                    data["activity_type"],
                    data["activity_id"],
                    summary_of(e),
                    attrs.HasField("failure"),
                )
            )
        elif e.HasField("activity_task_scheduled_event_attributes"):
            scheduled[e.event_id] = e
        elif (
            e.HasField("activity_task_completed_event_attributes")
            or e.HasField("activity_task_failed_event_attributes")
            or e.HasField("activity_task_timed_out_event_attributes")
        ):
            which = e.WhichOneof("attributes")
            sched = scheduled[getattr(e, which).scheduled_event_id]
            a = sched.activity_task_scheduled_event_attributes
            attempts.append(
                StepAttempt(
                    a.activity_type.name, a.activity_id, summary_of(sched), "completed" not in which
                )
            )
    return attempts


async def event_types(handle: WorkflowHandle[Any, Any]) -> list[str]:
    history = await handle.fetch_history()
    return [str(e.WhichOneof("attributes")) for e in history.events]


async def eventually(
    fn: Callable[[], Awaitable[T]], check: Callable[[T], bool], *, timeout: float = 30
) -> T:
    """Polls ``fn`` until ``check`` holds on its result; fails with the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = await fn()
        if check(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last value: {value!r}")
        await asyncio.sleep(0.1)


def describe_events(history: Any) -> list[str]:
    """One line per history event (id, type, the detail that tells steps apart): for messages."""
    from temporalio.api.enums.v1 import EventType

    lines = []
    for ev in history.events:
        detail: Any = ""
        if ev.HasField("upsert_workflow_search_attributes_event_attributes"):
            fields = ev.upsert_workflow_search_attributes_event_attributes.search_attributes
            detail = {k: v.data.decode() for k, v in sorted(fields.indexed_fields.items())}
        elif ev.HasField("marker_recorded_event_attributes"):
            detail = ev.marker_recorded_event_attributes.marker_name
        elif ev.HasField("timer_started_event_attributes"):
            detail = ev.timer_started_event_attributes.start_to_fire_timeout.ToMilliseconds()
        elif ev.HasField("workflow_execution_signaled_event_attributes"):
            detail = ev.workflow_execution_signaled_event_attributes.signal_name
        lines.append(f"{ev.event_id} {EventType.Name(ev.event_type)} {detail}".rstrip())
    return lines
