"""``WorkflowStep``: durable steps, sleeps and event waits, running inside a Temporal workflow.

Everything here executes in workflow code and must stay deterministic: time comes from
``workflow.now()``, waits are Temporal timers, and all side effects happen in activities.

* ``step.do`` runs each attempt as one activity (a local activity for an inline closure, a regular
  activity for a registered ``@activity.defn``). The retry loop lives here, between attempts,
  as durable timers, so that Cloudflare's exact delays, pause between attempts and the
  ``waiting`` status all hold.
* ``step.sleep`` / ``step.sleep_until`` are timers whose summary is the step name.
* ``step.wait_for_event`` waits on the per-type FIFO inbox that the dynamic signal handler fills.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, Final, Literal, NoReturn, TypeVar, Unpack, overload

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError, TimeoutType
from temporalio.exceptions import TimeoutError as TemporalTimeout

from .._shared.config import (
    Durability,
    ResolvedStepConfig,
    StepConfig,
    coerce_delay_result,
    default_step_config,
    resolve_step_config,
    retry_delay,
)
from .._shared.constants import STEP_ELSEWHERE, STEP_RECORD_MEMO
from .._shared.durations import Duration, parse_duration, to_millis
from .._shared.errors import (
    InvalidDurationError,
    NonRetryableError,
    StepConfigError,
    WorkflowFatalError,
    WorkflowStepError,
    WorkflowTimeoutError,
)
from .._shared.history_format import ROLLBACK_PREFIX, attempt_id, timer_label
from .._shared.registry import StepEntry
from .._shared.sensitive import Sealed
from .._shared.types import StepContext, StepInfo, WorkflowStepEvent
from .._shared.validation import quote, validate_event_type, validate_step_name
from .callbacks import activity_definition, return_type
from .carry import CARRIED_MEMO, Carried
from .decorated import DecoratedStep, StepDecorator, with_decorator_form
from .rollback import CompletedStep, RollbackKeywords, rollback_callback, split_rollback_options
from .state import InstanceState, Waiter

if TYPE_CHECKING:
    from .definition import StepModifiers, WorkerRuntime

T = TypeVar("T")

#: Cloudflare's longest sleep and event wait.
MAX_WAIT: Final = timedelta(days=365)
DEFAULT_EVENT_TIMEOUT: Final[Duration] = "24 hours"
#: Extra time the worker gets past the per-attempt timeout before Temporal itself times the
#: local activity out; the activity enforces the real timeout and reports it as Cloudflare does.
_TIMEOUT_GRACE: Final = timedelta(seconds=5)

_ONE_ATTEMPT: Final = RetryPolicy(maximum_attempts=1)
_DEFAULT_TASK_TIMEOUT: Final = timedelta(seconds=10)


_Callback = Callable[..., Any]


class WorkflowStep:
    """The ``step`` argument of ``run()``: Cloudflare's ``WorkflowStep`` on Temporal.

    Names are the cache keys: a completed step is never run again on replay. Duplicate names
    are allowed and numbered in call order (``name-1``, ``name-2``...).
    """

    def __init__(
        self,
        state: InstanceState,
        runtime: WorkerRuntime,
        modifiers: StepModifiers | None = None,
        *,
        durability: Durability | None = None,
        carried: Carried | None = None,
        params: Any = None,
    ) -> None:
        """Created by tempflare's workflow for each run; not by user code."""
        self._state = state
        self._runtime = runtime
        self._mods = modifiers
        self._durability = durability or runtime.durability
        self._counts: dict[tuple[str, str], int] = {}
        #: Every ``step.do`` call so far, in start order: the rollback order's reference.
        self._started = 0
        #: The completed steps that have a rollback handler (see :meth:`roll_back`).
        self._completed: list[CompletedStep] = []
        #: What earlier runs of this instance did (continue-as-new), and what this one has.
        self._carried = carried or Carried()
        self._done = Carried(runs=self._carried.runs)
        self._params = params

    def _next_count(self, kind: str, name: str) -> int:
        count = self._counts.get((kind, name), 0) + 1
        self._counts[(kind, name)] = count
        return count

    # ----------------------------------------------------------------------------- step.do

    @overload
    async def do(
        self,
        name: str,
        callback: Callable[..., Awaitable[T]],
        options: Mapping[str, Any] | None = None,
        /,
        **rollback: Unpack[RollbackKeywords],
    ) -> T: ...
    @overload
    async def do(
        self,
        name: str,
        callback: Callable[..., T],
        options: Mapping[str, Any] | None = None,
        /,
        **rollback: Unpack[RollbackKeywords],
    ) -> T: ...
    @overload
    async def do(
        self,
        name: str,
        config: StepConfig | Mapping[str, Any] | None,
        callback: Callable[..., Awaitable[T]],
        options: Mapping[str, Any] | None = None,
        /,
        **rollback: Unpack[RollbackKeywords],
    ) -> T: ...
    @overload
    async def do(
        self,
        name: str,
        config: StepConfig | Mapping[str, Any] | None,
        callback: Callable[..., T],
        options: Mapping[str, Any] | None = None,
        /,
        **rollback: Unpack[RollbackKeywords],
    ) -> T: ...
    @overload
    def do(
        self,
        name: str | None = None,
        *,
        concurrent: bool = False,
        config: StepConfig | Mapping[str, Any] | None = None,
        depends: Sequence[DecoratedStep] | None = None,
    ) -> StepDecorator: ...
    @overload
    def do(self, function: Callable[..., Any], /) -> DecoratedStep: ...

    @with_decorator_form  # step.do(...) without a callback: see decorated.py
    async def do(
        self,
        name: str,
        *args: Any,
        rollback: Callable[..., Any] | None = None,
        rollback_config: StepConfig | Mapping[str, Any] | None = None,
        rollbackConfig: StepConfig | Mapping[str, Any] | None = None,
    ) -> Any:
        """Runs a durable step: ``step.do(name, callback)`` or ``step.do(name, config, callback)``.

        ``rollback=`` (and ``rollback_config=`` with ``retries`` and ``timeout`` only), or
        Cloudflare's trailing options ``step.do(name, [config], callback, {"rollback": fn,
        "rollbackConfig": {...}})``, give the step a saga compensation: when an error escapes
        ``run()`` (or on ``terminate(rollback=True)``), the handlers of the completed steps run
        in reverse start order, each as a durable step named ``rollback: <name>``, called with
        the keyword arguments it accepts among ``ctx``, ``error`` and ``output``.

        The callback is an inline closure, sync or async, that may take one argument, the
        :class:`~adapter.types.StepContext`. A sync callback runs in a worker thread. A registered
        ``@activity.defn`` function (or a ``functools.partial`` of one, binding its arguments)
        runs as a regular activity on the task queue instead.

        Each attempt is limited by the config's ``timeout``; failures are retried ``limit`` times
        with Cloudflare's backoff. :class:`~adapter.errors.NonRetryableError` stops at once.

        Returns:
            The callback's result, JSON round-tripped (a pydantic model when the callback's return
            annotation is one).

        Raises:
            NonRetryableError: The step raised it (``name`` and message kept).
            WorkflowTimeoutError: The last attempt timed out.
            WorkflowStepError: The last attempt failed; ``name`` is the error's class name.
            WorkflowFatalError: The result was too large or not serialisable, or the delay
                function failed.
            StepConfigError: The name or config is invalid.
        """
        validate_step_name(name)
        args, rollback, rollback_cfg = split_rollback_options(
            name, args, rollback, rollback_config, rollbackConfig
        )
        if len(args) == 1:
            config, callback = None, args[0]
        elif len(args) == 2:
            config, callback = args
        else:
            raise StepConfigError(
                f'step.do("{name}", ...) takes (name, callback) or (name, config, callback); '
                f"got {len(args)} arguments after the name."
            )
        if not callable(callback):
            raise StepConfigError(f'Step "{name}" requires a callback function, got {callback!r}.')
        count = self._next_count("do", name)
        self._started += 1
        started = self._started
        if config is None:
            cfg = default_step_config(self._runtime.default_retry_delay)
        else:
            cfg = resolve_step_config(name, config, default_delay=self._runtime.default_retry_delay)
        remote = activity_definition(callback)
        if remote is None:
            result_type = return_type(callback)
        else:
            result_type = remote.ret_type
            if isinstance(callback, partial) and callback.keywords:
                raise StepConfigError(
                    f'Step "{name}": Temporal activities take positional arguments only; bind '
                    "them with functools.partial(fn, *args), not keywords "
                    f"{sorted(callback.keywords)}."
                )
        step_key = (name, count)
        if step_key in self._carried.results or step_key in self._carried.errors:
            return self._from_earlier_run(
                step_key, result_type, cfg.sensitive, rollback, rollback_cfg, started
            )
        if self._should_continue_as_new():
            self._continue_as_new()
        try:
            result = await self._run_do(name, count, cfg, callback, remote, result_type)
        except (NonRetryableError, WorkflowStepError, WorkflowFatalError) as err:
            self._done.errors[step_key] = _error_record(err)
            raise
        self._done.results[step_key] = result
        self._done.sensitive |= cfg.sensitive
        if rollback is not None:
            self._completed.append(
                CompletedStep(started, name, count, result, rollback, rollback_cfg)
            )
        return result

    async def _run_do(
        self,
        name: str,
        count: int,
        cfg: ResolvedStepConfig,
        callback: _Callback,
        remote: Any,
        result_type: Any,
    ) -> Any:
        """Runs a ``step.do`` to its outcome: attempts, retry waits, Cloudflare's errors."""
        key = f"{name}#{count}"
        state = self._state
        run_id = workflow.info().run_id
        mocks = self._mods
        mock = mocks.step_mock(name, count) if mocks else None
        if mock is not None:
            remote = None  # a mocked step never reaches the real activity
        # Durable: a regular activity, recorded by the server as it completes. Batched: a local
        # activity, recorded with the workflow task that ran it.
        durable = remote is None and (cfg.durability or self._durability) == "durable"
        self._runtime.registry.put(
            run_id,
            key,
            StepEntry(
                callback=callback,
                name=name,
                count=count,
                config_view=dict(cfg.as_dict),
                timeout_seconds=cfg.timeout.total_seconds(),
                mock=mock,
                result_type=result_type,
            ),
        )
        try:
            attempt = 1
            while True:
                if state.holding:
                    await workflow.wait_condition(lambda: not state.holding)
                # A local activity runs inside the workflow task, which the server sees only
                # when it completes: the status is written at the next wait instead.
                state.begin_attempt(name, publish=remote is not None or durable)
                try:
                    if remote is not None:
                        result = await workflow.execute_activity(
                            remote.name,
                            args=list(callback.args) if isinstance(callback, partial) else [],
                            activity_id=attempt_id(name, count, attempt),
                            start_to_close_timeout=cfg.timeout,
                            retry_policy=_ONE_ATTEMPT,
                            summary=name,
                            result_type=result_type,
                        )
                    elif durable:
                        result = await self._durable_attempt(
                            name, count, attempt, cfg.timeout, result_type
                        )
                    else:
                        result = await workflow.execute_local_activity(
                            self._runtime.activity_type_for(name),
                            {"key": key, "attempt": attempt},
                            activity_id=attempt_id(name, count, attempt),
                            start_to_close_timeout=cfg.timeout + _TIMEOUT_GRACE,
                            retry_policy=_ONE_ATTEMPT,
                            summary=name,
                            result_type=result_type,
                        )
                except (ActivityError, ApplicationError, TemporalTimeout) as err:
                    state.end_attempt()
                    error = _step_error(err, name, cfg.timeout, attempt)
                except BaseException:
                    state.end_attempt()
                    raise
                else:
                    state.end_attempt()
                    return result

                if isinstance(error, NonRetryableError | WorkflowFatalError):
                    raise error from None
                if attempt > cfg.limit:
                    raise error from None
                if cfg.delay_fn is not None:
                    ctx = StepContext(attempt, StepInfo(name, count), cfg.as_dict)
                    delay = await _call_delay_function(cfg.delay_fn, ctx, error, name, count)
                else:
                    assert cfg.delay is not None
                    delay = retry_delay(cfg.backoff, cfg.delay, attempt)
                if mocks and mocks.retry_delays_disabled(name, count):
                    delay = timedelta(0)
                await self._timer(
                    delay,
                    f"{name}: retry {attempt} of {cfg.limit} after {to_millis(delay)}ms",
                    step=name,
                )
                attempt += 1
        finally:
            self._runtime.registry.pop(run_id, key)

    # ----------------------------------------------------------------------- sleep, sleep_until

    async def sleep(self, name: str, duration: Duration) -> None:
        """Sleeps durably: ``step.sleep(name, "1 hour")``. A pause stops the clock.

        Args:
            name: The step name; it is the timer's summary in the Web UI.
            duration: Milliseconds, a ``timedelta`` or a duration string (see
                :mod:`adapter.durations`). At most 365 days.

        Raises:
            InvalidDurationError: The duration is invalid or longer than 365 days.
        """
        validate_step_name(name)
        count = self._next_count("sleep", name)
        delta = _within_a_year(
            parse_duration(duration, what=f'duration of sleep "{name}"'),
            f'Sleep "{name}" of {quote(duration)}',
            "split it into several sleeps or use sleep_until",
        )
        if (name, count) not in self._carried.sleeps and not (
            self._mods and self._mods.sleeps_disabled(name, count)
        ):
            await self._timer(delta, timer_label(name, count), step=name)
        self._done.sleeps.add((name, count))

    async def sleep_until(self, name: str, when: datetime | int | float) -> None:
        """Sleeps until an aware ``datetime`` or epoch milliseconds; a past time returns at once.

        Raises:
            InvalidDurationError: ``when`` is a naive datetime, not a time at all, or more than
                365 days away.
        """
        validate_step_name(name)
        count = self._next_count("sleep", name)
        if isinstance(when, datetime):
            if when.tzinfo is None:
                raise InvalidDurationError(
                    f'sleep_until "{name}" needs a timezone-aware datetime, got {quote(when)}; '
                    "use datetime(..., tzinfo=timezone.utc)."
                )
            target = when
        elif isinstance(when, int | float) and not isinstance(when, bool):
            try:
                target = datetime.fromtimestamp(when / 1000, tz=UTC)
            except (OverflowError, OSError, ValueError):
                raise InvalidDurationError(
                    f'sleep_until "{name}" got {quote(when)}, which is not a time: give epoch '
                    "milliseconds within 365 days, or an aware datetime."
                ) from None
        else:
            raise InvalidDurationError(
                f'sleep_until "{name}" takes an aware datetime or epoch milliseconds, got '
                f"{quote(when)}."
            )
        remaining = _within_a_year(
            target - workflow.now(),
            f'sleep_until "{name}" to {target.isoformat()}',
            "sleep in several steps",
        )
        if not (
            remaining <= timedelta(0)
            or (name, count) in self._carried.sleeps
            or (self._mods and self._mods.sleeps_disabled(name, count))
        ):
            await self._timer(remaining, timer_label(name, count), step=name)
        self._done.sleeps.add((name, count))

    sleepUntil = sleep_until

    # ------------------------------------------------------------------------- wait_for_event

    async def wait_for_event(
        self,
        name: str,
        options: Mapping[str, Any] | str | None = None,
        *,
        type: str | None = None,
        timeout: Duration | None = None,
    ) -> WorkflowStepEvent[Any]:
        """Waits for an event of one type: ``step.wait_for_event(name, type=..., timeout=...)``.

        Events sent before the wait are buffered first-in first-out per type; each is consumed
        once. Cloudflare's forms are accepted too: ``waitForEvent(name, {"type": ...,
        "timeout": ...})`` (TypeScript) and ``wait_for_event(name, "approval", timeout=...)``
        (Python SDK).

        Args:
            name: The step name; it is the timeout timer's summary in the Web UI.
            options: The TypeScript-shaped options dict, or the event type.
            type: The event type: the Temporal signal name.
            timeout: How long to wait; 24 hours by default, at most 365 days.

        Returns:
            The event's payload, the time it was received, and its type.

        Raises:
            WorkflowTimeoutError: No event came in time.
            InvalidEventTypeError: The type is invalid.
            InvalidDurationError: The timeout is invalid or longer than 365 days.
            StepConfigError: The options have unknown keys, or give the type twice.
        """
        validate_step_name(name)
        if isinstance(options, str):
            options = {"type": options}
        if options is not None:
            if not isinstance(options, Mapping):
                raise StepConfigError(
                    f'waitForEvent "{name}" takes an options dict or the event type, got '
                    f"{quote(options)}."
                )
            unknown = sorted(map(str, set(options) - {"type", "timeout"}))
            if unknown:
                raise StepConfigError(
                    f'waitForEvent "{name}" got unknown option(s) {unknown}; '
                    'expected {"type": str, "timeout": duration}.'
                )
            if type is not None and "type" in options and options["type"] != type:
                raise StepConfigError(
                    f'waitForEvent "{name}" got two event types, {quote(options["type"])} and '
                    f"{quote(type)}; give one."
                )
            type = options.get("type", type)
            timeout = options.get("timeout", timeout)
        event_type = validate_event_type(type)
        count = self._next_count("waitForEvent", name)
        delta = _within_a_year(
            parse_duration(
                DEFAULT_EVENT_TIMEOUT if timeout is None else timeout,
                what=f'timeout of waitForEvent "{name}"',
            ),
            f'waitForEvent "{name}" timeout of {quote(timeout)}',
            "wait in several steps",
        )
        key = (name, count)
        if key in self._carried.timeouts or (
            self._mods and self._mods.event_timeout_forced(name, count)
        ):
            self._done.waits.add(key)
            self._done.timeouts.add(key)
            raise WorkflowTimeoutError(f"Execution timed out after {to_millis(delta)}ms", step=name)
        waiter = Waiter()
        started = workflow.now()
        self._state.waiters[event_type].append(waiter)
        self._state.dispatch(event_type)
        await self._timer(
            delta, timer_label(name, count), step=name, done=lambda: waiter.event is not None
        )
        got = waiter.event
        self._done.waits.add(key)
        if got is None:
            self._done.timeouts.add(key)
        # One memo upsert records the wait in history (the step-output API reads it): a wait
        # answered from the buffer has no timer of its own, and a timer does not say whether it
        # was a sleep or an event wait.
        if key not in self._carried.waits:  # an earlier run recorded it
            workflow.upsert_memo(
                {
                    STEP_RECORD_MEMO: {
                        "type": "waitForEvent",
                        "name": name,
                        "count": count,
                        "eventType": event_type,
                        "start": started.isoformat(),
                        "timedOut": got is None,
                        "output": None if got is None else _event_output(got),
                    }
                }
            )
        if got is None:
            self._state.waiters[event_type].remove(waiter)
            raise WorkflowTimeoutError(f"Execution timed out after {to_millis(delta)}ms", step=name)
        return got

    waitForEvent = wait_for_event

    # ------------------------------------------------------------------- continue-as-new

    def _from_earlier_run(
        self,
        key: tuple[str, int],
        result_type: Any,
        sensitive: bool,
        rollback: Callable[..., Any] | None,
        rollback_cfg: Mapping[str, Any] | None,
        started: int,
    ) -> Any:
        """A ``step.do`` that an earlier run of this instance completed: its outcome, at once."""
        if key in self._carried.errors:
            self._done.errors[key] = self._carried.errors[key]
            raise _error_from_record(key[0], self._carried.errors[key])
        value = self._carried.results[key]
        self._done.results[key] = value
        self._done.sensitive |= sensitive
        if result_type is not None:
            converter = workflow.payload_converter()
            value = converter.from_payloads(converter.to_payloads([value]), [result_type])[0]
        if rollback is not None:
            self._completed.append(
                CompletedStep(started, key[0], key[1], value, rollback, rollback_cfg)
            )
        return value

    def _should_continue_as_new(self) -> bool:
        """Whether this run should hand over to a new one now: its history is long, and nothing
        is under way that a new run could not pick up from the carried state."""
        after = self._runtime.continue_as_new_after
        if after is None:
            return False
        info = workflow.info()
        if not (info.is_continue_as_new_suggested() or info.get_current_history_length() >= after):
            return False
        state = self._state
        return (
            state.in_flight == 0
            and not state.waits
            and not state.holding
            and not state.rolling_back
            and not any(state.waiters.values())
            and workflow.all_handlers_finished()
        )

    def _continue_as_new(self) -> NoReturn:
        """Continues as new, carrying what this run and the earlier ones did (see carry.py)."""
        done = self._done
        done.events = list(self._state.received)
        converter = workflow.payload_converter()
        done.results = {
            k: json.loads(converter.to_payloads([v])[0].data) if v is not None else None
            for k, v in done.results.items()
        }
        memo: dict[str, Any] = {}
        for key, raw in workflow.memo().items():
            if key in (STEP_RECORD_MEMO, CARRIED_MEMO):
                continue
            memo[key] = Sealed(raw) if done.sensitive else raw
        carried = done.to_memo()
        memo[CARRIED_MEMO] = Sealed(carried) if done.sensitive else carried
        workflow.continue_as_new(
            self._params,
            memo=memo,
            search_attributes=workflow.info().typed_search_attributes,
        )

    # ----------------------------------------------------------------------------- rollback

    async def roll_back(self, error: BaseException) -> None:
        """Runs the rollback handlers of the completed steps, in reverse step-start order.

        Each runs as a durable step (a regular activity, whatever the step mode) named
        ``rollback: <name>`` with its own retries and timeout (``rollback_config``; Cloudflare's
        defaults otherwise). A handler that still fails after
        its retries is logged in history as a failed step; the others run all the same, and the
        instance then ends with the original error.
        """
        pending = sorted(self._completed, key=lambda c: c.started, reverse=True)
        self._completed = []
        if not pending:
            return
        self._state.rolling_back = True
        self._state.publish()
        for done in pending:
            try:
                # Always a regular activity: recorded as it completes, and the rollingBack
                # status reaches the server before it runs, in batched mode too.
                await self.do(
                    f"{ROLLBACK_PREFIX}{done.name}"[:256],
                    {**(done.rollback_config or {}), "durability": "durable"},
                    rollback_callback(done, error),
                )
            except (WorkflowStepError, NonRetryableError, WorkflowFatalError):
                workflow.logger.warning(
                    "Rollback of step %r (count %d) failed; the others still run",
                    done.name,
                    done.count,
                )

    # ------------------------------------------------------------------------------ helpers

    async def _durable_attempt(
        self, name: str, count: int, attempt: int, timeout: timedelta, result_type: Any
    ) -> Any:
        """Runs one attempt of an inline step as a regular activity, in this worker process.

        The callback lives only in the memory of the worker that runs this workflow, so the
        attempt goes first to the workflow's task queue with eager dispatch, which hands it
        straight back to this worker. Another worker that gets it (no eager slot, or eager off
        on the server) hands it back at once, and it goes to this worker's own task queue. If
        the worker holding it dies, the attempt's heartbeats stop (or, on its own queue, no one
        picks it up) within the workflow task timeout, and it runs again wherever this workflow
        now runs; none of this counts as a retry.
        """
        runtime = self._runtime
        patience = workflow.info().task_timeout or _DEFAULT_TASK_TIMEOUT
        own_queue: str | None = None
        while True:
            try:
                return await workflow.execute_activity(
                    runtime.activity_type_for(name),
                    {"key": f"{name}#{count}", "attempt": attempt},
                    task_queue=own_queue,
                    activity_id=attempt_id(name, count, attempt),
                    start_to_close_timeout=timeout + _TIMEOUT_GRACE,
                    heartbeat_timeout=patience,
                    schedule_to_start_timeout=patience if own_queue else None,
                    retry_policy=_ONE_ATTEMPT,
                    summary=name,
                    result_type=result_type,
                )
            except ActivityError as err:
                route = _reroute(err)
                if route is None:
                    raise
                own_queue = runtime.step_queue if route == "own queue" else None

    async def _timer(
        self,
        duration: timedelta,
        summary: str,
        *,
        step: str,
        done: Callable[[], bool] | None = None,
    ) -> None:
        """Waits ``duration`` of unpaused time on durable timers, or until ``done()``."""
        state = self._state
        remaining = duration
        state.waits.append(step)
        try:
            while not (done and done()):
                if state.holding:
                    await workflow.wait_condition(
                        lambda: not state.holding or bool(done and done())
                    )
                    continue
                if remaining <= timedelta(0):
                    return
                state.publish()
                started = workflow.now()
                try:
                    await workflow.wait_condition(
                        lambda: state.holding or bool(done and done()),
                        timeout=remaining,
                        timeout_summary=summary,
                    )
                except TimeoutError:
                    return
                remaining -= workflow.now() - started
        finally:
            state.waits.remove(step)
            if state.waits:
                state.publish()  # still waiting, on what is left


