"""Worker-side execution of ``step.do`` closures: one dynamic activity runs one attempt.

The workflow registers each step's callback in a :class:`StepRegistry` under
``(run_id, step key)`` and schedules an activity whose type is the step name; the one dynamic
activity defined here finds the callback and runs one attempt of it. A durable step's attempt is
a regular activity, which heartbeats while the callback runs; a batched step's is a local
activity. Retries are driven by the workflow (see :mod:`adapter.step`), so every attempt is its
own activity. A regular activity that lands in a worker process without the callback hands the
attempt back (:data:`STEP_ELSEWHERE`), and the workflow sends it to its own worker's queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from functools import partial
from typing import Any

from temporalio import activity
from temporalio.api.common.v1 import Payload
from temporalio.common import RawValue
from temporalio.exceptions import ApplicationError

from .._shared.constants import STEP_ELSEWHERE

try:  # the `tracing` extra
    from opentelemetry import trace as _otel_trace
except ImportError:  # pragma: no cover - depends on the install
    _otel_trace = None  # type: ignore[assignment]

from .._shared.errors import NonRetryableError, WorkflowFatalError, error_name
from .._shared.modifiers import USE_CALLBACK
from .._shared.registry import StepEntry, StepRegistry
from .._shared.results import encode_step_result, is_engine_exception
from .._shared.sensitive import mark_sensitive
from .._shared.types import StepContext, StepInfo


def _wants_context(callback: Callable[..., Any]) -> bool:
    """Whether the callback takes a positional argument (the step context)."""
    code = getattr(callback, "__code__", None)
    if code is not None and inspect.isfunction(callback):
        # Plain functions and lambdas, the common case, without building a signature.
        required = code.co_argcount - len(callback.__defaults__ or ())
        return required > 0 or bool(code.co_flags & inspect.CO_VARARGS)
    try:
        params = list(inspect.signature(callback).parameters.values())
    except (TypeError, ValueError):
        return False
    positional = [
        p
        for p in params
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
    ]
    return bool(positional) or any(p.kind == p.VAR_POSITIONAL for p in params)


async def _call(callback: Callable[..., Any], ctx: StepContext) -> Any:
    args = (ctx,) if _wants_context(callback) else ()
    target = callback.func if isinstance(callback, partial) else callback
    if inspect.iscoroutinefunction(target):
        result = await callback(*args)
    else:
        # A sync callback runs in a thread so that it cannot block the worker's event loop.
        result = await asyncio.to_thread(callback, *args)
    if inspect.isawaitable(result):
        result = await result
    return result


async def _run_attempt(entry: StepEntry, attempt: int, protected: bool) -> Payload:
    """Runs one attempt of a step callback (or its mock) and returns its stored result, in an
    OpenTelemetry span named after the step when OpenTelemetry is installed (a no-op without a
    tracer provider; with ``adapter.tracing`` it nests under the activity's span)."""
    if _otel_trace is None:
        return await _attempt(entry, attempt, protected)  # type: ignore[unreachable]
    tracer = _otel_trace.get_tracer("tempflare")
    attributes: dict[str, str | int] = {
        "tempflare.step.name": entry.name,
        "tempflare.step.count": entry.count,
        "tempflare.step.attempt": attempt,
    }
    with tracer.start_as_current_span(entry.name, attributes=attributes):
        return await _attempt(entry, attempt, protected)


async def _attempt(entry: StepEntry, attempt: int, protected: bool) -> Payload:
    """Runs one attempt of a step callback (or its mock) and returns its stored result."""
    ctx = StepContext(
        attempt=attempt,
        step=StepInfo(name=entry.name, count=entry.count),
        config=entry.config_view,
    )
    deadline = asyncio.timeout(entry.timeout_seconds)
    try:
        result = entry.mock(attempt) if entry.mock is not None else USE_CALLBACK
        if result is USE_CALLBACK:
            async with deadline:
                result = await _call(entry.callback, ctx)
    except TimeoutError as err:
        if not deadline.expired():  # the callback's own TimeoutError: an ordinary failure
            raise ApplicationError(str(err), type=error_name(err)) from err
        raise ApplicationError(
            f"Execution timed out after {round(entry.timeout_seconds * 1000)}ms",
            type="WorkflowTimeoutError",
        ) from None
    except NonRetryableError as err:
        raise ApplicationError(err.message, type=err.name, non_retryable=True) from err
    except ApplicationError:
        raise
    except BaseException as err:
        if is_engine_exception(err):
            raise  # the worker cancelling the attempt
        # Any other exception, KeyboardInterrupt and SystemExit included, fails the attempt:
        # user code never takes the worker down.
        raise ApplicationError(str(err), type=error_name(err)) from err
    try:
        payload = encode_step_result(
            activity.payload_converter(), entry.name, entry.count, result, entry.result_type
        )
    except WorkflowFatalError as err:
        raise ApplicationError(err.message, type=err.name, non_retryable=True) from None
    if entry.config_view.get("sensitive") == "output":
        if not protected:
            raise ApplicationError(
                f'Step "{entry.name}" is sensitive="output", but this worker\'s client encrypts '
                "nothing: connect it with adapter.connect() (with the cryptography package, "
                "pip install 'tempflare[sensitive]'), or give its data converter "
                "adapter.SensitiveOutputCodec().",
                type="WorkflowFatalError",
                non_retryable=True,
            )
        mark_sensitive(payload)  # the codec encrypts it on its way out of this process
    return payload


@contextlib.contextmanager
def _heartbeating(timeout: timedelta | None) -> Iterator[None]:
    """Heartbeats while the attempt runs, so the server tells a dead worker within ``timeout``.

    A timer callback on the event loop rather than a task: most attempts end before the first
    beat, and then cost one scheduled handle.
    """
    if not timeout:
        yield
        return
    loop = asyncio.get_running_loop()
    interval = max(timeout.total_seconds() / 3, 0.1)
    handle: asyncio.TimerHandle | None = None

    def beat() -> None:
        nonlocal handle
        activity.heartbeat()
        handle = loop.call_later(interval, beat)

    handle = loop.call_later(interval, beat)
    try:
        yield
    finally:
        handle.cancel()


def make_step_activity(registry: StepRegistry, *, protected: bool = False) -> Callable[..., Any]:
    """Builds the dynamic activity that runs one attempt of a registered step callback.

    ``protected``: the worker's data converter encrypts sensitive outputs.
    """

    @activity.defn(dynamic=True)
    async def tempflare_step(args: Sequence[RawValue]) -> Any:
        info = activity.info()
        call = _step_call(args)
        if call is None:
            raise ApplicationError(
                f'Activity type "{info.activity_type}" is not registered on this worker. '
                "Register it with create_worker(..., activities=[...]).",
                type="ActivityNotRegistered",
                non_retryable=True,
            )
        key, attempt = str(call["key"]), int(call["attempt"])
        entry = registry.get(info.workflow_run_id or "", key)
        if entry is None:
            if info.is_local:
                raise ApplicationError(
                    f'Step "{key}" has no registered callback in this worker process.',
                    type="WorkflowFatalError",
                    non_retryable=True,
                )
            # Another worker runs this workflow, and the step's code lives there.
            raise ApplicationError(
                f'Step "{key}" belongs to a workflow that another worker runs; handed back.',
                type=STEP_ELSEWHERE,
                non_retryable=True,
            )
        if info.is_local:
            return RawValue(await _run_attempt(entry, attempt, protected))
        with _heartbeating(info.heartbeat_timeout):
            return RawValue(await _run_attempt(entry, attempt, protected))

    return tempflare_step


def _step_call(args: Sequence[RawValue]) -> dict[str, Any] | None:
    """The ``{"key", "attempt"}`` a step's activity gets, or ``None`` for any other activity."""
    if len(args) != 1:
        return None
    try:
        call = activity.payload_converter().from_payload(args[0].payload, dict)
    except Exception:
        return None
    if not isinstance(call, dict) or not {"key", "attempt"} <= set(call):
        return None
    return call
