"""Builds a temporalio ``Worker`` that runs tempflare workflows and their steps."""

from __future__ import annotations

import concurrent.futures
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import structlog
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import (
    Plugin,
    Replayer,
    ReplayerConfig,
    Worker,
    WorkerConfig,
    WorkflowReplayResult,
)

from .._shared.config import DEFAULT_DURABILITY, DEFAULT_RETRY_DELAY, DURABILITIES, Durability
from .._shared.constants import SEARCH_ATTRIBUTES
from .._shared.durations import Duration
from .._shared.entrypoint import WorkflowEntrypoint
from .._shared.errors import InvalidValueError, WrongTypeError
from .._shared.sensitive import has_sensitive_codec
from .._shared.validation import quote, validate_task_queue
from .._workflow.callbacks import activity_definition
from .._workflow.definition import (
    DEFAULT_CONTINUE_AS_NEW_AFTER,
    WorkerRuntime,
    build_workflow_class,
)
from .activity import make_step_activity

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
    continue_as_new_after: int | None = DEFAULT_CONTINUE_AS_NEW_AFTER,
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
        continue_as_new_after: A run continues as new, invisibly, at the first ``step.do``
            called with nothing else under way once its history has this many events (or the
            server suggests it); 10,000 by default, ``None`` never. See the README's "Long
            instances".
        **worker_options: Passed to ``temporalio.worker.Worker``.

    Returns:
        The configured worker; run it with ``async with worker:`` or ``await worker.run()``.
    """
    step_queue = f"{task_queue}@{uuid.uuid4().hex[:12]}"
    runtime = WorkerRuntime(
        env=env,
        default_retry_delay=default_retry_delay,
        registered_activities=frozenset(
            remote.name for remote in map(activity_definition, activities) if remote
        ),
        use_search_attributes=use_search_attributes,
        durability=durability,
        step_queue=step_queue,
        continue_as_new_after=continue_as_new_after,
    )
    if continue_as_new_after is not None and (
        isinstance(continue_as_new_after, bool)
        or not isinstance(continue_as_new_after, int)
        or continue_as_new_after < 10
    ):
        raise InvalidValueError(
            f"continue_as_new_after={continue_as_new_after!r} must be a whole number of history "
            "events of at least 10, or None to never continue as new."
        )
    if durability not in DURABILITIES:
        raise InvalidValueError(f"durability={durability!r} must be one of {list(DURABILITIES)}.")
    validate_task_queue(task_queue)
    if isinstance(workflows, str | type) or not isinstance(workflows, Sequence):
        raise WrongTypeError(
            f"workflows must be a list of WorkflowEntrypoint subclasses, got {quote(workflows)}."
        )
    names = [getattr(wf, "workflow_name", wf) for wf in workflows]
    duplicates = sorted({str(n) for n in names if names.count(n) > 1})
    if duplicates:
        raise InvalidValueError(
            f"Two workflows share the name(s) {duplicates}; rename one with name=..."
        )
    worker_options.setdefault(
        "activity_executor",
        concurrent.futures.ThreadPoolExecutor(max_workers=max_step_threads),
    )
    envs = envs or {}
    step_activity = make_step_activity(
        runtime.registry, protected=has_sensitive_codec(client.data_converter)
    )
    plugins = [
        *worker_options.pop("plugins", ()),
        _OwnStepQueue(step_queue, step_activity, worker_options["activity_executor"]),
    ]
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[
            build_workflow_class(wf, replace(runtime, env=envs[wf]) if wf in envs else runtime)
            for wf in workflows
        ],
        activities=[step_activity, *activities],
        plugins=plugins,
        **worker_options,
    )


class _OwnStepQueue(Plugin):
    """Polls this worker process's own task queue for durable step attempts, while it runs.

    A durable attempt goes to the workflow's task queue first, handed eagerly to the worker that
    scheduled it; when another worker got it instead, it comes here (see ``adapter.step``).
    """

    def __init__(self, task_queue: str, step_activity: Callable[..., Any], executor: Any) -> None:
        self.task_queue = task_queue
        self._step_activity = step_activity
        self._executor = executor

    def name(self) -> str:
        return "tempflare.own-step-queue"

    def configure_worker(self, config: WorkerConfig) -> WorkerConfig:
        return config

    async def run_worker(self, worker: Worker, next: Callable[[Worker], Awaitable[None]]) -> None:
        own = Worker(
            worker.client,
            task_queue=self.task_queue,
            activities=[self._step_activity],
            activity_executor=self._executor,
        )
        async with own:
            await next(worker)

    def configure_replayer(self, config: ReplayerConfig) -> ReplayerConfig:
        return config

    def run_replayer(
        self,
        replayer: Replayer,
        histories: AsyncIterator[WorkflowHistory],
        next: Callable[
            [Replayer, AsyncIterator[WorkflowHistory]],
            contextlib.AbstractAsyncContextManager[AsyncIterator[WorkflowReplayResult]],
        ],
    ) -> contextlib.AbstractAsyncContextManager[AsyncIterator[WorkflowReplayResult]]:
        return next(replayer, histories)
