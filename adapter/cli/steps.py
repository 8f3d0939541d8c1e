"""The step table of ``tempflare instances describe``: ``instance.steps()`` as rows.

No history parsing here: :meth:`~adapter.WorkflowInstance.steps` reads every step of every run
(``do``, ``sleep``, ``waitForEvent``, ``rollback``) with attempts and outputs, sensitive ones
redacted. This module only words each record for a table or JSON: its attempt count, its
outcome, the last attempt's error.
"""

from __future__ import annotations

from typing import Any

from .._shared.types import InstanceStatus, StepRecord

#: What an output shows when the step is ``sensitive="output"``.
REDACTED = "<redacted>"


def outcome(record: StepRecord, status: InstanceStatus) -> str:
    """``success``, ``failure``, ``timedOut`` (an event wait), or, for a step not ended:
    ``running``/``waiting`` while the instance is live, ``paused`` while it is paused, and
    ``cancelled`` once the instance ended without it."""
    if record.success is True:
        return "success"
    if record.success is False:
        return "timedOut" if record.type == "waitForEvent" else "failure"
    if status.is_final:
        return "cancelled"
    if status is InstanceStatus.PAUSED:
        return "paused"
    return "waiting" if record.type in ("sleep", "waitForEvent") else "running"


def error_text(record: StepRecord) -> str | None:
    """The last attempt's ``name: message`` when it failed."""
    if record.attempts and record.attempts[-1].error is not None:
        error = record.attempts[-1].error
        return f"{error.name}: {error.message}"
    return None


def row_json(record: StepRecord, status: InstanceStatus, with_output: bool) -> dict[str, Any]:
    """One row as JSON-safe values: the table's columns, ``error`` when the step failed and,
    ``with_output``, ``output`` (and ``output_redacted`` for a sensitive step)."""
    row: dict[str, Any] = {
        "type": record.type,
        "name": record.name,
        "count": record.count,
        "attempts": len(record.attempts) or 1,  # a sleep or an event wait is one attempt
        "start": record.start.isoformat() if record.start else None,
        "end": record.end.isoformat() if record.end else None,
        "duration_s": None if record.duration_ms is None else record.duration_ms / 1000,
        "outcome": outcome(record, status),
    }
    error = error_text(record)
    if error:
        row["error"] = error
    if with_output:
        row["output"] = record.output
        if record.output_redacted:
            row["output_redacted"] = True
    return row
