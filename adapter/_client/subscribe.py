"""``instance.subscribe()``: an instance's step, event and status changes as a stream, read from
its history, every run of it, first what is recorded and then live (Temporal's long-polling
history read, ``wait_new_event``), resumable from a cursor. Client code.

A cursor is ``<run id>:<event id>`` of the last history event a delivered change came from; a
subscription given it resumes after that event.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import UTC
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client
from temporalio.converter import WorkflowSerializationContext
from temporalio.exceptions import ApplicationError

from .._shared.constants import STATUS_SEARCH_ATTRIBUTE, STEP_ELSEWHERE, STEP_RECORD_MEMO
from .._shared.errors import InvalidValueError, WrongTypeError
from .._shared.history_format import (
    RETRY_TIMER,
    ROLLBACK_PREFIX,
    local_activity_marker,
    parse_attempt_id,
    parse_timer_label,
    summary_of,
)
from .._shared.sensitive import holds_sensitive
from .._shared.types import ErrorInfo, InstanceEvent
from .._shared.validation import quote
from .history import decode_readable, error_info, run_chain

KINDS = ("step", "event", "status")


def parse_filter(value: object) -> Callable[[InstanceEvent], bool]:
    """``None`` (everything), a kind (``"step"``, ``"event"``, ``"status"``), a list of kinds,
    or a predicate on :class:`~adapter.types.InstanceEvent`.

    Raises:
        InvalidValueError: An unknown kind.
        WrongTypeError: Anything else.
    """
    if value is None:
        return lambda _: True
    if callable(value):
        return value
    kinds = [value] if isinstance(value, str) else value
    if not isinstance(kinds, Iterable) or not all(isinstance(k, str) for k in kinds):
        raise WrongTypeError(
            f"subscribe(filter=...) takes a kind, a list of kinds or a function, got "
            f"{quote(value)}."
        )
    chosen = set(kinds)
    unknown = sorted(chosen - set(KINDS))
    if unknown:
        raise InvalidValueError(
            f"subscribe(filter=...) got unknown kind(s) {unknown}; the kinds are {list(KINDS)}."
        )
    return lambda e: e.kind in chosen


def parse_cursor(cursor: object) -> tuple[str, int] | None:
    """``(run id, event id)`` from a cursor, or ``None``.

    Raises:
        InvalidValueError: Not a cursor that subscribe() gave.
    """
    if cursor is None:
        return None
    run_id, sep, event_id = str(cursor).rpartition(":")
    if not (isinstance(cursor, str) and sep and run_id and event_id.isdigit()):
        raise InvalidValueError(
            f"subscribe(cursor=...) got {quote(cursor)}; give the cursor of an event that "
            'subscribe() delivered ("<run id>:<event id>").'
        )
    return run_id, int(event_id)


class _Translator:
    """Turns one run's history events into instance events."""

    def __init__(self, client: Client, instance_id: str, run_id: str, first_run: bool) -> None:
        self.client = client
        self.run_id = run_id
        self.first_run = first_run
        self.scheduled: dict[int, tuple[str, str, int, int]] = {}
        self.timers: dict[str, tuple[str, int]] = {}
        self.converter = client.data_converter.with_context(
            WorkflowSerializationContext(namespace=client.namespace, workflow_id=instance_id)
        )

    def _base(self, event: HistoryEvent, kind: str, **values: Any) -> InstanceEvent:
        return InstanceEvent(
            kind=kind,  # type: ignore[arg-type]
            cursor=f"{self.run_id}:{event.event_id}",
            time=event.event_time.ToDatetime(tzinfo=UTC),
            **values,
        )

    async def _output(self, payloads: list[Any]) -> tuple[Any, bool]:
        if await holds_sensitive(self.converter.payload_codec, payloads):
            return None, True
        values = await self.converter.decode(payloads) if payloads else [None]
        return (values[0] if values else None), False

    def _attempt(
        self, event: HistoryEvent, step: tuple[str, str, int, int], change: str, **values: Any
    ) -> InstanceEvent:
        kind, name, count, attempt = step
        return self._base(
            event,
            "step",
            step_type=kind,
            name=name,
            count=count,
            attempt=attempt,
            change=change,
            **values,
        )

    async def _completed(
        self, event: HistoryEvent, step: tuple[str, str, int, int], payloads: list[Any]
    ) -> InstanceEvent:
        output, redacted = await self._output(payloads)
        return self._attempt(event, step, "completed", output=output, output_redacted=redacted)

    async def translate(self, event: HistoryEvent) -> InstanceEvent | None:
        marker = local_activity_marker(event)
        if marker is not None:
            parsed = parse_attempt_id(str(marker.get("activity_id")))
            if parsed is None:
                return None
            attrs = event.marker_recorded_event_attributes
            if attrs.HasField("failure"):
                return self._attempt(
                    event, _step(parsed), "attemptFailed", error=error_info(attrs.failure)
                )
            payloads = list(attrs.details["result"].payloads) if "result" in attrs.details else []
            return await self._completed(event, _step(parsed), payloads)
        which = event.WhichOneof("attributes")
        if which == "activity_task_scheduled_event_attributes":
            parsed = parse_attempt_id(event.activity_task_scheduled_event_attributes.activity_id)
            if parsed is None:
                return None
            self.scheduled[event.event_id] = _step(parsed)
            return self._attempt(event, self.scheduled[event.event_id], "attemptStarted")
        if which == "activity_task_completed_event_attributes":
            done = event.activity_task_completed_event_attributes
            found = self.scheduled.get(done.scheduled_event_id)
            if found is None:
                return None
            return await self._completed(event, found, list(done.result.payloads))
        if which == "activity_task_failed_event_attributes":
            failed = event.activity_task_failed_event_attributes
            found = self.scheduled.get(failed.scheduled_event_id)
            error = error_info(failed.failure)
            if found is None or error.name == STEP_ELSEWHERE:
                return None
            return self._attempt(event, found, "attemptFailed", error=error)
        if which == "timer_started_event_attributes":
            summary = summary_of(event)
            if not summary or RETRY_TIMER.match(summary):
                return None
            name, count = parse_timer_label(summary)
            self.timers[event.timer_started_event_attributes.timer_id] = (name, count)
            return self._base(event, "step", name=name, count=count, change="waiting")
        if which == "timer_fired_event_attributes":
            timer = self.timers.get(event.timer_fired_event_attributes.timer_id)
            if timer is None:
                return None
            return self._base(event, "step", name=timer[0], count=timer[1], change="waitEnded")
        if which == "workflow_properties_modified_event_attributes":
            fields = event.workflow_properties_modified_event_attributes.upserted_memo.fields
            if STEP_RECORD_MEMO not in fields:
                return None
            record = json.loads(fields[STEP_RECORD_MEMO].data)
            return self._base(
                event,
                "step",
                step_type="waitForEvent",
                name=record["name"],
                count=record["count"],
                change="timedOut" if record["timedOut"] else "completed",
                output=record.get("output"),
            )
        if which == "workflow_execution_signaled_event_attributes":
            name = event.workflow_execution_signaled_event_attributes.signal_name
            if name.startswith("tempflare."):
                return None
            return self._base(event, "event", event_type=name)
        if which == "upsert_workflow_search_attributes_event_attributes":
            upserted = event.upsert_workflow_search_attributes_event_attributes
            indexed = upserted.search_attributes.indexed_fields
            if STATUS_SEARCH_ATTRIBUTE not in indexed:
                return None
            status = json.loads(indexed[STATUS_SEARCH_ATTRIBUTE].data)
            return self._base(event, "status", status=status)
        if which == "workflow_execution_started_event_attributes":
            return self._base(event, "status", status="queued") if self.first_run else None
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
            payloads = list(event.workflow_execution_completed_event_attributes.result.payloads)
            output, _ = await self._output(payloads)
            return self._base(event, "status", status="complete", output=output)
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
            failure = await self.converter.decode_failure(
                event.workflow_execution_failed_event_attributes.failure
            )
            error = (
                ErrorInfo(name=failure.type or "Error", message=failure.message)
                if isinstance(failure, ApplicationError)
                else ErrorInfo(name=type(failure).__name__, message=str(failure))
            )
            return self._base(event, "status", status="errored", error=error)
        if event.event_type in (
            EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
            EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
        ):
            return self._base(event, "status", status="terminated")
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT:
            return self._base(
                event,
                "status",
                status="errored",
                error=ErrorInfo(name="TimeoutError", message="Workflow execution timed out"),
            )
        return None


