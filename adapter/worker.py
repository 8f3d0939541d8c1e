"""Builds a temporalio ``Worker`` that runs tempflare workflows and their steps."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import structlog
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.worker import Worker

from ._activity import make_step_activity
from ._constants import SEARCH_ATTRIBUTES
from ._workflow import WorkerRuntime, build_workflow_class
from .config import DEFAULT_DURABILITY, DEFAULT_RETRY_DELAY, DURABILITIES, Durability
from .durations import Duration
from .entrypoint import WorkflowEntrypoint
from .step import _activity_definition

log = structlog.get_logger(__name__)


async def ensure_search_attributes(client: Client) -> bool:
    """Registers tempflare's search attributes on the client's namespace if they are missing.

    Returns:
        Whether they are available. ``False`` (logged as a warning) when the server refuses, for
        example on Temporal Cloud without admin rights: status then stays readable through the
        workflow's current details and query, but not through list queries.
    """
    try:
        existing = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=client.namespace)
        )
        missing = {
            name: IndexedValueType.Value(f"INDEXED_VALUE_TYPE_{kind.upper()}")
            for name, kind in SEARCH_ATTRIBUTES.items()
            if name not in existing.custom_attributes
        }
        if missing:
            await client.operator_service.add_search_attributes(
                AddSearchAttributesRequest(namespace=client.namespace, search_attributes=missing)
            )
        return True
    except Exception as err:
        log.warning(
            "tempflare search attributes unavailable; status is not listable",
            namespace=client.namespace,
            error=str(err),
        )
        return False


def create_worker(
    client: Client,
    *,
    task_queue: str,
    workflows: Sequence[type[WorkflowEntrypoint[Any, Any]]],
    env: Any = None,
    envs: Mapping[type[WorkflowEntrypoint[Any, Any]], Any] | None = None,
    activities: Sequence[Callable[..., Any]] = (),
    default_retry_delay: Duration = DEFAULT_RETRY_DELAY,
    use_search_attributes: bool = True,
    durability: Durability = DEFAULT_DURABILITY,
    max_step_threads: int | None = None,
    **worker_options: Any,
) -> Worker:
    """Creates a Temporal worker for tempflare workflows.

    The worker runs each workflow unsandboxed (so that inline closures work), one dynamic local
    activity that executes ``step.do`` closures, and any registered activities used as
    ``step.do`` callbacks. Call :func:`ensure_search_attributes` once before starting it on a
    server other than the tempflare dev server.

    Args:
        client: A client connected with :func:`adapter.connect` (pydantic data converter).
        task_queue: The task queue to poll.
        workflows: ``WorkflowEntrypoint`` subclasses to run.
        env: The object user code reaches as ``self.env``.
        envs: Per-workflow env objects, for workflows that need different bindings; a workflow
            not listed gets ``env``.
        activities: Registered ``@activity.defn`` functions that steps may call as regular
            activities (the escape hatch for long or heavy steps).
        default_retry_delay: The retry delay of steps whose config gives none: Cloudflare's
            production default of 10 seconds, or ``"1 second"`` to match ``wrangler dev``.
        use_search_attributes: Write status and step search attributes (they must be registered).
        durability: ``"durable"`` (default): each step's result is in the history before the
            next step starts, so a worker crash re-runs only the steps in flight.
            ``"batched"``: results reach the history with the workflow task that ran them, at
            native local-activity speed; a crash re-runs the task's completed steps too. A
            workflow class (``durability=`` in its class statement) or a step config
            (``{"durability": ...}``) overrides it.
        max_step_threads: Threads for sync step callbacks and sync activities.
        **worker_options: Passed to ``temporalio.worker.Worker``.

    Returns:
        The configured worker; run it with ``async with worker:`` or ``await worker.run()``.
    """
    runtime = WorkerRuntime(
        env=env,
        default_retry_delay=default_retry_delay,
        registered_activities=frozenset(
            remote.name for remote in map(_activity_definition, activities) if remote
        ),
        use_search_attributes=use_search_attributes,
        durability=durability,
    )
    if durability not in DURABILITIES:
        raise ValueError(f"durability={durability!r} must be one of {list(DURABILITIES)}.")
    names = [wf.workflow_name for wf in workflows]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"Two workflows share the name(s) {duplicates}; rename one with name=...")
    worker_options.setdefault(
        "activity_executor",
        concurrent.futures.ThreadPoolExecutor(max_workers=max_step_threads),
    )
    envs = envs or {}
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[
            build_workflow_class(wf, replace(runtime, env=envs[wf]) if wf in envs else runtime)
            for wf in workflows
        ],
        activities=[make_step_activity(runtime.registry), *activities],
        **worker_options,
    )
