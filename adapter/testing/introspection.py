"""Cloudflare's ``introspectWorkflowInstance`` / ``introspectWorkflow`` for tempflare.

Test code only. Modifications are recorded before an instance is created and travel with it in
its memo (see :mod:`adapter.testing._modifiers`), so they work whatever process runs the worker
and never reach another instance. Results, status, output and errors are read from the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.client import WorkflowExecutionStatus

from .._client.client import Workflow, WorkflowInstance, register_start_hook
from .._client.history import decode_payloads
from .._shared.constants import MODIFIERS_MEMO
from .._shared.errors import TempflareError
from .._shared.history_format import attempt_outcomes
from .._shared.modifiers import AttemptSlot, MockedEvent, MockedResult, Modifications, StepSelector
from .._shared.types import ErrorInfo, InstanceStatus
from .._shared.validation import validate_event_type

PREFIX = "[WorkflowIntrospector]"


class IntrospectionError(TempflareError, AssertionError):
    """A modifier was misused, or an awaited result or status can never come."""


def _selector(step: Mapping[str, Any] | StepSelector) -> StepSelector:
    if isinstance(step, StepSelector):
        return step
    try:
        return StepSelector.model_validate(dict(step))
    except Exception as err:
        raise IntrospectionError(
            f"{PREFIX} Invalid step selector {step!r}: expected {{'name': str, 'index': int >= 1}}."
        ) from err


class WorkflowInstanceModifier:
    """The ``m`` in ``modify(lambda m: ...)``: Cloudflare's modifier methods."""

    def __init__(self, mods: Modifications) -> None:
        self._mods = mods

    def disable_sleeps(self, steps: list[Mapping[str, Any]] | None = None) -> None:
        """Makes all sleeps (or the selected ones) return at once."""
        if steps is None:
            self._mods.disable_sleeps = True
        else:
            self._mods.disabled_sleeps += [_selector(s) for s in steps]

    def disable_retry_delays(self, steps: list[Mapping[str, Any]] | None = None) -> None:
        """Makes retries of all steps (or the selected ones) start without waiting."""
        if steps is None:
            self._mods.disable_retry_delays = True
        else:
            self._mods.disabled_retry_delays += [_selector(s) for s in steps]

    def mock_step_result(self, step: Mapping[str, Any], value: Any) -> None:
        """The step's callback never runs; it returns ``value``."""
        sel = _selector(step)
        if any(r.step == sel for r in self._mods.results):
            raise IntrospectionError(f"{PREFIX} Trying to mock step '{sel.name}' multiple times!")
        self._mods.results.append(MockedResult(step=sel, value=value))

    def mock_step_error(
        self, step: Mapping[str, Any], error: BaseException, times: int | None = None
    ) -> None:
        """The step fails with ``error`` (its name and message) on the next ``times`` attempts,
        or on all of them. Checked before a mocked result."""
        sel = _selector(step)
        self._check_not_mocked(sel, "mock error on")
        name = getattr(error, "name", None) or type(error).__name__
        self._mods.attempt_slots.append(
            AttemptSlot(step=sel, error_name=str(name), message=str(error), times=times)
        )

    def force_step_timeout(self, step: Mapping[str, Any], times: int | None = None) -> None:
        """The step's attempts time out at once (``Execution timed out after 0ms``)."""
        sel = _selector(step)
        self._check_not_mocked(sel, "force timeout on")
        self._mods.attempt_slots.append(
            AttemptSlot(
                step=sel,
                error_name="WorkflowTimeoutError",
                message="Execution timed out after 0ms",
                times=times,
            )
        )

    def mock_event(self, *, type: str, payload: Any = None) -> None:
        """Buffers an event for the instance from its start, like a real one."""
        self._mods.events.append(MockedEvent(type=validate_event_type(type), payload=payload))

    def force_event_timeout(self, step: Mapping[str, Any]) -> None:
        """The selected ``wait_for_event`` times out at once."""
        self._mods.event_timeouts.append(_selector(step))

    def _check_not_mocked(self, sel: StepSelector, what: str) -> None:
        if any(r.step == sel for r in self._mods.results):
            raise IntrospectionError(
                f"{PREFIX} Trying to {what} step '{sel.name}' after mocking its result!"
            )

    disableSleeps = disable_sleeps
    disableRetryDelays = disable_retry_delays
    mockStepResult = mock_step_result
    mockStepError = mock_step_error
    forceStepTimeout = force_step_timeout
    mockEvent = mock_event
    forceEventTimeout = force_event_timeout


