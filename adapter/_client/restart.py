"""``restart()``: a Temporal reset, or a new run that keeps the results of earlier steps.

Client code: it reads the instance's history and writes a restart plan into the new run's memo,
in the same form as the testing toolkit's modifiers (:mod:`adapter.testing._modifiers`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from temporalio.api.common.v1 import Payload, WorkflowExecution
from temporalio.api.enums.v1 import EventType, ResetReapplyExcludeType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.workflowservice.v1 import ResetWorkflowExecutionRequest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.service import RPCError, RPCStatusCode

from .._shared.constants import MODIFIERS_MEMO, STEP_RECORD_MEMO
from .._shared.errors import StepNotFoundError
from .._shared.history_format import (
    attempt_outcomes,
    parse_attempt_id,
    parse_timer_label,
    summary_of,
)
from .._shared.modifiers import AttemptSlot, MockedEvent, MockedResult, Modifications, StepSelector
from .._shared.sensitive import (
    SensitiveOutputError,
    has_sensitive_codec,
    holds_sensitive,
    mark_sensitive,
)
from .._shared.validation import validate_from_step
from .history import decode_payloads, run_chain


async def _history(client: Client, instance_id: str) -> tuple[list[HistoryEvent], Any]:
    handle = client.get_workflow_handle(instance_id)
    history = await handle.fetch_history()
    return list(history.events), handle


async def reset_to_first_workflow_task(client: Client, instance_id: str) -> None:
    """Resets the latest run to its first completed workflow task, dropping its signals.

    If an event arrived before that task finished, the reset would keep it; a fresh run of the
    same id with the original params is started instead.
    """
    events, handle = await _history(client, instance_id)
    started = events[0].workflow_execution_started_event_attributes
    if started.continued_execution_run_id:
        # A long instance whose latest run continued from earlier ones: resetting that run would
        # keep what it carries; start a clean run with the first run's params instead.
        chain = await run_chain(client, instance_id)
        await _start_new_run(client, instance_id, chain[0].events, None, reason="tempflare restart")
        return
    desc = await handle.describe()
    completed = [
        e.event_id for e in events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED
    ]
    if completed:
        target = completed[0]
    else:
        scheduled = [
            e.event_id
            for e in events
            if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED
        ]
        target = scheduled[0] + 1
    if any(
        e.event_id <= target
        and e.HasField("workflow_execution_signaled_event_attributes")
        and not e.workflow_execution_signaled_event_attributes.signal_name.startswith("tempflare.")
        for e in events
    ):
        # An event arrived before the first workflow task finished, so a reset would keep it;
        # restart discards buffered events, so start a clean run of the same id instead.
        await _start_new_run(client, instance_id, events, None, reason="tempflare restart")
        return
    try:
        await client.workflow_service.reset_workflow_execution(
            ResetWorkflowExecutionRequest(
                namespace=client.namespace,
                workflow_execution=WorkflowExecution(workflow_id=instance_id, run_id=desc.run_id),
                reason="tempflare restart",
                request_id=str(uuid.uuid4()),
                workflow_task_finish_event_id=target,
                reset_reapply_exclude_types=[
                    ResetReapplyExcludeType.RESET_REAPPLY_EXCLUDE_TYPE_SIGNAL,
                    ResetReapplyExcludeType.RESET_REAPPLY_EXCLUDE_TYPE_UPDATE,
                ],
            )
        )
    except RPCError as err:
        if err.status != RPCStatusCode.UNIMPLEMENTED:
            raise
        # Temporal's time-skipping test server has no reset: a fresh run of the same id and
        # params restarts the instance the same way (a new run id rather than a reset one).
        await _start_new_run(client, instance_id, events, None, reason="tempflare restart")


async def restart_from_step(client: Client, instance_id: str, from_step: object) -> None:
    name, count, kind = validate_from_step(from_step)
    # Every run of the instance, oldest first: a long instance continued as new, and each
    # step ran in exactly one of its runs. Events are ordered by (run, event id).
    chain = await run_chain(client, instance_id)
    events = chain[0].events
    start = events[0].workflow_execution_started_event_attributes
    target_id: tuple[int, int] | None = None
    results: dict[tuple[str, int], tuple[tuple[int, int], Any, Any]] = {}
    sleeps: list[tuple[tuple[int, int], str, int]] = []
    signals: list[tuple[tuple[int, int], str, Any]] = []
    sensitive = False
    for run_index, run in enumerate(chain):
        outcomes = {o.event_id: o for o in attempt_outcomes(run.events)}
        for event in run.events:
            gid = (run_index, event.event_id)
            outcome = outcomes.get(event.event_id)
            if outcome is not None:
                key = (outcome.name, outcome.count)
                if kind == "do" and target_id is None and key == (name, count):
                    target_id = gid  # a batched step's first outcome
                if outcome.failure is None:
                    codec = client.data_converter.payload_codec
                    if outcome.result and await holds_sensitive(codec, outcome.result):
                        sensitive = True
                    # decoded through the codec: a sensitive output is encrypted in history
                    values = (
                        await client.data_converter.decode(outcome.result)
                        if outcome.result
                        else [None]
                    )
                    results[key] = (gid, values[0], None)
                else:
                    error_type = outcome.failure.application_failure_info.type or "Error"
                    results[key] = (gid, None, (error_type, outcome.failure.message))
            elif event.HasField("activity_task_scheduled_event_attributes"):
                parsed = parse_attempt_id(
                    event.activity_task_scheduled_event_attributes.activity_id
                )
                if kind == "do" and target_id is None and parsed and parsed[:2] == (name, count):
                    target_id = gid  # a durable step starts with its first attempt
            elif event.HasField("timer_started_event_attributes"):
                timer_name, timer_count = parse_timer_label(summary_of(event))
                if (
                    kind in ("sleep", "waitForEvent")
                    and target_id is None
                    and (timer_name, timer_count) == (name, count)
                ):
                    target_id = gid
                sleeps.append((gid, timer_name, timer_count))
            elif event.HasField("workflow_properties_modified_event_attributes"):
                fields = event.workflow_properties_modified_event_attributes.upserted_memo.fields
                if kind == "waitForEvent" and target_id is None and STEP_RECORD_MEMO in fields:
                    record = json.loads(fields[STEP_RECORD_MEMO].data)
                    if (record.get("name"), record.get("count")) == (name, count):
                        target_id = gid  # a wait answered from the buffer has no timer
            elif event.HasField("workflow_execution_signaled_event_attributes"):
                attrs_s = event.workflow_execution_signaled_event_attributes
                if not attrs_s.signal_name.startswith("tempflare."):
                    payloads = list(attrs_s.input.payloads)
                    signals.append(
                        (
                            gid,
                            attrs_s.signal_name,
                            (await client.data_converter.decode(payloads))[0] if payloads else None,
                        )
                    )
    if target_id is None:
        raise StepNotFoundError(
            f'Step "{name}" (count {count}, type {kind}) not found in the execution history of '
            f'instance "{instance_id}". Steps restored from cache by an earlier restart from '
            "a step are not in the new run's history; restart() without from_step first."
        )
    previous: Any = {}
    if MODIFIERS_MEMO in start.memo.fields:  # the first run's: testing mocks, an earlier plan
        previous = (await client.data_converter.decode([start.memo.fields[MODIFIERS_MEMO]]))[0]
        previous = previous or {}
    plan = Modifications.model_validate(previous)
    kept = {k for k, (eid, _, _) in results.items() if eid < target_id}
    plan.results = [r for r in plan.results if (r.step.name, r.step.index) not in kept]
    for (step, step_count), (eid, value, error) in results.items():
        if eid >= target_id:
            continue
        selector = StepSelector(name=step, index=step_count)
        if error is None:
            plan.results.append(MockedResult(step=selector, value=value))
        else:
            plan.attempt_slots.append(
                AttemptSlot(step=selector, error_name=error[0], message=error[1])
            )
    plan.disabled_sleeps += [
        StepSelector(name=n, index=c) for eid, n, c in sleeps if eid < target_id
    ]
    plan.events += [MockedEvent(type=t, payload=p) for eid, t, p in signals if eid < target_id]
    memo: Any = plan.model_dump(mode="json")
    if sensitive:
        memo = await _sealed(client, memo)
    await _start_new_run(
        client,
        instance_id,
        events,
        {MODIFIERS_MEMO: memo},
        reason=f"tempflare restart from step {name!r}",
    )


async def _sealed(client: Client, value: Any) -> Payload:
    """``value`` as a memo payload that the codec encrypts: it carries sensitive outputs.

    Raises:
        SensitiveOutputError: The client's data converter encrypts nothing.
    """
    if not has_sensitive_codec(client.data_converter):
        raise SensitiveOutputError(
            "This restart carries sensitive step outputs, but the client's data converter "
            "encrypts nothing: connect it with adapter.connect()."
        )
    payload = mark_sensitive(client.data_converter.payload_converter.to_payloads([value])[0])
    codec = client.data_converter.payload_codec
    assert codec is not None
    return (await codec.encode([payload]))[0]


async def _start_new_run(
    client: Client,
    instance_id: str,
    events: list[HistoryEvent],
    memo: Mapping[str, Any] | None,
    *,
    reason: str,
) -> None:
    """Ends the latest run if it is open and starts a new one with the same id and params."""
    start = events[0].workflow_execution_started_event_attributes
    payloads = list(start.input.payloads)
    params = (await decode_payloads(client, payloads))[0] if payloads else None
    handle = client.get_workflow_handle(instance_id)
    if (await handle.describe()).status == WorkflowExecutionStatus.RUNNING:
        await handle.terminate(reason=reason)
    await client.start_workflow(
        start.workflow_type.name,
        params,
        id=instance_id,
        task_queue=start.task_queue.name,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        id_conflict_policy=WorkflowIDConflictPolicy.TERMINATE_EXISTING,
        memo=dict(memo) if memo else None,
        static_summary=f"{start.workflow_type.name} instance {instance_id}",
    )