def _step(parsed: tuple[str, int, int]) -> tuple[str, str, int, int]:
    name, count, attempt = parsed
    if name.startswith(ROLLBACK_PREFIX):
        return "rollback", name.removeprefix(ROLLBACK_PREFIX), count, attempt
    return "do", name, count, attempt


async def subscribe(
    client: Client,
    instance_id: str,
    wanted: Callable[[InstanceEvent], bool],
    cursor: tuple[str, int] | None,
) -> AsyncIterator[InstanceEvent]:
    """The instance's changes: recorded ones first, then live until the instance ends."""
    chain = await run_chain(client, instance_id)
    skipping = cursor is not None
    if cursor is not None and cursor[0] not in {run.run_id for run in chain}:
        raise InvalidValueError(
            f"subscribe(cursor={cursor[0]}:{cursor[1]!r}) names a run that instance "
            f"{instance_id!r} does not have (a restart starts a new history)."
        )
    for index, run in enumerate(chain):
        translator = _Translator(client, instance_id, run.run_id, first_run=index == 0)
        last = 0
        live = index == len(chain) - 1
        events: AsyncIterator[HistoryEvent] | None = None
        recorded = iter(run.events)
        run_id = run.run_id
        while True:
            if events is None:
                event = next(recorded, None)
                if event is None:
                    if not live:
                        break
                    handle = client.get_workflow_handle(instance_id, run_id=run_id)
                    events = aiter(handle.fetch_history_events(wait_new_event=True))
                    continue
            else:
                try:
                    event = await anext(events)
                except StopAsyncIteration:
                    break
                if event.event_id <= last:
                    continue
                await decode_readable(client, [event])  # recorded ones: run_chain did
            last = event.event_id
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
                if live:  # the live run went on in a new one: follow it
                    attrs = event.workflow_execution_continued_as_new_event_attributes
                    run_id = attrs.new_execution_run_id
                    translator = _Translator(client, instance_id, run_id, first_run=False)
                    handle = client.get_workflow_handle(instance_id, run_id=run_id)
                    events = aiter(handle.fetch_history_events(wait_new_event=True))
                    last = 0
                continue
            if skipping:
                assert cursor is not None
                if (translator.run_id, event.event_id) == cursor:
                    skipping = False
                # translate anyway, so that the translator knows the steps scheduled earlier
                await translator.translate(event)
                continue
            change = await translator.translate(event)
            if change is not None and wanted(change):
                yield change
