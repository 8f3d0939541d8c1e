"""How tempflare names steps in a Temporal history, and how to read those names back.

One place for the format: the workflow writes it (:mod:`adapter.step`), and restart, the testing
toolkit and tests read it.

* A ``step.do`` attempt's activity id is ``<name>#<count>@<attempt>``.
* A sleep's or event wait's timer summary is ``<name>``, or ``<name> #<count>`` after the first.
"""

from __future__ import annotations

import json
from typing import Any

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