def _reroute(err: ActivityError) -> Literal["own queue", "any worker"] | None:
    """Where a durable attempt goes again when it did not run to an outcome, or ``None``.

    A worker without the step's code handed it back: to this worker's own queue. The worker
    that held it died (no heartbeat, or nobody took it from its queue) or shut down: to the
    workflow's task queue, eager, as at first.
    """
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.type == STEP_ELSEWHERE:
        return "own queue"
    if isinstance(cause, TemporalTimeout) and cause.type in (
        TimeoutType.HEARTBEAT,
        TimeoutType.SCHEDULE_TO_START,
    ):
        return "any worker"
    if isinstance(cause, CancelledError):
        return "any worker"  # the worker shut down; this workflow never cancels a step
    return None


def _error_record(err: Exception) -> tuple[str, str, bool]:
    """A step's final error as carried to the next run: ``(name, message, non-retryable)``."""
    if isinstance(err, WorkflowFatalError):
        return (err.name, err.message, True)
    if isinstance(err, NonRetryableError):
        return (err.name, err.message, True)
    assert isinstance(err, WorkflowStepError)
    return (err.name, err.message, False)


def _error_from_record(step: str, record: tuple[str, str, bool]) -> Exception:
    """The error an earlier run's step raised, raised again by the run that carries it."""
    name, message, non_retryable = record
    if non_retryable:
        if name == WorkflowFatalError.__name__:
            return WorkflowFatalError(message)
        return NonRetryableError(message, name=name)
    if name == WorkflowTimeoutError.__name__:
        return WorkflowTimeoutError(message, step=step)
    return WorkflowStepError(message, name=name, step=step)


