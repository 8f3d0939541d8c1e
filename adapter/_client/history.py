"""An instance's history across its runs, and its steps read back from it (``instance.steps()``).

Client code. An instance is one Temporal workflow id whose latest run may have continued as new
from earlier ones (long instances, see :mod:`adapter._workflow.definition`): its history is the
chain of those runs, oldest first, each event tagged with its run.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from .._shared.constants import STEP_ELSEWHERE, STEP_RECORD_MEMO
from .._shared.errors import InstanceNotFoundError
from .._shared.history_format import (
    RETRY_TIMER,
    ROLLBACK_PREFIX,
    local_activity_marker,
    parse_attempt_id,
    parse_timer_label,
    summary_of,
)
from .._shared.sensitive import holds_sensitive
from .._shared.types import ErrorInfo, StepAttemptRecord, StepRecord


@dataclass(frozen=True)
class RunHistory:
    """The events of one run of an instance."""

    run_id: str
    events: list[HistoryEvent]


async def decode_payloads(client: Client, payloads: Sequence[Payload]) -> list[Any]:
    """Values of history payloads: the client's codec (encryption) first, then its converter."""
    codec = client.data_converter.payload_codec
    decoded = await codec.decode(payloads) if codec else list(payloads)
    return client.data_converter.payload_converter.from_payloads(decoded)


async def decode_readable(client: Client, events: Sequence[HistoryEvent]) -> None:
    """Decodes, in place, what tempflare reads back from history that the client's codec
    (encryption) encoded: summaries, which name the steps (:func:`summary_of` reads them), and
    the memo upsert that records an event wait."""
    codec = client.data_converter.payload_codec
    if codec is None:
        return
    for event in events:
        if event.HasField("user_metadata") and event.user_metadata.HasField("summary"):
            (decoded,) = await codec.decode([event.user_metadata.summary])
            event.user_metadata.summary.CopyFrom(decoded)
        if event.HasField("workflow_properties_modified_event_attributes"):
            fields = event.workflow_properties_modified_event_attributes.upserted_memo.fields
            if STEP_RECORD_MEMO in fields:
                (decoded,) = await codec.decode([fields[STEP_RECORD_MEMO]])
                fields[STEP_RECORD_MEMO].CopyFrom(decoded)


async def run_chain(client: Client, instance_id: str) -> list[RunHistory]:
    """The histories of the latest run and the runs it continued from, oldest first.

    Raises:
        InstanceNotFoundError: No instance has this id.
    """
    chain: list[RunHistory] = []
    run_id: str | None = None
    while True:
        handle = client.get_workflow_handle(instance_id, run_id=run_id)
        try:
            history = await handle.fetch_history()
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND and not chain:
                raise InstanceNotFoundError(instance_id) from None
            raise
        events = list(history.events)
        if not events:
            break
        await decode_readable(client, events)
        started = events[0].workflow_execution_started_event_attributes
        chain.append(RunHistory(run_id or started.original_execution_run_id, events))
        previous = started.continued_execution_run_id
        if not previous:
            break
        run_id = previous
    chain.reverse()
    return chain


def _time(event: HistoryEvent) -> datetime:
    return event.event_time.ToDatetime(tzinfo=UTC)


@dataclass
class _Step:
    record: StepRecord
    attempts: dict[int, StepAttemptRecord] = field(default_factory=dict)
    result: list[Payload] | None = None


def error_info(failure: Any) -> ErrorInfo:
    """A failed attempt's ``{name, message}``: its cause's error type and message."""
    cause = failure.cause if failure.HasField("cause") else failure
    return ErrorInfo(name=cause.application_failure_info.type or "Error", message=cause.message)


