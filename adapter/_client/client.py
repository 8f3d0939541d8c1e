"""The binding (``Workflow``) and instance handle (``WorkflowInstance``) on the Temporal client.

Client code only: nothing here runs inside a workflow. Every operation works on instances
started through the binding or straight through the Temporal client or CLI, because an instance
is a plain Temporal workflow whose id is the instance id and whose type is the workflow name.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any, Final, Generic, TypedDict, TypeVar, overload

import pydantic
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.workflowservice.v1 import (
    DeleteWorkflowExecutionRequest,
    GetWorkflowExecutionHistoryReverseRequest,
)
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.common import (
    SearchAttributeKey,
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.converter import WorkflowSerializationContext
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from .._shared.constants import (
    PAUSE_UPDATE,
    RESUME_UPDATE,
    STATUS_SEARCH_ATTRIBUTE,
    TERMINATE_SIGNAL,
)
from .._shared.entrypoint import WorkflowEntrypoint, validate_params
from .._shared.errors import (
    InstanceAlreadyExistsError,
    InstanceFinishedError,
    InstanceNotFoundError,
    InvalidInstanceIdError,
    InvalidParamsError,
    InvalidValueError,
    TempflareClientError,
    TempflareError,
    WrongTypeError,
)
from .._shared.types import (
    ErrorInfo,
    InstanceEvent,
    InstanceStatus,
    InstanceStatusDetails,
    StepRecord,
)
from .._shared.validation import (
    check_payload_size,
    options_or_arguments,
    quote,
    validate_batch,
    validate_batch_options,
    validate_event_type,
    validate_from_step,
    validate_id_list,
    validate_instance_id,
    validate_options,
    validate_task_queue,
)
from .history import read_steps, run_chain
from .restart import reset_to_first_workflow_task, restart_from_step
from .schedules import get_schedules, set_schedules, trigger_schedule
from .subscribe import parse_cursor, parse_filter
from .subscribe import subscribe as subscribe_changes

ParamsT = TypeVar("ParamsT")

#: How long ``delete()`` waits for the server to remove an instance.
DELETE_TIMEOUT_S: Final = 120.0

_STATUS_KEY = SearchAttributeKey.for_keyword(STATUS_SEARCH_ATTRIBUTE)
_CLOSE_EVENTS: Final = frozenset(
    {
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
        EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
    }
)


def map_status(
    execution_status: WorkflowExecutionStatus | None, reported: str | None
) -> InstanceStatus:
    """Maps a Temporal execution status and the status the workflow reported to Cloudflare's.

    Args:
        execution_status: Temporal's status; ``None`` when this SDK cannot name it (e.g. a
            server-side pause).
        reported: The ``TempflareStatus`` search attribute; ``None`` before the first workflow
            task ran, which is Cloudflare's ``queued``.
    """
    if execution_status is None:
        return InstanceStatus.UNKNOWN
    if execution_status == WorkflowExecutionStatus.COMPLETED:
        return InstanceStatus.COMPLETE
    if execution_status in (WorkflowExecutionStatus.FAILED, WorkflowExecutionStatus.TIMED_OUT):
        return InstanceStatus.ERRORED
    if execution_status in (WorkflowExecutionStatus.TERMINATED, WorkflowExecutionStatus.CANCELED):
        return InstanceStatus.TERMINATED
    if execution_status != WorkflowExecutionStatus.RUNNING:
        return InstanceStatus.UNKNOWN
    if not reported:
        return InstanceStatus.QUEUED
    try:
        status = InstanceStatus(reported)
    except ValueError:
        return InstanceStatus.UNKNOWN
    # A final status is reported just before the run closes; until it has, it is still running.
    return InstanceStatus.RUNNING if status.is_final else status


def _quoted(value: str) -> str:
    """A string literal of Temporal's list-query language."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class BatchItemError(TypedDict):
    """One item ``create_batch`` could not create: its index in the batch, its id (when it had
    one), the error's name and message."""

    index: int
    id: str | None
    name: str
    message: str


class CreateBatchResult(TypedDict):
    """What ``create_batch({"count"...})`` and ``create_batch({"instances"...})`` return."""

    created: list[WorkflowInstance]
    errors: list[BatchItemError]