Modify = Callable[[WorkflowInstanceModifier], Awaitable[None] | None]


async def _apply(fn: Modify, mods: Modifications) -> None:
    result = fn(WorkflowInstanceModifier(mods))
    if inspect.isawaitable(result):
        await result


class WorkflowInstanceIntrospector:
    """Modifies one instance before it is created, then reads its results from the server."""

    def __init__(self, binding: Workflow[Any], instance_id: str) -> None:
        self.binding = binding
        self.instance_id = instance_id
        self.modifications = Modifications()
        self.created = False

    @property
    def instance(self) -> WorkflowInstance:
        """The instance handle."""
        return WorkflowInstance(self.binding.client, self.instance_id)

    async def modify(self, fn: Modify) -> WorkflowInstanceIntrospector:
        """Records modifier calls; they must come before the instance is created."""
        if self.created:
            raise IntrospectionError(
                f"{PREFIX} modify() must be called before instance {self.instance_id!r} is "
                "created: modifications travel with the instance from its start."
            )
        await _apply(fn, self.modifications)
        return self

    async def wait_for_step_result(self, name: str, index: int = 1, *, timeout: float = 60) -> Any:
        """The result of the ``index``-th ``step.do`` called ``name``, once it succeeds.

        Raises:
            IntrospectionError: The step failed for good, or the instance finished without it.
        """
        deadline = time.monotonic() + timeout
        handle = self.binding.client.get_workflow_handle(self.instance_id)
        while True:
            history = await handle.fetch_history()
            for outcome in attempt_outcomes(history.events):
                if (outcome.name, outcome.count) != (name, index):
                    continue
                if outcome.failure is not None:
                    if outcome.failure.application_failure_info.non_retryable:
                        raise IntrospectionError(
                            f"{PREFIX} Step '{name}' (index {index}) failed: "
                            f"{outcome.failure.message}"
                        )
                    continue
                if not outcome.result:
                    return None
                return (await decode_payloads(self.binding.client, outcome.result))[0]
            status = (await self.instance.status()).status
            if status.is_final:
                raise IntrospectionError(
                    f"{PREFIX} Step '{name}' (index {index}) has no result: the instance "
                    f"{self.instance_id} reached status '{status}'."
                )
            if time.monotonic() > deadline:
                raise IntrospectionError(
                    f"{PREFIX} Step '{name}' (index {index}) had no result within {timeout}s."
                )
            await asyncio.sleep(0.1)

    async def wait_for_status(self, status: str, *, timeout: float = 60) -> None:
        """Waits until the instance reaches ``status`` (``queued`` resolves at once).

        Raises:
            IntrospectionError: The status is invalid, or the instance reached a different final
                status, so it can never get there.
        """
        try:
            wanted = InstanceStatus(status)
        except ValueError:
            raise IntrospectionError(
                f"{PREFIX} Invalid status {status!r}; expected one of "
                f"{[s.value for s in InstanceStatus]}."
            ) from None
        if wanted == InstanceStatus.QUEUED:
            return
        deadline = time.monotonic() + timeout
        while True:
            current = (await self.instance.status()).status
            if current == wanted:
                return
            if current.is_final:
                raise IntrospectionError(
                    f"{PREFIX} The Workflow instance {self.instance_id} has reached status "
                    f"'{current}'. This is a finite status that prevents it from ever reaching "
                    f"the expected status of '{wanted}'."
                )
            if time.monotonic() > deadline:
                raise IntrospectionError(
                    f"{PREFIX} Instance {self.instance_id} is '{current}', not '{wanted}', "
                    f"after {timeout}s."
                )
            await asyncio.sleep(0.1)

    async def get_output(self) -> Any:
        """``run()``'s return value; the instance must be complete."""
        details = await self.instance.status()
        if details.status != InstanceStatus.COMPLETE:
            raise IntrospectionError(
                f'Cannot retrieve output: Workflow instance is in status "{details.status}" but '
                'must be "complete" to have an output available'
            )
        return details.output

    async def get_error(self) -> ErrorInfo:
        """``{name, message}`` of the failure; the instance must be errored."""
        details = await self.instance.status()
        if details.status != InstanceStatus.ERRORED or details.error is None:
            raise IntrospectionError(
                f'Cannot retrieve error: Workflow instance is in status "{details.status}" but '
                'must be "errored" to have error information available'
            )
        return details.error

    async def dispose(self) -> None:
        """Terminates the instance if it runs, and deletes its stored state."""
        client = self.binding.client
        with contextlib.suppress(Exception):
            desc = await client.get_workflow_handle(self.instance_id).describe()
            if desc.status == WorkflowExecutionStatus.RUNNING:
                await client.get_workflow_handle(self.instance_id).terminate(
                    reason="introspector disposed"
                )
            await client.workflow_service.delete_workflow_execution(
                DeleteWorkflowExecutionRequest(
                    namespace=client.namespace,
                    workflow_execution=WorkflowExecution(workflow_id=self.instance_id),
                )
            )

    waitForStepResult = wait_for_step_result
    waitForStatus = wait_for_status
    getOutput = get_output
    getError = get_error


