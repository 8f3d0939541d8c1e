"""A daily schedule (a Temporal Schedule for the Worker's cron) starting a task with a follow-up.

Ports seed 001, "Orchestration Patterns / Scheduled Workflow Chain".

TypeScript::

    export default { async scheduled(event, env) {
      await env.DAILY_WORKFLOW.create({id: `daily-${event.scheduledTime}`,
                                       params: { timestamp: event.scheduledTime }}); }};
    export class DailyWorkflow extends WorkflowEntrypoint { async run(event, step) {
      await step.do('daily task', async () => {});
      await step.sleep('wait 7 days', '7 days');
      await step.do('weekly followup', async () => {}); } }

The Worker's cron ``scheduled()`` handler becomes a **Temporal Schedule**
(:func:`create_daily_schedule`) whose action starts ``DailyWorkflow`` with workflow id
``daily``; Temporal appends the scheduled time, so instances are named ``daily-<time>``.

Differences that cannot be expressed 1:1:

* Temporal formats the suffix as RFC 3339 (``daily-2025-01-01T00:00:00Z``), not as epoch
  milliseconds, so scheduled instance ids contain ``:``, which Cloudflare's id rule (and
  ``Workflow.get``) rejects; use ``WorkflowInstance(client, id)`` to reach them.
* A schedule's arguments are fixed when it is created, so ``params.timestamp`` cannot carry
  the scheduled time. The workflow takes it from ``params.timestamp`` when given (a manual
  ``create``), else from the ``daily-<time>`` id suffix, else from the start time.
* The empty step bodies return the scheduled time, so that the run has an observable output.
* ``wait_seconds`` shortens the 7-day sleep.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

from pydantic import BaseModel
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleHandle,
    ScheduleSpec,
)

from adapter import WorkflowEntrypoint, WorkflowEvent, WorkflowStep
from workflows._helpers import shortened

#: Workflow id of the schedule's action; Temporal appends ``-<scheduled time>``.
DAILY_WORKFLOW_ID: Final = "daily"


class DailyParams(BaseModel):
    """``event.payload``: the scheduled time (epoch ms) when known, plus the sleep knob."""

    timestamp: int | None = None
    #: Shortens the seed's 7-day wait before the weekly follow-up.
    wait_seconds: float | None = None


def scheduled_time_from_id(instance_id: str) -> int | None:
    """The epoch-ms time in a ``daily-<RFC 3339 time>`` or ``daily-<epoch ms>`` instance id."""
    prefix = f"{DAILY_WORKFLOW_ID}-"
    if not instance_id.startswith(prefix):
        return None
    suffix = instance_id[len(prefix) :]
    if suffix.isdigit():
        return int(suffix)
    try:
        when = datetime.fromisoformat(suffix.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)


class DailyWorkflow(WorkflowEntrypoint[None, DailyParams], name="daily-with-weekly-followup"):
    """A daily task, then a follow-up a week later."""

    async def run(self, event: WorkflowEvent[DailyParams], step: WorkflowStep) -> dict[str, Any]:
        params = event.payload
        scheduled_time = (
            params.timestamp
            or scheduled_time_from_id(event.instance_id)
            or int(event.timestamp.timestamp() * 1000)
        )
        daily = await step.do("daily task", lambda: {"scheduledTime": scheduled_time})
        await step.sleep("wait 7 days", shortened(params.wait_seconds, "7 days"))
        followup = await step.do("weekly followup", lambda: {"followupOf": scheduled_time})
        return {**daily, **followup}


async def create_daily_schedule(
    client: Client,
    task_queue: str,
    cron: str = "0 0 * * *",
    *,
    schedule_id: str = "daily-workflow",
    params: dict[str, Any] | None = None,
) -> ScheduleHandle:
    """Creates the Temporal Schedule that replaces the Worker's cron ``scheduled()`` handler.

    Each firing starts ``DailyWorkflow`` on ``task_queue`` with id ``daily-<scheduled time>``.

    Args:
        client: A client connected with tempflare's data converter (``adapter.connect``).
        task_queue: The task queue a worker for ``DailyWorkflow`` polls.
        cron: When to fire (UTC), in cron syntax; daily at midnight by default.
        schedule_id: The schedule's own id.
        params: The fixed params of every started instance (e.g. ``{"wait_seconds": 5}``).

    Returns:
        The schedule's handle (``trigger()``, ``pause()``, ``delete()``...).
    """
    return await client.create_schedule(
        schedule_id,
        Schedule(
            action=ScheduleActionStartWorkflow(
                DailyWorkflow.workflow_name,
                params or {},
                id=DAILY_WORKFLOW_ID,
                task_queue=task_queue,
            ),
            spec=ScheduleSpec(cron_expressions=[cron]),
        ),
    )


# ------------------------------------------------------------------------------ demo run

EXAMPLE_PARAMS: Final[dict[str, Any]] = {"timestamp": 1767225600000, "wait_seconds": 2}
EXPECTED_STATUS: Final = "complete"
EVENTS: Final[list[tuple[float, str, object]]] = []
