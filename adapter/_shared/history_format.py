"""How tempflare names steps in a Temporal history, and how to read those names back.

One place for the format: the workflow writes it (:mod:`adapter.step`), and restart, the testing
toolkit and tests read it.

* A ``step.do`` attempt's activity id is ``<name>#<count>@<attempt>``: a regular activity for a
  durable step, a local-activity marker for a batched one.
* A sleep's or event wait's timer summary is ``<name>``, or ``<name> #<count>`` after the first.
* A rollback handler runs as a durable step named ``rollback: <name>``.
* An event wait, when it ends, upserts the memo key ``tempflare.step`` with what it received.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure

from .constants import STEP_ELSEWHERE

#: The rollback of step ``x`` is a durable step named ``rollback: x`` (activity type and summary).
ROLLBACK_PREFIX = "rollback: "

#: A retry wait's timer summary: ``<step>: retry <n> of <limit> after <ms>ms``.
RETRY_TIMER = re.compile(r"^.*: retry \d+ of \d+ after \d+ms$", re.DOTALL)

#: The marker name sdk-core gives local-activity results.
LOCAL_ACTIVITY_MARKER = "core_local_activity"


def attempt_id(name: str, count: int, attempt: int) -> str:
    """The activity id of one attempt of the ``count``-th ``step.do`` called ``name``."""
    return f"{name}#{count}@{attempt}"


def parse_attempt_id(activity_id: str) -> tuple[str, int, int] | None:
    """``(name, count, attempt)`` from an activity id, or ``None`` if tempflare did not make it."""
    name, sep, rest = activity_id.rpartition("#")
    count, at, attempt = rest.partition("@")
    if not (sep and at and count.isdigit() and attempt.isdigit()):
        return None
    return name, int(count), int(attempt)


def timer_label(name: str, count: int) -> str:
    """The timer summary of the ``count``-th sleep or event wait called ``name``."""
    return name if count == 1 else f"{name} #{count}"


def parse_timer_label(summary: str) -> tuple[str, int]:
    """``(name, count)`` from a timer summary written by :func:`timer_label`."""
    name, sep, count = summary.rpartition(" #")
    if sep and count.isdigit():
        return name, int(count)
    return summary, 1


def summary_of(event: Any) -> str:
    """The summary a history event carries (as the Web UI shows it), or ``""``."""
    if event.HasField("user_metadata") and event.user_metadata.HasField("summary"):
        return str(json.loads(event.user_metadata.summary.data))
    return ""


def local_activity_marker(event: Any) -> dict[str, Any] | None:
    """The data of a local-activity marker (``activity_type``, ``activity_id``, ``attempt``...),
    or ``None`` for any other event."""
    if not event.HasField("marker_recorded_event_attributes"):
        return None
    attrs = event.marker_recorded_event_attributes
    if attrs.marker_name != LOCAL_ACTIVITY_MARKER:
        return None  # e.g. the patch marker of durable steps
    details = attrs.details
    if "data" not in details:
        return None
    data: dict[str, Any] = json.loads(details["data"].payloads[0].data)
    return data


@dataclass(frozen=True)
class AttemptOutcome:
    """How one step attempt ended, as its history records it (payloads not yet decoded)."""

    name: str
    count: int
    attempt: int
    #: The event that records the outcome.
    event_id: int
    #: The result's payloads on success (empty for ``None``), or ``None`` on failure.
    result: list[Payload] | None
    #: The failure's innermost cause (its ``application_failure_info.type`` is the error name).
    failure: Failure | None


def attempt_outcomes(events: Iterable[Any]) -> Iterator[AttemptOutcome]:
    """Every step attempt's outcome in a history, in order: local-activity markers (batched
    steps) and completed or failed activities (durable steps and registered activities).

    An attempt another worker handed back, and one whose worker was lost (a heartbeat or
    schedule-to-start timeout, a cancellation), has no outcome: it ran again.
    """
    scheduled: dict[int, tuple[str, int, int]] = {}
    for event in events:
        data = local_activity_marker(event)
        if data is not None:
            parsed = parse_attempt_id(str(data.get("activity_id")))
            if parsed is None:
                continue
            attrs = event.marker_recorded_event_attributes
            if attrs.HasField("failure"):
                yield AttemptOutcome(*parsed, event.event_id, None, _innermost(attrs.failure))
            else:
                payloads = (
                    list(attrs.details["result"].payloads) if "result" in attrs.details else []
                )
                yield AttemptOutcome(*parsed, event.event_id, payloads, None)
        elif event.HasField("activity_task_scheduled_event_attributes"):
            parsed = parse_attempt_id(event.activity_task_scheduled_event_attributes.activity_id)
            if parsed is not None:
                scheduled[event.event_id] = parsed
        elif event.HasField("activity_task_completed_event_attributes"):
            done = event.activity_task_completed_event_attributes
            if done.scheduled_event_id in scheduled:
                payloads = list(done.result.payloads)
                yield AttemptOutcome(
                    *scheduled[done.scheduled_event_id], event.event_id, payloads, None
                )
        elif event.HasField("activity_task_failed_event_attributes"):
            failed = event.activity_task_failed_event_attributes
            cause = _innermost(failed.failure)
            if failed.scheduled_event_id in scheduled and (
                cause.application_failure_info.type != STEP_ELSEWHERE
            ):
                yield AttemptOutcome(
                    *scheduled[failed.scheduled_event_id], event.event_id, None, cause
                )


def _innermost(failure: Failure) -> Failure:
    """An activity failure's cause (the step's own error), or the failure itself."""
    return failure.cause if failure.HasField("cause") else failure
