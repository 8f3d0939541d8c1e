"""Saga rollbacks of ``step.do``: the options that declare them, what is kept of each completed
step, and the callback that runs a handler as a durable step. Deterministic workflow-side code.

Cloudflare's form is ``step.do(name, [config], callback, {"rollback": fn, "rollbackConfig":
{...}})``; tempflare also takes ``rollback=`` and ``rollback_config=`` keywords. A handler is
called with the keyword arguments it accepts among ``ctx`` (the rollback step's
:class:`~adapter.types.StepContext`), ``error`` (what escaped ``run()``) and ``output`` (the
step's result), the Python form of Cloudflare's ``({ ctx, error, output }) => ...``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, TypedDict

from .._shared.config import StepConfig
from .._shared.errors import StepConfigError

_OPTION_KEYS: Final = frozenset({"rollback", "rollbackConfig", "rollback_config"})
_HANDLER_ARGS: Final = ("ctx", "error", "output")


class RollbackKeywords(TypedDict, total=False):
    """The keyword form of the rollback options, for ``step.do``'s typed overloads."""

    rollback: Callable[..., Any] | None
    rollback_config: StepConfig | Mapping[str, Any] | None
    rollbackConfig: StepConfig | Mapping[str, Any] | None


@dataclass(frozen=True)
class CompletedStep:
    """A completed ``step.do`` that has a rollback handler."""

    #: The step's place in start order (1 for the first ``step.do`` called).
    started: int
    name: str
    count: int
    output: Any
    rollback: Callable[..., Any]
    rollback_config: Mapping[str, Any] | None


def split_rollback_options(
    name: str,
    args: tuple[Any, ...],
    rollback: Callable[..., Any] | None,
    rollback_config: StepConfig | Mapping[str, Any] | None,
    rollback_config_camel: StepConfig | Mapping[str, Any] | None,
) -> tuple[tuple[Any, ...], Callable[..., Any] | None, Mapping[str, Any] | None]:
    """Takes Cloudflare's trailing ``{"rollback", "rollbackConfig"}`` off ``step.do``'s arguments.

    Returns:
        The remaining arguments, the handler and its config (``retries`` and ``timeout`` only).

    Raises:
        StepConfigError: Unknown option keys, a handler that is not callable, a rollback given
            twice, or a rollback config with other keys.
    """
    if len(args) >= 2 and isinstance(args[-1], Mapping) and callable(args[-2]):
        options = args[-1]
        unknown = sorted(map(str, set(options) - _OPTION_KEYS))
        if unknown:
            raise StepConfigError(
                f'step.do("{name}", ...) got unknown rollback option(s) {unknown}; expected '
                '{"rollback": handler, "rollbackConfig": {"retries": ..., "timeout": ...}}.'
            )
        if rollback is not None and "rollback" in options:
            raise StepConfigError(f'step.do("{name}", ...) got two rollback handlers; give one.')
        rollback = options.get("rollback", rollback)
        rollback_config = options.get(
            "rollbackConfig", options.get("rollback_config", rollback_config)
        )
        args = args[:-1]
    config = rollback_config if rollback_config is not None else rollback_config_camel
    if rollback is None:
        if config is not None:
            raise StepConfigError(
                f'Step "{name}" has a rollback config but no rollback handler; add '
                "rollback=handler."
            )
        return args, None, None
    if not callable(rollback):
        raise StepConfigError(
            f'The rollback of step "{name}" must be a function (ctx, error, output), got '
            f"{rollback!r}."
        )
    if isinstance(config, StepConfig):
        if config.sensitive is not None or config.durability is not None:
            raise StepConfigError(
                f'The rollback config of step "{name}" takes retries and timeout only.'
            )
        config = {
            k: v
            for k, v in {
                "retries": None
                if config.retries is None
                else {
                    "limit": config.retries.limit,
                    "delay": config.retries.delay,
                    "backoff": config.retries.backoff,
                },
                "timeout": config.timeout,
            }.items()
            if v is not None
        }
    if config is not None:
        if not isinstance(config, Mapping):
            raise StepConfigError(
                f'The rollback config of step "{name}" must be a dict with retries and timeout, '
                f"got {config!r}."
            )
        extra = sorted(map(str, set(config) - {"retries", "timeout"}))
        if extra:
            raise StepConfigError(
                f'The rollback config of step "{name}" takes retries and timeout only, got {extra}.'
            )
    return args, rollback, config


def rollback_callback(done: CompletedStep, error: BaseException) -> Callable[..., Any]:
    """The callback of the durable step that runs ``done``'s rollback handler.

    It passes the keyword arguments the handler names among ``ctx``, ``error`` and ``output``
    (all of them to a handler that takes ``**kwargs``), and keeps the handler sync or async.
    """
    handler = done.rollback
    try:
        params = inspect.signature(handler).parameters
    except (TypeError, ValueError):
        params = {}  # type: ignore[assignment]
    takes_all = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    wanted = [a for a in _HANDLER_ARGS if takes_all or a in params]
    values = {"error": error, "output": done.output}

    def kwargs(ctx: Any) -> dict[str, Any]:
        return {a: ctx if a == "ctx" else values[a] for a in wanted}

    target = getattr(handler, "func", handler)
    if inspect.iscoroutinefunction(target):

        async def run_async(ctx: Any) -> Any:
            return await handler(**kwargs(ctx))

        return run_async

    def run_sync(ctx: Any) -> Any:
        return handler(**kwargs(ctx))

    return run_sync
