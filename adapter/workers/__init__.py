"""Cloudflare's Python Workflows SDK (``from workers import WorkflowEntrypoint``) on tempflare.

A workflow written for Cloudflare's Python SDK runs here with only its import lines changed::

    from adapter.workers import WorkflowEntrypoint            # was: from workers import ...
    from adapter.workers.workflows import NonRetryableError   # was: from workers.workflows ...

    class MyWorkflow(WorkflowEntrypoint):
        async def run(self, event, step):
            @step.do()
            async def fetch_user():
                return {"id": event["payload"]["userId"]}

            @step.do(concurrent=True)
            async def report(fetch_user, ctx):
                return {"user": fetch_user["id"], "attempt": ctx["attempt"]}

            return await report()

The subclass is an ordinary tempflare workflow (register it with ``create_worker``, start it
with a binding); only what ``run()`` receives changes shape, as in Cloudflare's SDK:

* ``event`` is a dict: ``payload``, ``timestamp`` (an aware ``datetime``), ``instanceId``,
  ``workflowName``;
* ``step`` is a :class:`WorkflowStep` whose ``do`` is the decorator of
  :mod:`adapter._workflow.decorated`, whose ``wait_for_event(name, event_type, /, timeout=...)``
  returns a dict (``payload``, ``timestamp``, ``type``), and whose ``sleep`` and ``sleep_until``
  take what tempflare's take: a **bare number is milliseconds** (a duration, or epoch time in
  ``sleep_until``), which is what Cloudflare's runtime does with it, although its Python docs
  say seconds; write ``"10 seconds"`` to leave no doubt. A naive ``datetime`` is local time (on
  Cloudflare, where local time is UTC, that is UTC).
* ``self.env`` is the worker's env, and ``self.ctx`` is ``None``: a workflow on Temporal has no
  Workers ``ExecutionContext``.

Bindings with dict arguments and dict results are in :mod:`adapter.workers.workflows`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from datetime import datetime
from typing import Any, Final

from temporalio import workflow

from .._shared.durations import Duration
from .._shared.entrypoint import WorkflowEntrypoint as _NativeEntrypoint
from .._shared.types import WorkflowEvent, WorkflowStepEvent
from .._workflow.step import WorkflowStep as _NativeStep

_MARK: Final = "_tempflare_python_sdk"
_NOT_GIVEN: Final[Any] = object()
#: Below this, an epoch number read as milliseconds is before 1973: almost surely seconds.
_SECONDS_LIKE_EPOCH: Final = 100_000_000_000


def event_dict(event: WorkflowEvent[Any]) -> dict[str, Any]:
    """The event as Cloudflare's Python SDK hands it to ``run()``: a dict."""
    return {
        "payload": event.payload,
        "timestamp": event.timestamp,
        "instanceId": event.instance_id,
        "workflowName": event.workflow_name,
    }


def step_event_dict(event: WorkflowStepEvent[Any]) -> dict[str, Any]:
    """An awaited event as Cloudflare's Python SDK returns it: a dict."""
    return {"payload": event.payload, "timestamp": event.timestamp, "type": event.type}


class WorkflowStep:
    """The ``step`` of a Python-SDK workflow: tempflare's step with Cloudflare's Python shapes.

    It wraps the run's native :class:`adapter.WorkflowStep` (``native``), so both styles share
    one run: step names are counted once, and steps declared with ``@step.do`` here and on the
    native step depend on one another by name.
    """

    def __init__(self, native: _NativeStep) -> None:
        self.native = native

    def do(self, *args: Any, **kwargs: Any) -> Any:
        """``@step.do(name=None, *, concurrent=False, config=None)``: declares a step.

        The legacy ``@step.do(name, depends=[a, b], concurrent=..., config=...)`` works too, and
        so does tempflare's callback form, ``await step.do(name, [config,] callback)``.
        """
        return self.native.do(*args, **kwargs)

    async def sleep(self, name: str, duration: Duration) -> None:
        """Sleeps durably; a bare number is milliseconds (see the module docs)."""
        await self.native.sleep(name, duration)

    async def sleep_until(self, name: str, timestamp: datetime | int | float) -> None:
        """Sleeps until a ``datetime`` (naive is local time) or epoch milliseconds."""
        if isinstance(timestamp, datetime) and timestamp.tzinfo is None:
            timestamp = timestamp.astimezone()
        elif (
            isinstance(timestamp, int | float)
            and not isinstance(timestamp, bool)
            and 0 < timestamp < _SECONDS_LIKE_EPOCH
        ):
            workflow.logger.warning(
                "sleep_until %r got %r, read as epoch milliseconds (before 1973, so it returns "
                "at once); for epoch seconds pass a datetime or multiply by 1000",
                name,
                timestamp,
            )
        await self.native.sleep_until(name, timestamp)

    async def wait_for_event(
        self, name: str, event_type: str, /, timeout: Duration = "24 hours"
    ) -> dict[str, Any]:
        """Waits for an event of ``event_type``; returns ``{"payload", "timestamp", "type"}``.

        Raises:
            WorkflowTimeoutError: No event came within ``timeout``.
        """
        received = await self.native.wait_for_event(name, type=event_type, timeout=timeout)
        return step_event_dict(received)


class WorkflowEntrypoint(_NativeEntrypoint[Any, Any]):
    """Base class of a workflow written for Cloudflare's Python SDK.

    Subclass it and write ``async def run(self, event, step)`` as for Cloudflare: ``event`` is a
    dict and ``step`` a :class:`WorkflowStep`. ``__init__(self, ctx, env)`` keeps Cloudflare's
    signature (``ctx`` is ``None``). The workflow name is the class name unless
    ``class X(WorkflowEntrypoint, name="x")`` says otherwise.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        run = cls.__dict__.get("run")
        if run is not None and not getattr(run, _MARK, False):
            cls.run = _python_run(run)  # type: ignore[method-assign]
        init = cls.__dict__.get("__init__")
        if init is not None and not getattr(init, _MARK, False):
            cls.__init__ = _python_init(init)  # type: ignore[method-assign]

    def __init__(self, ctx: Any = None, env: Any = _NOT_GIVEN) -> None:
        """Cloudflare's ``(ctx, env)``; the worker calls it with the env alone."""
        if env is _NOT_GIVEN:
            ctx, env = None, ctx
        super().__init__(env)
        self.ctx = ctx


def _python_run(run: Callable[..., Any]) -> Callable[..., Any]:
    """Wraps a subclass's ``run`` so it receives Cloudflare's Python shapes."""

    @functools.wraps(run)
    async def wrapped(self: Any, event: Any = None, step: Any = None, /) -> Any:
        if isinstance(event, WorkflowEvent):
            event = event_dict(event)
        if isinstance(step, _NativeStep):
            step = WorkflowStep(step)
        result = run(self, event, step)
        if inspect.isawaitable(result):
            result = await result
        return result

    setattr(wrapped, _MARK, True)
    return wrapped


def _python_init(init: Callable[..., Any]) -> Callable[..., Any]:
    """Wraps a subclass's ``__init__(self, ctx, env)``: the worker passes the env alone."""

    @functools.wraps(init)
    def wrapped(self: Any, *args: Any, **kwargs: Any) -> None:
        if len(args) == 1 and not kwargs:
            args = (None, args[0])
        init(self, *args, **kwargs)

    setattr(wrapped, _MARK, True)
    return wrapped


__all__ = ["WorkflowEntrypoint", "WorkflowStep", "event_dict", "step_event_dict"]