class WorkflowInstance:
    """A handle on one instance: Cloudflare's ``WorkflowInstance``.

    Operations always target the instance's latest run, so they keep working after a restart.
    """

    def __init__(self, client: Client, instance_id: str) -> None:
        """Use ``Workflow.get`` or ``Workflow.create`` rather than this constructor."""
        self._client = client
        self.id = instance_id

    @property
    def handle(self) -> WorkflowHandle[Any, Any]:
        """The underlying Temporal workflow handle (latest run)."""
        return self._client.get_workflow_handle(self.id)

    async def _describe(self) -> tuple[WorkflowExecutionStatus | None, str | None]:
        try:
            desc = await self.handle.describe()
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                raise InstanceNotFoundError(self.id) from None
            raise
        except ValueError:
            # The SDK cannot name this execution status (e.g. a server-side pause).
            return None, None
        return desc.status, desc.typed_search_attributes.get(_STATUS_KEY)

    async def status(self) -> InstanceStatusDetails:
        """Returns ``{status, error, output}``, read from the server (no worker needed).

        Two reads run side by side, each in time independent of the history's length: the
        execution's description (status and the ``TempflareStatus`` search attribute) and its
        newest event (the close event, with output or error, once it has closed), which the
        server reads from the last batch of events.
        """
        (execution_status, reported), closing = await asyncio.gather(
            self._describe(), self._close_event()
        )
        if closing is not None:
            return await self._closed_status(closing)
        return InstanceStatusDetails(status=map_status(execution_status, reported))

    async def _close_event(self) -> HistoryEvent | None:
        """The event that closed the latest run, or ``None`` while it runs."""
        try:
            # The newest event, read backwards: unlike the close-event filter, which waits for
            # a running workflow to close, it answers at once.
            response = await self._client.workflow_service.get_workflow_execution_history_reverse(
                GetWorkflowExecutionHistoryReverseRequest(
                    namespace=self._client.namespace,
                    execution=WorkflowExecution(workflow_id=self.id),
                    maximum_page_size=1,
                )
            )
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                raise InstanceNotFoundError(self.id) from None
            if err.status != RPCStatusCode.UNIMPLEMENTED:
                raise
            # Temporal's time-skipping test server has no reverse read: the whole history then.
            history = await self.handle.fetch_history()
            events = list(history.events)[-1:]
        else:
            events = list(response.history.events)
        return events[0] if events and events[0].event_type in _CLOSE_EVENTS else None

    async def _closed_status(self, event: HistoryEvent) -> InstanceStatusDetails:
        """Cloudflare's status, output and error from the event that closed a run."""
        converter = self._client.data_converter.with_context(
            WorkflowSerializationContext(namespace=self._client.namespace, workflow_id=self.id)
        )
        if event.HasField("workflow_execution_completed_event_attributes"):
            result = event.workflow_execution_completed_event_attributes.result
            values = await converter.decode_wrapper(result)
            return InstanceStatusDetails(
                status=InstanceStatus.COMPLETE, output=values[0] if values else None
            )
        if event.HasField("workflow_execution_failed_event_attributes"):
            failure = event.workflow_execution_failed_event_attributes.failure
            cause = await converter.decode_failure(failure)
            if isinstance(cause, ApplicationError):
                error = ErrorInfo(name=cause.type or "Error", message=cause.message)
            else:
                error = ErrorInfo(name=type(cause).__name__, message=str(cause))
            return InstanceStatusDetails(status=InstanceStatus.ERRORED, error=error)
        if event.HasField("workflow_execution_timed_out_event_attributes"):
            return InstanceStatusDetails(
                status=InstanceStatus.ERRORED,
                error=ErrorInfo(name="TimeoutError", message="Workflow execution timed out"),
            )
        if event.HasField("workflow_execution_terminated_event_attributes") or event.HasField(
            "workflow_execution_canceled_event_attributes"
        ):
            return InstanceStatusDetails(status=InstanceStatus.TERMINATED)
        return InstanceStatusDetails(status=InstanceStatus.UNKNOWN)  # continued as new

    async def steps(self) -> list[StepRecord]:
        """Every step of the instance, read from its history (no worker needed), oldest first.

        Each :class:`~adapter.types.StepRecord` has the step's type (``do``, ``sleep``,
        ``waitForEvent``, ``rollback``), name, count, start, end, duration, success, each
        attempt with its start, end and error, and its output, except for a step whose config
        says ``sensitive="output"``: that output is encrypted in history and never returned
        (``output_redacted``). It spans every run of a long instance (see continue-as-new in
        the README).

        Raises:
            InstanceNotFoundError: No instance has this id.
        """
        return await read_steps(self._client, await run_chain(self._client, self.id))

    def subscribe(
        self,
        options: Mapping[str, Any] | None = None,
        *,
        filter: str | Sequence[str] | Callable[[InstanceEvent], bool] | None = None,
        cursor: str | None = None,
    ) -> AsyncIterator[InstanceEvent]:
        """Streams the instance's changes: what history recorded, then live until it ends.

        ``async for change in instance.subscribe(filter="step"): ...``. Each
        :class:`~adapter.types.InstanceEvent` is a step change (attempt started or failed,
        completed with its output, a timer started or fired, an event wait answered or timed
        out), an event sent to it, or a status change (``queued``, the statuses the workflow
        writes, then ``complete``/``errored``/``terminated`` with output or error). A long
        instance's runs read as one. Cloudflare's options dict, ``subscribe({"filter",
        "cursor"})``, is accepted too.

        Args:
            options: ``{"filter": ..., "cursor": ...}``.
            filter: A kind (``"step"``, ``"event"``, ``"status"``), a list of kinds, or a
                predicate; everything by default.
            cursor: A change's ``cursor``: resume right after it.

        Raises:
            InvalidValueError: An unknown kind, or a cursor that subscribe() did not give.
            InstanceNotFoundError: No instance has this id (when iteration starts).
        """
        if options is not None:
            checked = validate_options(options, "subscribe options", {"filter", "cursor"})
            filter = checked.get("filter", filter)
            cursor = checked.get("cursor", cursor)
        return subscribe_changes(self._client, self.id, parse_filter(filter), parse_cursor(cursor))

    async def pause(self) -> None:
        """Pauses the instance: in-flight attempts finish first (``waitingForPause``), no new
        attempt starts, and sleeps and event waits stop their clocks."""
        await self._require_live("pause")
        await self.handle.signal(PAUSE_UPDATE)

    async def resume(self) -> None:
        """Resumes a paused instance; does nothing on an instance that is not paused."""
        execution_status, _ = await self._describe()
        if execution_status == WorkflowExecutionStatus.RUNNING:
            await self.handle.signal(RESUME_UPDATE)

    async def terminate(
        self, options: Mapping[str, Any] | None = None, *, rollback: bool = False
    ) -> None:
        """Terminates the instance: at once, or after its rollbacks with ``rollback=True``.

        Cloudflare's form, ``terminate({"rollback": True})``, is accepted too. Without rollback
        this is a Temporal terminate. With it, a ``tempflare.terminate`` signal and then a
        Temporal cancellation request: the run stops its steps in flight, runs the rollback
        handlers of its completed steps in reverse start order (status ``rollingBack``), and
        ends cancelled, which ``status()`` reports as ``terminated``. A worker must be running
        for the rollbacks; the call returns once the request is sent.

        Raises:
            InstanceFinishedError: It is already complete, errored or terminated.
            InvalidValueError: ``options`` has keys other than ``rollback``.
        """
        if options is not None:
            rollback = bool(
                validate_options(options, "terminate options", {"rollback"}).get(
                    "rollback", rollback
                )
            )
        await self._require_live("terminate")
        if not rollback:
            await self.handle.terminate(reason="terminated through tempflare")
            return
        await self.handle.signal(TERMINATE_SIGNAL, {"rollback": True})
        await self.handle.cancel()

    async def restart(self, from_step: Mapping[str, Any] | None = None) -> None:
        """Runs the instance again from the start, with the same id and original params.

        Cloudflare's options form, ``restart({"from": {"name": ..., "count": ..., "type": ...}})``,
        is accepted too.

        Without ``from_step``, this is a Temporal reset to the first workflow task: step results
        and buffered events are discarded and every step runs again. It works from any status.

        With ``from_step={"name": ..., "count": 1, "type": "do" | "sleep" | "waitForEvent"}``,
        steps that finished before that step keep their results (they are not run again),
        sleeps before it are skipped, events received before it are delivered again in order,
        and that step and everything after it run again, in a new run of the same workflow id.

        Raises:
            StepNotFoundError: ``from_step`` names a step that is not in the history.
            WrongTypeError: ``from_step`` is not a dict.
            InvalidValueError: ``from_step`` has unknown keys or values of the wrong type.
        """
        if isinstance(from_step, Mapping) and "from" in from_step:
            from_step = validate_options(from_step, "restart options", {"from"})["from"]
        if from_step is None:
            await reset_to_first_workflow_task(self._client, self.id)
        else:
            validate_from_step(from_step)  # before any read, so a typo costs no round trip
            await restart_from_step(self._client, self.id, from_step)

    async def send_event(self, type: str | Mapping[str, Any], payload: Any = None) -> None:
        """Sends an event: a Temporal signal named ``type`` carrying ``payload``.

        Cloudflare's form, ``send_event({"type": ..., "payload": ...})``, is accepted too.

        Raises:
            InvalidEventTypeError: The type is invalid.
            InvalidParamsError: The payload is not serialisable or over 1 MiB.
            InstanceFinishedError: The instance is complete, errored or terminated.
        """
        event_type, payload = options_or_arguments(type, payload, "send_event", ("type", "payload"))
        checked = validate_event_type(event_type)
        _check_size(self._client, payload, "event payload")
        await self._require_live("send an event to")
        await self.handle.signal(checked, payload)

    sendEvent = send_event

    async def delete(self, *, timeout: float = DELETE_TIMEOUT_S) -> None:
        """Deletes the instance: terminated first if it is live, then removed with its history.

        Returns once the server has removed it: :meth:`Workflow.get` then raises
        :class:`InstanceNotFoundError` and list queries no longer show it. (A Temporal server
        removes a closed execution asynchronously; tempflare's dev server at once, a cluster
        within about a minute unless ``history.transferProcessorEnsureCloseBeforeDelete`` is
        false.)

        Raises:
            InstanceNotFoundError: No instance has this id.
            TempflareClientError: The server accepted the deletion but still holds the instance
                after ``timeout`` seconds.
        """
        try:
            await self._client.workflow_service.delete_workflow_execution(
                DeleteWorkflowExecutionRequest(
                    namespace=self._client.namespace,
                    workflow_execution=WorkflowExecution(workflow_id=self.id),
                )
            )
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                raise InstanceNotFoundError(self.id) from None
            raise
        deadline = asyncio.get_running_loop().time() + timeout
        delay = 0.02
        while True:
            if await self._gone():
                return
            if asyncio.get_running_loop().time() > deadline:
                raise TempflareClientError(
                    f'The server accepted the deletion of instance "{self.id}" but still holds '
                    f"it after {timeout:g} s; it removes closed executions asynchronously (see "
                    "history.transferProcessorEnsureCloseBeforeDelete). Call delete() again later."
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)

    async def _gone(self) -> bool:
        """Whether the server no longer has the instance, in its store and in list queries."""
        try:
            await self._describe()
        except InstanceNotFoundError:
            query = f"WorkflowId = {_quoted(self.id)}"
            return (await self._client.count_workflows(query)).count == 0
        return False

    async def _require_live(self, operation: str) -> None:
        execution_status, reported = await self._describe()
        status = map_status(execution_status, reported)
        if status.is_final:
            raise InstanceFinishedError(self.id, status.value, operation)

    def __repr__(self) -> str:
        return f"WorkflowInstance(id={self.id!r})"