class WorkflowIntrospector:
    """Modifies every instance of one workflow created while it is active."""

    def __init__(self, binding: Workflow[Any]) -> None:
        self.binding = binding
        self.modifications = Modifications()
        self._instances: list[WorkflowInstanceIntrospector] = []

    async def modify_all(self, fn: Modify) -> WorkflowIntrospector:
        """Records modifier calls for every instance created after this call."""
        await _apply(fn, self.modifications)
        return self

    def get(self) -> list[WorkflowInstanceIntrospector]:
        """Introspectors of the instances created since the session started."""
        return list(self._instances)

    def _adopt(self, instance_id: str) -> Modifications:
        adopted = WorkflowInstanceIntrospector(self.binding, instance_id)
        adopted.modifications = self.modifications.model_copy(deep=True)
        adopted.created = True
        self._instances.append(adopted)
        return adopted.modifications

    async def dispose(self) -> None:
        """Disposes every instance introspector of the session."""
        for instance in self._instances:
            await instance.dispose()

    modifyAll = modify_all


_by_instance: dict[tuple[str, str], WorkflowInstanceIntrospector] = {}
_by_workflow: dict[str, WorkflowIntrospector] = {}


def _start_hook(binding: Workflow[Any], instance_id: str) -> Mapping[str, Any] | None:
    one = _by_instance.get((binding.name, instance_id))
    if one is not None:
        one.created = True
        return {MODIFIERS_MEMO: one.modifications.model_dump(mode="json")}
    session = _by_workflow.get(binding.name)
    if session is not None:
        return {MODIFIERS_MEMO: session._adopt(instance_id).model_dump(mode="json")}
    return None


register_start_hook(_start_hook)


@contextlib.asynccontextmanager
async def introspect_workflow_instance(
    binding: Workflow[Any], instance_id: str
) -> AsyncIterator[WorkflowInstanceIntrospector]:
    """Introspects one instance; enter it before ``binding.create(id=instance_id)``."""
    if binding is None or not instance_id:
        raise IntrospectionError(f"{PREFIX} Workflow binding and instance id are required.")
    introspector = WorkflowInstanceIntrospector(binding, instance_id)
    _by_instance[(binding.name, instance_id)] = introspector
    try:
        yield introspector
    finally:
        _by_instance.pop((binding.name, instance_id), None)
        await introspector.dispose()


@contextlib.asynccontextmanager
async def introspect_workflow(binding: Workflow[Any]) -> AsyncIterator[WorkflowIntrospector]:
    """Introspects every instance of a workflow created while the block runs."""
    if binding.name in _by_workflow:
        raise IntrospectionError(
            f'Workflow "{binding.name}" already has an active introspection session; dispose '
            "of it first."
        )
    session = WorkflowIntrospector(binding)
    _by_workflow[binding.name] = session
    try:
        yield session
    finally:
        _by_workflow.pop(binding.name, None)
        await session.dispose()


introspectWorkflowInstance = introspect_workflow_instance
introspectWorkflow = introspect_workflow
