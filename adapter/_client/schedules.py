"""Cron schedules of a workflow on Temporal Schedules: Cloudflare's ``schedules`` of a binding, set
declaratively, each run a new instance whose ``event.schedule`` carries the cron and due time."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from typing import Any

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.service import RPCError

from .._shared.constants import SCHEDULE_MEMO
from .._shared.errors import InvalidValueError, WrongTypeError
from .._shared.validation import quote


def schedule_id(workflow_name: str, cron: str) -> str:
    """The id of one cron schedule of a workflow; also the prefix of its instances' ids
    (Temporal appends the due time: ``<workflow>-cron-1a2b3c4d-2026-06-02T09:00:00Z``)."""
    digest = hashlib.sha1(f"{workflow_name}\n{cron}".encode()).hexdigest()[:8]
    return f"{workflow_name}-cron-{digest}"


#: The schedule's note names its cron expression: the server keeps cron specs only compiled.
_NOTE = "tempflare schedule: "


def _prefix(workflow_name: str) -> str:
    return f"{workflow_name}-cron-"


def validate_crons(crons: object) -> list[str]:
    """A list of distinct cron expressions.

    Raises:
        WrongTypeError: ``crons`` is not a list of strings.
        InvalidValueError: An expression is empty.
    """
    if isinstance(crons, str | bytes) or not isinstance(crons, Sequence):
        raise WrongTypeError(
            f"schedules must be a list of cron expressions such as ['0 * * * *'], got "
            f"{quote(crons)}."
        )
    result: list[str] = []
    for cron in crons:
        if not isinstance(cron, str) or not cron.strip():
            raise InvalidValueError(
                f"Invalid cron expression {quote(cron)}: use five fields, minute hour "
                "day-of-month month day-of-week, for example '*/15 * * * *'."
            )
        if cron.strip() not in result:
            result.append(cron.strip())
    return result


def _schedule(
    workflow_name: str,
    task_queue: str,
    cron: str,
    params: Any,
    attributes: TypedSearchAttributes | None,
) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            workflow_name,
            params,
            id=schedule_id(workflow_name, cron),
            task_queue=task_queue,
            memo={SCHEDULE_MEMO: {"cron": cron}},
            typed_search_attributes=attributes or TypedSearchAttributes.empty,
            static_summary=f"{workflow_name} on schedule {cron}",
        ),
        spec=ScheduleSpec(cron_expressions=[cron]),
        # Like Cloudflare, every due time starts a new instance, even while the last one runs.
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.ALLOW_ALL),
        state=ScheduleState(note=f"{_NOTE}{cron}"),
    )


async def set_schedules(
    client: Client,
    workflow_name: str,
    task_queue: str,
    crons: Sequence[str],
    params: Any,
    attributes: Sequence[SearchAttributePair[Any]] = (),
) -> list[str]:
    """Makes the workflow's cron schedules exactly ``crons``: creates the missing ones, updates
    the others' params and task queue, deletes the ones no longer listed.

    Raises:
        InvalidValueError: The server rejects a cron expression (the message names it).
    """
    wanted = validate_crons(crons)
    typed = TypedSearchAttributes(list(attributes)) if attributes else None

    async def put(cron: str) -> None:
        schedule = _schedule(workflow_name, task_queue, cron, params, typed)
        try:
            await client.create_schedule(schedule_id(workflow_name, cron), schedule)
        except ScheduleAlreadyRunningError:

            def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
                return ScheduleUpdate(schedule=schedule)

            await client.get_schedule_handle(schedule_id(workflow_name, cron)).update(replace)
        except RPCError as err:
            raise InvalidValueError(
                f"Invalid cron expression {cron!r} for workflow {workflow_name!r}: {err.message}. "
                "Use five fields, minute hour day-of-month month day-of-week."
            ) from None

    await asyncio.gather(*(put(cron) for cron in wanted))
    keep = {schedule_id(workflow_name, cron) for cron in wanted}
    stale = [sid for sid in await _schedule_ids(client, workflow_name) if sid not in keep]
    await asyncio.gather(*(_delete(client, sid) for sid in stale))
    return wanted


async def _schedule_ids(client: Client, workflow_name: str) -> list[str]:
    ids = []
    async for listed in await client.list_schedules():
        if listed.id.startswith(_prefix(workflow_name)):
            ids.append(listed.id)
    return ids


async def _delete(client: Client, sid: str) -> None:
    try:
        await client.get_schedule_handle(sid).delete()
    except RPCError:
        pass  # deleted meanwhile


async def get_schedules(client: Client, workflow_name: str) -> list[str]:
    """The cron expressions of the workflow's schedules, as the server describes them."""
    crons: list[str] = []
    for sid in await _schedule_ids(client, workflow_name):
        try:
            described = await client.get_schedule_handle(sid).describe()
        except RPCError:
            continue  # deleted meanwhile
        note = described.schedule.state.note or ""
        if note.startswith(_NOTE):
            crons.append(note.removeprefix(_NOTE))
    return sorted(crons)


async def trigger_schedule(client: Client, workflow_name: str, cron: str) -> None:
    """Starts the instance a schedule would start, now (like ``wrangler dev --test-scheduled``).

    Raises:
        InvalidValueError: The workflow has no schedule with this cron expression.
    """
    try:
        await client.get_schedule_handle(schedule_id(workflow_name, cron)).trigger(
            overlap=ScheduleOverlapPolicy.ALLOW_ALL
        )
    except RPCError:
        raise InvalidValueError(
            f"Workflow {workflow_name!r} has no schedule {cron!r}; add it with set_schedules."
        ) from None