class Workflow(Generic[ParamsT]):
    """A binding to one workflow: Cloudflare's ``env.MY_WORKFLOW``.

    Args:
        client: A client from :func:`connect`.
        workflow: The ``WorkflowEntrypoint`` subclass (or its name, to start a workflow whose
            code this process does not import).
        task_queue: The task queue its workers poll.
        use_search_attributes: Mark new instances ``queued`` in a search attribute.
    """

    def __init__(
        self,
        client: Client,
        workflow: type[WorkflowEntrypoint[Any, ParamsT]] | str,
        *,
        task_queue: str,
        use_search_attributes: bool = True,
    ) -> None:
        if not isinstance(client, Client):
            raise WrongTypeError(
                f"Workflow(client, ...) needs a temporalio Client (from adapter.connect()), got "
                f"{quote(client)}."
            )
        self.client = client
        self.task_queue = validate_task_queue(task_queue)
        if isinstance(workflow, str):
            if not workflow:
                raise InvalidValueError("Workflow name must be a non-empty string, got ''.")
            self.name, self.params_type = workflow, Any
        elif isinstance(workflow, type) and issubclass(workflow, WorkflowEntrypoint):
            self.name, self.params_type = workflow.workflow_name, workflow.params_type
        else:
            raise WrongTypeError(
                f"Workflow(client, workflow, ...) takes a WorkflowEntrypoint subclass or a "
                f"workflow name, got {quote(workflow)}."
            )
        self._use_search_attributes = use_search_attributes

    def _prepare(self, instance_id: str | None, params: Any) -> tuple[str, Any]:
        chosen = validate_instance_id(instance_id) if instance_id is not None else str(uuid.uuid4())
        try:
            params = validate_params(self.params_type, params)
        except pydantic.ValidationError as err:
            raise InvalidParamsError(
                f"Params for {self.name} instance {chosen!r} do not match "
                f"{getattr(self.params_type, '__name__', self.params_type)}: {err}"
            ) from None
        _check_size(self.client, params, f"params of instance {chosen!r}")
        return chosen, params

    async def _start(self, instance_id: str, params: Any) -> None:
        memo: Mapping[str, Any] | None = None
        for hook in _START_HOOKS:
            memo = hook(self, instance_id) or memo
        attrs = (
            TypedSearchAttributes([SearchAttributePair(_STATUS_KEY, InstanceStatus.QUEUED.value)])
            if self._use_search_attributes
            else None
        )
        await self.client.start_workflow(
            self.name,
            params,
            id=instance_id,
            task_queue=self.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            static_summary=f"{self.name} instance {instance_id}",
            search_attributes=attrs,
            memo=dict(memo) if memo else None,
        )

    async def create(
        self, id: str | Mapping[str, Any] | None = None, params: ParamsT | Any = None
    ) -> WorkflowInstance:
        """Creates and starts an instance.

        Args:
            id: The instance id; a random UUID when omitted. Cloudflare's options dict,
                ``create({"id": ..., "params": ...})`` (both keys optional), is accepted too.
            params: The payload ``run()`` receives as ``event.payload``.

        Raises:
            InvalidInstanceIdError: The id is invalid.
            InvalidParamsError: The params fail validation or are over 1 MiB.
            InstanceAlreadyExistsError: An instance with this id exists.
        """
        given_id, params = options_or_arguments(id, params, "create", ("id", "params"))
        instance_id, params = self._prepare(given_id, params)
        try:
            await self._start(instance_id, params)
        except WorkflowAlreadyStartedError:
            raise InstanceAlreadyExistsError(instance_id) from None
        return WorkflowInstance(self.client, instance_id)

    @overload
    async def create_batch(self, items: Sequence[Mapping[str, Any]]) -> list[WorkflowInstance]: ...

    @overload
    async def create_batch(self, items: Mapping[str, Any]) -> CreateBatchResult: ...

    async def create_batch(
        self, items: Sequence[Mapping[str, Any]] | Mapping[str, Any]
    ) -> list[WorkflowInstance] | CreateBatchResult:
        """Creates up to 100 instances concurrently.

        Two forms, as in Cloudflare:

        * ``create_batch({"count": n, "params": ...})`` (``n`` instances with random ids and the
          same params) or ``create_batch({"instances": [{"id", "params"}, ...]})`` returns
          ``{"created": [...], "errors": [...]}``: every item that could not be created, an id
          already in use or repeated in the batch included, is reported in ``errors`` as
          ``{"index", "id", "name", "message"}``, and the others are created.
        * ``create_batch([{"id", "params"}, ...])`` (Cloudflare's older form) returns the
          instances created, in input order; ids already in use are skipped silently, and an
          invalid item fails the whole call before anything starts.

        Raises:
            WrongTypeError: ``items`` is neither form.
            InvalidValueError: The batch is empty, has more than 100 items, or has unknown keys.
        """
        if isinstance(items, Mapping):
            return await self._create_reporting(validate_batch_options(items))
        prepared: list[tuple[str, Any]] = []
        seen: set[str] = set()
        for item in validate_batch(items):
            instance_id, params = self._prepare(item.get("id"), item.get("params"))
            if instance_id not in seen:
                seen.add(instance_id)
                prepared.append((instance_id, params))

        async def start(instance_id: str, params: Any) -> WorkflowInstance | None:
            try:
                await self._start(instance_id, params)
            except WorkflowAlreadyStartedError:
                return None
            return WorkflowInstance(self.client, instance_id)

        started = await asyncio.gather(*(start(i, p) for i, p in prepared))
        return [instance for instance in started if instance is not None]

    async def _create_reporting(self, items: list[Mapping[str, Any]]) -> CreateBatchResult:
        """The reporting batch form: each item is created or has its error reported."""
        errors: list[BatchItemError] = []
        seen: set[str] = set()

        def report(index: int, item_id: Any, err: TempflareError) -> None:
            errors.append(
                BatchItemError(
                    index=index,
                    id=item_id if isinstance(item_id, str) else None,
                    name=type(err).__name__,
                    message=str(err),
                )
            )

        async def start(index: int, item: Mapping[str, Any]) -> WorkflowInstance | None:
            try:
                instance_id, params = self._prepare(item.get("id"), item.get("params"))
                if instance_id in seen:
                    raise InstanceAlreadyExistsError(instance_id)
                seen.add(instance_id)
                try:
                    await self._start(instance_id, params)
                except WorkflowAlreadyStartedError:
                    raise InstanceAlreadyExistsError(instance_id) from None
            except TempflareError as err:
                report(index, item.get("id"), err)
                return None
            return WorkflowInstance(self.client, instance_id)

        started = await asyncio.gather(*(start(i, item) for i, item in enumerate(items)))
        errors.sort(key=lambda error: error["index"])
        return CreateBatchResult(
            created=[instance for instance in started if instance is not None], errors=errors
        )

    createBatch = create_batch

    async def delete_batch(self, ids: Sequence[str]) -> None:
        """Deletes up to 100 instances concurrently (see :meth:`WorkflowInstance.delete`); ids
        with no instance are skipped, so a repeated call does nothing more.

        Raises:
            WrongTypeError: ``ids`` is not a list of strings.
            InvalidValueError: It is empty or has more than 100 ids.
        """
        checked = validate_id_list(ids, "delete_batch")

        async def delete(instance_id: str) -> None:
            with contextlib.suppress(InstanceNotFoundError):
                await WorkflowInstance(self.client, instance_id).delete()

        await asyncio.gather(*(delete(i) for i in checked))

    deleteBatch = delete_batch

    async def set_schedules(self, crons: Sequence[str], params: ParamsT | Any = None) -> list[str]:
        """Makes this workflow's cron schedules exactly ``crons`` (Cloudflare's ``schedules`` of
        a binding): each due time starts a new instance with ``params``, whose
        ``event.schedule`` carries ``cron`` and ``scheduled_time``. Temporal Schedules run them,
        with or without a client process; ``set_schedules([])`` removes them all.

        Args:
            crons: Five-field cron expressions (UTC), e.g. ``["0 * * * *", "0 9 * * MON-FRI"]``.
            params: The params of every scheduled instance.

        Returns:
            The cron expressions now scheduled.

        Raises:
            WrongTypeError: ``crons`` is not a list of strings.
            InvalidValueError: A cron expression is invalid (the message names it).
            InvalidParamsError: ``params`` fail validation.
        """
        _, checked = self._prepare(None, params)
        attrs = (
            [SearchAttributePair(_STATUS_KEY, InstanceStatus.QUEUED.value)]
            if self._use_search_attributes
            else []
        )
        return await set_schedules(self.client, self.name, self.task_queue, crons, checked, attrs)

    async def get_schedules(self) -> list[str]:
        """The cron expressions of this workflow's schedules."""
        return await get_schedules(self.client, self.name)

    async def trigger_schedule(self, cron: str) -> None:
        """Starts the instance the schedule ``cron`` would start, now (a test aid, like
        ``wrangler dev --test-scheduled``).

        Raises:
            InvalidValueError: This workflow has no schedule ``cron``.
        """
        await trigger_schedule(self.client, self.name, cron)

    setSchedules = set_schedules
    getSchedules = get_schedules

    async def get(self, id: str) -> WorkflowInstance:
        """Returns the handle of an existing instance.

        Raises:
            InstanceNotFoundError: No instance has this id.
        """
        if not isinstance(id, str) or not id or len(id) > 1000:
            raise InvalidInstanceIdError(
                f"Invalid instance id {quote(id)}: it must be a non-empty string of at most "
                "1000 characters."
            )
        # No pattern check: ids Temporal made (e.g. schedules' ``daily-<RFC 3339 time>``) are
        # valid instances too.
        instance = WorkflowInstance(self.client, id)
        await instance._describe()
        return instance


StartHook = Callable[["Workflow[Any]", str], Mapping[str, Any] | None]
_START_HOOKS: list[StartHook] = []


def register_start_hook(hook: StartHook) -> None:
    """Lets the testing toolkit attach a memo to instances the binding starts."""
    if hook not in _START_HOOKS:
        _START_HOOKS.append(hook)


def _check_size(client: Client, value: Any, what: str) -> None:
    try:
        payloads = client.data_converter.payload_converter.to_payloads([value])
    except Exception as err:
        raise InvalidParamsError(
            f"The {what} is not JSON-serialisable ({type(value).__name__}): {err}"
        ) from None
    check_payload_size(len(payloads[0].data), what)
