"""A structlog logger for workflow code and step callbacks: bound to the instance, silent while a
workflow replays its history, so each line is written once however often the code re-runs."""

from __future__ import annotations

from typing import Any

import structlog
from temporalio import activity, workflow

from .._shared.history_format import parse_attempt_id


def _context() -> dict[str, Any] | None:
    """The instance (and step attempt) the calling code runs for; ``None`` while replaying."""
    if workflow.in_workflow():
        if workflow.unsafe.is_replaying():
            return None
        info = workflow.info()
        return {
            "instance_id": info.workflow_id,
            "workflow_name": info.workflow_type,
            "run_id": info.run_id,
        }
    if activity.in_activity():
        act = activity.info()
        context: dict[str, Any] = {
            "instance_id": act.workflow_id,
            "workflow_name": act.workflow_type,
            "run_id": act.workflow_run_id,
        }
        parsed = parse_attempt_id(act.activity_id)
        if parsed is not None:
            context["step"], context["count"], context["attempt"] = parsed
        else:
            context["activity"], context["attempt"] = act.activity_type, act.attempt
        return context
    return {}


class WorkflowLogger:
    """A replay-safe structlog logger; get one with :func:`get_logger`.

    Inside ``run()`` each call adds ``instance_id``, ``workflow_name`` and ``run_id`` and is
    dropped while the workflow replays (after a worker restart or a cache eviction), so a line
    appears once per execution of the code, not once per replay. Inside a step callback it adds
    the step's ``step``, ``count`` and ``attempt`` too (step callbacks never replay). Elsewhere
    it logs like a plain structlog logger. Rendering and output follow ``structlog.configure``.
    """

    __slots__ = ("_name", "_values")

    def __init__(self, name: str | None = None, values: dict[str, Any] | None = None) -> None:
        self._name = name
        self._values = values or {}

    def bind(self, **values: Any) -> WorkflowLogger:
        """A logger that adds ``values`` to every line."""
        return WorkflowLogger(self._name, {**self._values, **values})

    def _log(self, level: str, event: str, values: dict[str, Any]) -> None:
        context = _context()
        if context is None:
            return
        logger = structlog.get_logger(self._name) if self._name else structlog.get_logger()
        getattr(logger, level)(event, **{**context, **self._values, **values})

    def debug(self, event: str, **values: Any) -> None:
        """Logs at debug level."""
        self._log("debug", event, values)

    def info(self, event: str, **values: Any) -> None:
        """Logs at info level."""
        self._log("info", event, values)

    def warning(self, event: str, **values: Any) -> None:
        """Logs at warning level."""
        self._log("warning", event, values)

    def error(self, event: str, **values: Any) -> None:
        """Logs at error level."""
        self._log("error", event, values)

    def exception(self, event: str, **values: Any) -> None:
        """Logs at error level with the exception being handled."""
        self._log("exception", event, values)


def get_logger(name: str | None = None, **values: Any) -> WorkflowLogger:
    """A replay-safe logger for workflow code and step callbacks.

    Args:
        name: The logger name passed to ``structlog.get_logger``.
        **values: Bound to every line.

    Example::

        log = get_logger("payments")

        class Charge(WorkflowEntrypoint[Env, dict]):
            async def run(self, event, step):
                log.info("charging", amount=event.payload["amount"])  # once, not on replay
    """
    return WorkflowLogger(name, values)
