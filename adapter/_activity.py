"""Worker-side execution of ``step.do`` closures as Temporal local activities.

The workflow registers each step's callback in a :class:`StepRegistry` under
``(run_id, step key)`` and schedules a local activity whose type is the step name; the one dynamic
activity defined here finds the callback and runs one attempt of it. Retries are driven by the
workflow (see :mod:`adapter.step`), so every attempt is its own local activity.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from temporalio import activity
from temporalio.common import RawValue
from temporalio.exceptions import ApplicationError

from ._modifiers import USE_CALLBACK
from .errors import NonRetryableError, WorkflowFatalError, error_name
from .types import StepContext, StepInfo

#: Cloudflare's limit on a step result.
MAX_STEP_RESULT_BYTES = 1024 * 1024


@dataclass
class StepEntry:
    """A registered step callback and what one attempt needs to know."""

    callback: Callable[..., Any]
    name: str
    count: int
    config_view: dict[str, Any]
    timeout_seconds: float
    mock: Callable[[int], Any] | None = None


class StepRegistry:
    """Callbacks of the steps in flight in this worker process, keyed by run and step key."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], StepEntry] = {}

    def put(self, run_id: str, key: str, entry: StepEntry) -> None:
        """Registers a step callback for the duration of the step."""
        self._entries[(run_id, key)] = entry

    def pop(self, run_id: str, key: str) -> None:
        """Forgets a step callback once the step has finished."""
        self._entries.pop((run_id, key), None)

    def get(self, run_id: str, key: str) -> StepEntry | None:
        """Looks a step callback up."""
        return self._entries.get((run_id, key))


def _wants_context(callback: Callable[..., Any]) -> bool:
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
    if inspect.iscoroutinefunction(callback):
        result = await callback(*args)
    else:
        # A sync callback runs in a thread so that it cannot block the worker's event loop.
        result = await asyncio.to_thread(callback, *args)
    if inspect.isawaitable(result):
        result = await result
    return result


def make_step_activity(registry: StepRegistry) -> Callable[..., Any]:
    """Builds the dynamic activity that runs one attempt of a registered step callback."""

    @activity.defn(dynamic=True)
    async def tempflare_step(args: Sequence[RawValue]) -> Any:
        info = activity.info()
        if not info.is_local:
            raise ApplicationError(
                f'Activity type "{info.activity_type}" is not registered on this worker. '
                "Register it with create_worker(..., activities=[...]).",
                type="ActivityNotRegistered",
                non_retryable=True,
            )
        call = activity.payload_converter().from_payload(args[0].payload, dict)
        key, attempt = str(call["key"]), int(call["attempt"])
        entry = registry.get(info.workflow_run_id or "", key)
        if entry is None:
            raise ApplicationError(
                f'Step "{key}" has no registered callback in this worker process.',
                type="WorkflowFatalError",
                non_retryable=True,
            )
        ctx = StepContext(
            attempt=attempt,
            step=StepInfo(name=entry.name, count=entry.count),
            config=entry.config_view,
        )
        try:
            result = entry.mock(attempt) if entry.mock is not None else USE_CALLBACK
            if result is USE_CALLBACK:
                result = await asyncio.wait_for(_call(entry.callback, ctx), entry.timeout_seconds)
        except TimeoutError:
            raise ApplicationError(
                f"Execution timed out after {round(entry.timeout_seconds * 1000)}ms",
                type="WorkflowTimeoutError",
            ) from None
        except NonRetryableError as err:
            raise ApplicationError(err.message, type=err.name, non_retryable=True) from err
        except ApplicationError:
            raise
        except Exception as err:
            raise ApplicationError(str(err), type=error_name(err)) from err
        check_result_size(entry.name, entry.count, result)
        return result

    return tempflare_step


def check_result_size(name: str, count: int, result: Any) -> None:
    """Fails the step, without retries, if its result cannot be stored.

    Raises:
        ApplicationError: non-retryable, type ``WorkflowFatalError``, naming the step and size.
    """
    try:
        payload = activity.payload_converter().to_payloads([result])[0]
    except Exception as err:
        raise ApplicationError(
            f'Step "{name}-{count}" returned a value which is not serialisable: {err}. '
            "Return JSON-serialisable data (dicts, lists, str, numbers, bool, None) or a "
            "pydantic model.",
            type=WorkflowFatalError.__name__,
            non_retryable=True,
        ) from None
    size = len(payload.data)
    if size > MAX_STEP_RESULT_BYTES:
        raise ApplicationError(
            f'Step "{name}-{count}" output is too large: {size} bytes. The maximum allowed size '
            f"is 1MiB ({MAX_STEP_RESULT_BYTES} bytes); store large data elsewhere (e.g. R2) "
            "and return a reference.",
            type=WorkflowFatalError.__name__,
            non_retryable=True,
        )
