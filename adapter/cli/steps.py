"""The step table of ``tempflare instances describe``, read from an instance's history.

Steps are found by the names tempflare writes (:mod:`adapter._shared.history_format`): a
``step.do`` attempt is an activity (durable) or a local-activity marker (batched) whose id is
``name#count@attempt``; a sleep or an event wait is a timer whose summary is the step name. A
timer cancelled by an event is a ``waitForEvent`` whose output is that event; a timer that fired
reads as a ``sleep`` (an event wait that timed out looks the same in history). A pause cancels a
timer and a new one with the same summary starts on resume: both count as one step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client

from .._client.history import decode_payloads, decode_summaries
from .._shared.history_format import (
    attempt_outcomes,
    local_activity_marker,
    parse_attempt_id,
    parse_timer_label,
    summary_of,
)


@dataclass
class StepRow:
    """One row of the step table (Cloudflare's ``wrangler workflows instances describe``)."""

    type: str
    name: str
    count: int
    attempts: int = 0
    start: datetime | None = None
    end: datetime | None = None
    outcome: str = "running"
    output: Any = None
    error: str | None = None
    _payloads: list[Payload] | None = field(default=None, repr=False)
    _pending: list[Payload] | None = field(default=None, repr=False)
    _signal: str = field(default="", repr=False)

    @property
    def duration_s(self) -> float | None:
        """Seconds from start to end, or ``None`` while it runs."""
        if self.start is None or self.end is None:
            return None
        return (self.end - self.start).total_seconds()

    def to_json(self, with_output: bool) -> dict[str, Any]:
        """The row as JSON-safe values."""
        row: dict[str, Any] = {
            "type": self.type,
            "name": self.name,
            "count": self.count,
            "attempts": self.attempts,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "duration_s": self.duration_s,
            "outcome": self.outcome,
        }
        if self.error:
            row["error"] = self.error
        if with_output:
            row["output"] = self.output
        return row


#: Where the end of a timer started before the history's first page goes (nowhere).
_UNKNOWN = StepRow("sleep", "?", 0)


def _time(event: HistoryEvent) -> datetime:
    return event.event_time.ToDatetime().replace(microsecond=event.event_time.nanos // 1000)


async def step_rows(client: Client, events: list[HistoryEvent], with_output: bool) -> list[StepRow]:
    """Every step of a history in the order it started; outputs decoded when ``with_output``."""
    await decode_summaries(client, events)
    rows: dict[tuple[str, str, int], StepRow] = {}
    outcomes = {o.event_id: o for o in attempt_outcomes(events)}
    scheduled: dict[int, tuple[str, int]] = {}
    open_timers: dict[str, StepRow] = {}
    for event in events:
        when = _time(event)
        marker = local_activity_marker(event)
        if event.HasField("activity_task_scheduled_event_attributes"):
            parsed = parse_attempt_id(event.activity_task_scheduled_event_attributes.activity_id)
            if parsed is not None:
                name, count, _ = parsed
                scheduled[event.event_id] = (name, count)
                row = rows.setdefault(("do", name, count), StepRow("do", name, count))
                row.start = row.start or when
                row.attempts = max(row.attempts, parsed[2])
        elif marker is not None:
            parsed = parse_attempt_id(str(marker.get("activity_id")))
            if parsed is not None:
                name, count, attempt = parsed
                row = rows.setdefault(("do", name, count), StepRow("do", name, count))
                row.start = row.start or when
                row.attempts = max(row.attempts, attempt)
        elif event.HasField("timer_started_event_attributes"):
            name, count = parse_timer_label(summary_of(event))
            key = ("timer", name, count)
            row = rows.setdefault(key, StepRow("sleep", name, count, attempts=1))
            row.start = row.start or when
            row.outcome, row.end = "waiting", None
            open_timers[event.timer_started_event_attributes.timer_id] = row
        elif event.HasField("timer_fired_event_attributes"):
            row = open_timers.pop(event.timer_fired_event_attributes.timer_id, _UNKNOWN)
            row.end, row.outcome, row._pending = when, "success", None
        elif event.HasField("timer_canceled_event_attributes"):
            row = open_timers.pop(event.timer_canceled_event_attributes.timer_id, _UNKNOWN)
            if row._pending is not None:
                row.type, row._payloads, row._pending = "waitForEvent", row._pending, None
                row.end, row.outcome = when, "success"
            else:
                row.outcome = "paused"
        elif event.HasField("workflow_execution_signaled_event_attributes"):
            signal = event.workflow_execution_signaled_event_attributes
            if not signal.signal_name.startswith("tempflare.") and open_timers:
                # The oldest open wait takes the event (a pause would have closed it first).
                row = next(iter(open_timers.values()))
                row._pending = list(signal.input.payloads)
                row._signal = signal.signal_name
        outcome = outcomes.get(event.event_id)
        if outcome is not None:
            row = rows.setdefault(
                ("do", outcome.name, outcome.count), StepRow("do", outcome.name, outcome.count)
            )
            row.end = when
            if outcome.failure is None:
                row.outcome, row.error, row._payloads = "success", None, outcome.result
            else:
                row.outcome = "failure"
                cause = outcome.failure
                row.error = f"{cause.application_failure_info.type or 'Error'}: {cause.message}"
    if with_output:
        for row in rows.values():
            if row._payloads:
                values = await decode_payloads(client, row._payloads)
                row.output = values[0]
                if row.type == "waitForEvent":
                    row.output = {"type": row._signal, "payload": values[0]}
    return list(rows.values())