class _Reader:
    """Builds step records from events, in order of first appearance."""

    def __init__(self) -> None:
        self.steps: dict[tuple[str, str, int], _Step] = {}
        self.timers: dict[tuple[str, int], _Step] = {}
        self.waits: dict[tuple[str, int], _Step] = {}

    def step(self, kind: str, name: str, count: int, when: datetime) -> _Step:
        key = (kind, name, count)
        if key not in self.steps:
            shown = name.removeprefix(ROLLBACK_PREFIX) if kind == "rollback" else name
            self.steps[key] = _Step(
                StepRecord(type=kind, name=shown, count=count, start=when)  # type: ignore[arg-type]
            )
        return self.steps[key]

    def attempt_step(self, activity_id: str, when: datetime) -> tuple[_Step, int] | None:
        parsed = parse_attempt_id(activity_id)
        if parsed is None:
            return None
        name, count, attempt = parsed
        kind = "rollback" if name.startswith(ROLLBACK_PREFIX) else "do"
        return self.step(kind, name, count, when), attempt

    def read(self, runs: Iterable[RunHistory]) -> list[StepRecord]:
        for run in runs:
            scheduled: dict[int, tuple[_Step, int]] = {}
            timers: dict[str, _Step] = {}
            for event in run.events:
                self._event(event, scheduled, timers)
        for (name, count), found in self.timers.items():
            wait = self.waits.get((name, count))
            if wait is not None:  # the wait's timeout timer: its start is the wait's
                wait.record.start = found.record.start
                continue
            key = ("sleep", name, count)
            self.steps[key] = found
        records = []
        for found in sorted(self.steps.values(), key=lambda s: s.record.start or datetime.min):
            record = found.record
            if found.attempts:
                record.attempts = [found.attempts[a] for a in sorted(found.attempts)]
                record.start = record.attempts[0].start or record.start
                last = record.attempts[-1]
                record.end = last.end
                record.success = None if last.end is None else last.error is None
            if record.start and record.end:
                record.duration_ms = round((record.end - record.start).total_seconds() * 1000)
            records.append(record)
        return records

    def _event(
        self,
        event: HistoryEvent,
        scheduled: dict[int, tuple[_Step, int]],
        timers: dict[str, _Step],
    ) -> None:
        when = _time(event)
        marker = local_activity_marker(event)
        if marker is not None:
            found = self.attempt_step(str(marker.get("activity_id")), when)
            if found is None:
                return
            step, attempt = found
            attrs = event.marker_recorded_event_attributes
            start = _marker_start(marker) or when
            if attrs.HasField("failure"):
                step.attempts[attempt] = StepAttemptRecord(
                    attempt=attempt, start=start, end=when, error=error_info(attrs.failure)
                )
            else:
                step.attempts[attempt] = StepAttemptRecord(attempt=attempt, start=start, end=when)
                step.result = (
                    list(attrs.details["result"].payloads) if "result" in attrs.details else []
                )
        elif event.HasField("activity_task_scheduled_event_attributes"):
            found = self.attempt_step(
                event.activity_task_scheduled_event_attributes.activity_id, when
            )
            if found is not None:
                scheduled[event.event_id] = found
                step, attempt = found
                step.attempts[attempt] = StepAttemptRecord(attempt=attempt, start=when)
        elif event.HasField("activity_task_started_event_attributes"):
            found = scheduled.get(event.activity_task_started_event_attributes.scheduled_event_id)
            if found is not None:
                found[0].attempts[found[1]].start = when
        elif event.HasField("activity_task_completed_event_attributes"):
            done = event.activity_task_completed_event_attributes
            found = scheduled.get(done.scheduled_event_id)
            if found is not None:
                step, attempt = found
                step.attempts[attempt].end = when
                step.result = list(done.result.payloads)
        elif event.HasField("activity_task_failed_event_attributes"):
            failed = event.activity_task_failed_event_attributes
            found = scheduled.get(failed.scheduled_event_id)
            if found is not None:
                error = error_info(failed.failure)
                if error.name != STEP_ELSEWHERE:  # handed back: it runs again
                    found[0].attempts[found[1]].end = when
                    found[0].attempts[found[1]].error = error
        elif event.HasField("timer_started_event_attributes"):
            summary = summary_of(event)
            if not summary or RETRY_TIMER.match(summary):
                return
            name, count = parse_timer_label(summary)
            timer = self.timers.get((name, count))
            if timer is None:  # a pause restarts a sleep's timer: the first one is its start
                timer = _Step(StepRecord(type="sleep", name=name, count=count, start=when))
                self.timers[(name, count)] = timer
            timers[event.timer_started_event_attributes.timer_id] = timer
        elif event.HasField("timer_fired_event_attributes"):
            fired = timers.get(event.timer_fired_event_attributes.timer_id)
            if fired is not None:
                fired.record.end, fired.record.success = when, True
        elif event.HasField("workflow_properties_modified_event_attributes"):
            fields = event.workflow_properties_modified_event_attributes.upserted_memo.fields
            if STEP_RECORD_MEMO in fields:
                data = json.loads(fields[STEP_RECORD_MEMO].data)
                record = StepRecord(
                    type="waitForEvent",
                    name=data["name"],
                    count=data["count"],
                    start=datetime.fromisoformat(data["start"]),
                    end=when,
                    success=not data["timedOut"],
                    output=data.get("output"),
                )
                wait = _Step(record)
                self.waits[(record.name, record.count)] = wait
                self.steps[("waitForEvent", record.name, record.count)] = wait


def _marker_start(marker: dict[str, Any]) -> datetime | None:
    """When a local activity's attempt was scheduled, if its marker says so."""
    value = marker.get("original_schedule_time") or marker.get("originalScheduleTime")
    if isinstance(value, dict) and "seconds" in value:
        seconds = float(value.get("seconds", 0)) + float(value.get("nanos", 0)) / 1e9
        return datetime.fromtimestamp(seconds, tz=UTC)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


async def read_steps(client: Client, runs: list[RunHistory]) -> list[StepRecord]:
    """Every step of an instance, oldest first, with outputs decoded (sensitive ones redacted)."""
    reader = _Reader()
    records = reader.read(runs)
    by_record = {id(s.record): s for s in reader.steps.values()}
    for record in records:
        step = by_record.get(id(record))
        if step is None or step.result is None or not record.success:
            continue
        if await holds_sensitive(client.data_converter.payload_codec, step.result):
            record.output_redacted = True
            continue
        values = await client.data_converter.decode(step.result) if step.result else [None]
        record.output = values[0] if values else None
    return records
