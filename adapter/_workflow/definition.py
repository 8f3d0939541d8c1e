"""Wraps a ``WorkflowEntrypoint`` subclass into an unsandboxed Temporal workflow.

The generated workflow's type is the entrypoint's name and its single input is the params. It
owns the run's :class:`~adapter.step.InstanceState` and exposes it through a dynamic signal
handler (events), updates and signals (pause, resume) and a query (status). An exception that
escapes ``run()`` fails the workflow with ``{name, message}``; it never leaves a workflow task
retrying.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Final, Protocol

from temporalio import workflow
from temporalio.common import RawValue, SearchAttributeKey
from temporalio.exceptions import ApplicationError

from .._shared.config import DEFAULT_DURABILITY, DEFAULT_RETRY_DELAY, Durability
from .._shared.constants import (
    MODIFIERS_MEMO,
    PAUSE_UPDATE,
    RESUME_UPDATE,
    SCHEDULE_MEMO,
    SCHEDULED_START_TIME,
    STATUS_QUERY,
    TERMINATE_SIGNAL,
)
from .._shared.durations import Duration
from .._shared.entrypoint import WorkflowEntrypoint, validate_params
from .._shared.errors import WorkflowTerminatedError, WrongTypeError, error_name
from .._shared.modifiers import Modifications
from .._shared.registry import StepRegistry
from .._shared.results import encode_output, is_engine_exception
from .._shared.types import InstanceStatus, ScheduleInfo, WorkflowEvent
from .carry import CARRIED_MEMO, Carried
from .state import InstanceState
from .step import WorkflowStep

_SCHEDULED_START = SearchAttributeKey.for_datetime(SCHEDULED_START_TIME)


class StepModifiers(Protocol):
    """Test-time changes to step behaviour that travel with one instance (see adapter.testing)."""

    def step_mock(self, name: str, count: int) -> Any:
        """A function ``(attempt) -> result`` that replaces the callback, or ``None``."""

    def sleeps_disabled(self, name: str, count: int) -> bool:
        """Whether this sleep returns at once."""

    def retry_delays_disabled(self, name: str, count: int) -> bool:
        """Whether this step retries without waiting."""

    def event_timeout_forced(self, name: str, count: int) -> bool:
        """Whether this event wait times out at once."""


#: Events after which a run continues as new: well below Temporal's 51,200-event limit, and a
#: history a worker replays quickly after a cache eviction.
DEFAULT_CONTINUE_AS_NEW_AFTER: Final = 10_000


@dataclass
class WorkerRuntime:
    """What every workflow and step of one worker shares: env, step registry and options."""

    env: Any = None
    registry: StepRegistry = field(default_factory=StepRegistry)
    default_retry_delay: Duration = DEFAULT_RETRY_DELAY
    registered_activities: frozenset[str] = frozenset()
    use_search_attributes: bool = True
    durability: Durability = DEFAULT_DURABILITY
    #: This worker process's own task queue, where durable steps go when another worker got
    #: them (see ``WorkflowStep._durable_attempt``); ``None`` outside a worker (replay).
    step_queue: str | None = None
    #: History events after which a run continues as new (see ``carry.py``); ``None``: never.
    continue_as_new_after: int | None = None

    def activity_type_for(self, step_name: str) -> str:
        """The local-activity type of a step: its name, unless a registered activity owns it."""
        if step_name in self.registered_activities:
            return f"step:{step_name}"
        return step_name

    def load_modifiers(self) -> Modifications | None:
        """Reads the testing toolkit's modifiers from the instance's memo, if any."""
        raw = workflow.memo_value(MODIFIERS_MEMO, None)
        if raw is None:
            return None
        return Modifications.model_validate(raw)


class TempflareWorkflow:
    """Base of the Temporal workflow generated for each entrypoint class."""

    entry_cls: ClassVar[type[WorkflowEntrypoint[Any, Any]]]
    runtime: ClassVar[WorkerRuntime]

    def __init__(self) -> None:
        self._state = InstanceState(use_search_attributes=self.runtime.use_search_attributes)
        # Events carried in the memo (a restart plan's re-delivered events, testing mocks) were
        # sent before anything that reaches this run, so they are buffered before any signal
        # handler runs: Temporal runs handlers for signals in the first task before run().
        self._modifiers: Modifications | None = None
        self._setup_error: Exception | None = None
        try:
            self._modifiers = self.runtime.load_modifiers()
        except Exception as err:  # reported by run(), which fails the run instead of the task
            self._setup_error = err
        self._carried: Carried | None = None
        try:
            self._carried = Carried.from_memo(workflow.memo_value(CARRIED_MEMO, None))
        except Exception as err:
            self._setup_error = err
        if self._carried is not None and self._carried.runs:
            # A continued-as-new run: every event the earlier runs received, in order, with
            # its time (the restart plan's and the testing toolkit's among them).
            for event_type, payload, when in self._carried.events:
                self._state.receive_event(event_type, payload, datetime.fromisoformat(when))
        else:
            for mocked in self._modifiers.events if self._modifiers else []:
                self._state.receive_event(mocked.type, mocked.payload)

    async def _execute(self, params: Any) -> Any:
        step: WorkflowStep | None = None
        try:
            if self._setup_error is not None:
                raise self._setup_error
            info = workflow.info()
            payload = validate_params(self.entry_cls.params_type, params)
            event = WorkflowEvent(
                payload=payload,
                timestamp=info.start_time,
                instance_id=info.workflow_id,
                workflow_name=info.workflow_type,
                schedule=_schedule_of(info),
            )
            step = WorkflowStep(
                self._state,
                self.runtime,
                self._modifiers,
                durability=self.entry_cls.durability,
                carried=self._carried,
                params=params,
            )
            entry = self.entry_cls(self.runtime.env)
            output = encode_output(await entry.run(event, step))
        except workflow.NondeterminismError:
            raise
        except BaseException as err:
            if is_engine_exception(err):
                if (
                    step is not None
                    and self._state.rollback_on_cancel
                    and isinstance(err, asyncio.CancelledError)
                ):
                    # terminate(rollback=True): a Temporal cancellation request. Roll back, then
                    # let the run end cancelled, which status() reports as terminated.
                    await step.roll_back(
                        WorkflowTerminatedError("The instance was terminated with rollback.")
                    )
                    self._finish(InstanceStatus.TERMINATED)
                raise  # the worker cancelling or evicting this run, or a continue-as-new
            # Any other exception, KeyboardInterrupt and SystemExit included, is the user's: it
            # ends the instance (after the rollbacks of its completed steps), never the worker.
            if step is not None:
                await step.roll_back(err)
            self._finish(InstanceStatus.ERRORED)
            if isinstance(err, ApplicationError):
                raise ApplicationError(
                    err.message, *err.details, type=err.type, non_retryable=True
                ) from err
            raise ApplicationError(str(err), type=error_name(err), non_retryable=True) from err
        self._finish(InstanceStatus.COMPLETE)
        return output

    def _finish(self, status: InstanceStatus) -> None:
        self._state.final_status = status
        self._state.current_step = None
        self._state.publish()

    @workflow.signal(dynamic=True)
    def _on_event(self, name: str, args: Sequence[RawValue]) -> None:
        """Every signal that is not a tempflare control signal is an event of that type."""
        payload = workflow.payload_converter().from_payload(args[0].payload) if args else None
        self._state.receive_event(name, payload)

    @workflow.query(name=STATUS_QUERY)
    def _status(self) -> dict[str, Any]:
        state = self._state
        return {
            "status": state.status.value,
            "step": state.current_step,
            "buffered_events": {k: len(v) for k, v in state.buffer.items() if v},
        }

    @workflow.update(name=PAUSE_UPDATE)
    def _pause(self) -> str:
        return self._state.request_pause().value

    @workflow.update(name=RESUME_UPDATE)
    def _resume(self) -> str:
        return self._state.resume().value

    @workflow.signal(name=PAUSE_UPDATE)
    def _pause_signal(self) -> None:
        self._state.request_pause()

    @workflow.signal(name=TERMINATE_SIGNAL)
    def _terminate_signal(self, options: dict[str, Any] | None = None) -> None:
        if (options or {}).get("rollback"):
            self._state.rollback_on_cancel = True
            self._state.resume()  # a paused instance rolls back too

    @workflow.signal(name=RESUME_UPDATE)
    def _resume_signal(self) -> None:
        self._state.resume()


def _schedule_of(info: workflow.Info) -> ScheduleInfo | None:
    """The cron schedule that started this run: its expression from the memo the schedule's action
    carries, its due time from the search attribute Temporal sets on scheduled runs."""
    memo = workflow.memo_value(SCHEDULE_MEMO, None)
    due = info.typed_search_attributes.get(_SCHEDULED_START)
    if not isinstance(memo, dict) or not isinstance(memo.get("cron"), str) or due is None:
        return None
    return ScheduleInfo(cron=memo["cron"], scheduled_time=due)


def build_workflow_class(
    entry_cls: type[WorkflowEntrypoint[Any, Any]], runtime: WorkerRuntime
) -> type:
    """Generates the Temporal workflow class for one entrypoint and one worker runtime."""
    if not isinstance(entry_cls, type) or not issubclass(entry_cls, WorkflowEntrypoint):
        raise WrongTypeError(
            f"{entry_cls!r} is not a WorkflowEntrypoint subclass; workflows passed to "
            "create_worker must subclass adapter.WorkflowEntrypoint."
        )
    class_name = f"{entry_cls.__name__}TemporalWorkflow"

    async def run(self: TempflareWorkflow, params: Any = None) -> Any:
        return await self._execute(params)

    run.__qualname__ = f"{class_name}.run"
    run.__module__ = __name__
    namespace = {
        "__module__": __name__,
        "__qualname__": class_name,
        "__doc__": f"Temporal workflow {entry_cls.workflow_name!r} for {entry_cls.__qualname__}.",
        "entry_cls": entry_cls,
        "runtime": runtime,
        "run": workflow.run(run),
    }
    cls = type(class_name, (TempflareWorkflow,), namespace)
    return workflow.defn(name=entry_cls.workflow_name, sandboxed=False)(cls)