def _event_output(event: WorkflowStepEvent[Any]) -> dict[str, Any]:
    """A received event as the step-output API shows it: Cloudflare's ``{payload, timestamp,
    type}``."""
    return {
        "payload": event.payload,
        "timestamp": event.timestamp.isoformat(),
        "type": event.type,
    }


def _within_a_year(delta: timedelta, what: str, fix: str) -> timedelta:
    """Cloudflare's limit on a sleep or an event wait: 365 days.

    Raises:
        InvalidDurationError: ``delta`` is longer; the message names ``what`` and the fix.
    """
    if delta > MAX_WAIT:
        raise InvalidDurationError(f"{what} is longer than the maximum of 365 days; {fix}.")
    return delta


def _cause(err: BaseException) -> BaseException | None:
    """What failed inside an attempt: a regular activity wraps it in an ``ActivityError``."""
    return err.cause if isinstance(err, ActivityError) else err


def _step_error(
    err: ActivityError | ApplicationError | TemporalTimeout,
    name: str,
    timeout: timedelta,
    attempts: int,
) -> Exception:
    """Turns a failed attempt into the error user code sees.

    A regular activity's failure arrives as an ``ActivityError`` wrapping its cause; a local
    activity's arrives as the cause itself.
    """
    cause = _cause(err)
    if isinstance(cause, TemporalTimeout):
        return WorkflowTimeoutError(
            f"Execution timed out after {to_millis(timeout)}ms", step=name, attempts=attempts
        )
    if not isinstance(cause, ApplicationError):
        raise err
    error_type, message = cause.type or "Error", cause.message
    if cause.non_retryable:
        if error_type == WorkflowFatalError.__name__:
            return WorkflowFatalError(message)
        return NonRetryableError(message, name=error_type)
    if error_type == WorkflowTimeoutError.__name__:
        return WorkflowTimeoutError(message, step=name, attempts=attempts)
    return WorkflowStepError(message, name=error_type, step=name, attempts=attempts)


async def _call_delay_function(
    fn: Callable[..., Any], ctx: StepContext, error: Exception, name: str, count: int
) -> timedelta:
    try:
        value = fn(ctx, error)
        if inspect.isawaitable(value):
            value = await value
        return coerce_delay_result(name, value)
    except Exception as err:
        raise WorkflowFatalError(
            f'The delay function for step "{name}-{count}" threw an error: {err}'
        ) from None


__all__ = ["WorkflowStep"]
