"""Values that user code receives: the event, the step context, awaited events and status.

Shared by workflow code, worker code and client code; nothing here does I/O.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel

ParamsT = TypeVar("ParamsT")
PayloadT = TypeVar("PayloadT")


@dataclass(frozen=True)
class ScheduleInfo:
    """``event.schedule`` of an instance a cron schedule started: Cloudflare's
    ``{cron, scheduledTime}``.

    Attributes:
        cron: The cron expression that fired.
        scheduled_time: When it was due (timezone-aware; the actual start may be a little later).
    """

    cron: str
    scheduled_time: datetime

    @property
    def scheduledTime(self) -> datetime:
        """Alias of :attr:`scheduled_time`."""
        return self.scheduled_time


@dataclass(frozen=True)
class WorkflowEvent(Generic[ParamsT]):
    """The event ``run()`` receives: Cloudflare's ``WorkflowEvent<Params>``.

    Attributes:
        payload: The params the instance was created with, validated against ``Params``.
        timestamp: When the instance was created (timezone-aware).
        instance_id: The instance id, which is the Temporal workflow id.
        workflow_name: The workflow name, which is the Temporal workflow type.
        schedule: The cron schedule that started the instance, or ``None``.
    """

    payload: ParamsT
    timestamp: datetime
    instance_id: str
    workflow_name: str
    schedule: ScheduleInfo | None = None

    @property
    def instanceId(self) -> str:
        """Alias of :attr:`instance_id`."""
        return self.instance_id

    @property
    def workflowName(self) -> str:
        """Alias of :attr:`workflow_name`."""
        return self.workflow_name


@dataclass(frozen=True)
class WorkflowStepEvent(Generic[PayloadT]):
    """What ``wait_for_event`` returns.

    Attributes:
        payload: The event's payload.
        timestamp: When the instance received the event.
        type: The event type.
    """

    payload: PayloadT
    timestamp: datetime
    type: str


@dataclass(frozen=True)
class StepInfo:
    """Identifies a ``step.do`` call: its name and 1-based occurrence of that name in the run."""

    name: str
    count: int


@dataclass(frozen=True)
class StepContext:
    """The optional argument of a ``step.do`` callback.

    Attributes:
        attempt: The attempt number, from 1.
        step: The step's name and count.
        config: The resolved config, defaults merged (``delay`` omitted when it is a function).
    """

    attempt: int
    step: StepInfo
    config: Mapping[str, Any]


class InstanceStatus(enum.StrEnum):
    """Cloudflare's instance statuses.

    ``unknown`` is reported for a Temporal state that maps to none of the others: a run that
    that continued-as-new (only an earlier run of a long instance, which ``status()`` never reads)
    or a status this SDK version cannot name.
    """

    QUEUED = "queued"
    RUNNING = "running"
    WAITING = "waiting"
    WAITING_FOR_PAUSE = "waitingForPause"
    PAUSED = "paused"
    #: Running the rollback handlers after an error or ``terminate(rollback=True)``; Cloudflare
    #: counts this state in its REST API.
    ROLLING_BACK = "rollingBack"
    COMPLETE = "complete"
    ERRORED = "errored"
    TERMINATED = "terminated"
    UNKNOWN = "unknown"

    @property
    def is_final(self) -> bool:
        """Whether the instance can no longer change without a restart."""
        return self in _FINAL

    def __str__(self) -> str:
        return self.value


_FINAL = frozenset({InstanceStatus.COMPLETE, InstanceStatus.ERRORED, InstanceStatus.TERMINATED})


class ErrorInfo(BaseModel):
    """The ``{name, message}`` of an instance that errored."""

    name: str
    message: str


class InstanceStatusDetails(BaseModel):
    """What ``instance.status()`` returns: ``{status, error, output}``."""

    status: InstanceStatus
    error: ErrorInfo | None = None
    output: Any = None


class StepAttemptRecord(BaseModel):
    """One attempt of a ``step.do`` (or a rollback), as its history records it."""

    attempt: int
    start: datetime | None = None
    end: datetime | None = None
    #: ``None`` while it runs or when it succeeded.
    error: ErrorInfo | None = None


class StepRecord(BaseModel):
    """One step of an instance, read from its history: what ``instance.steps()`` returns.

    Attributes:
        type: ``do``, ``sleep``, ``waitForEvent`` or ``rollback`` (a rollback handler, whose
            ``name`` is the step it undoes).
        name: The step name.
        count: Its 1-based occurrence among steps of that type and name.
        start: When it started (the first attempt, the timer, the wait).
        end: When it ended; ``None`` while under way.
        duration_ms: ``end - start`` in milliseconds.
        success: ``True`` once done, ``False`` when it failed or timed out, ``None`` under way.
        attempts: Each attempt of a ``do`` or rollback, with start, end and error.
        output: The step's result (an event wait's ``{payload, timestamp, type}``); ``None``
            when it has none yet, or when it is redacted.
        output_redacted: The step is ``sensitive="output"``: its output is encrypted in history
            and never shown here.
    """

    type: Literal["do", "sleep", "waitForEvent", "rollback"]
    name: str
    count: int
    start: datetime | None = None
    end: datetime | None = None
    duration_ms: int | None = None
    success: bool | None = None
    attempts: list[StepAttemptRecord] = []
    output: Any = None
    output_redacted: bool = False


class InstanceEvent(BaseModel):
    """One change of an instance, as ``instance.subscribe()`` streams it.

    Attributes:
        kind: ``step`` (a step changed), ``event`` (an event was sent to the instance) or
            ``status`` (the instance's status changed).
        cursor: Pass it to ``subscribe(cursor=...)`` to resume after this change.
        time: When the history recorded it.
        status: For ``status``: the new status (and ``output`` or ``error`` once final).
        step_type: For ``step``: ``do``, ``rollback``, ``waitForEvent``; ``None`` for a timer
            (a sleep or an event wait's timeout), which history does not tell apart.
        name, count, attempt: For ``step``: which step, and which attempt.
        change: For ``step``: ``attemptStarted``, ``attemptFailed``, ``completed``,
            ``waiting`` (a timer started), ``waitEnded`` (it fired), ``timedOut``.
        output, output_redacted: A completed step's output (redacted when sensitive), or the
            instance's output.
        error: A failed attempt's, or the instance's, error.
        event_type: For ``event``: the event type.
    """

    kind: Literal["step", "event", "status"]
    cursor: str
    time: datetime
    status: str | None = None
    step_type: Literal["do", "rollback", "waitForEvent"] | None = None
    name: str | None = None
    count: int | None = None
    attempt: int | None = None
    change: str | None = None
    output: Any = None
    output_redacted: bool = False
    error: ErrorInfo | None = None
    event_type: str | None = None
