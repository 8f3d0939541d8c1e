"""The errors tempflare raises, to user workflow code and to client code.

Hierarchy::

    Exception
    ├── NonRetryableError          raised by step code to stop retries at once
    ├── WorkflowStepError          a step failed after its last attempt (name + message kept)
    │   └── WorkflowTimeoutError   an attempt or an event wait timed out
    ├── WorkflowFatalError         the engine refused a step (bad result, delay function failed)
    ├── StepConfigError(ValueError)    a step config or step name is invalid
    ├── InvalidEventTypeError(ValueError)
    └── TempflareClientError       client-side (binding and instance handle) errors
        ├── InvalidInstanceIdError(ValueError)
        ├── InvalidParamsError(ValueError)
        ├── InstanceAlreadyExistsError
        ├── InstanceNotFoundError
        ├── InstanceFinishedError
        └── StepNotFoundError

Errors raised inside ``run()`` carry a Cloudflare-style ``name`` attribute: when one escapes
``run()``, the instance ends ``errored`` with ``{name, message}`` taken from it.
"""

from __future__ import annotations


class NonRetryableError(Exception):
    """Raised in a step to fail it at once, with no further attempts.

    Mirrors ``new NonRetryableError(message, name?)`` from ``cloudflare:workflows``: the optional
    ``name`` overrides the error name that ``status()`` reports.

    Args:
        message: What went wrong.
        name: The error name to report; defaults to ``"NonRetryableError"``.
    """

    def __init__(self, message: str = "", name: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.name = name or "NonRetryableError"


class WorkflowStepError(Exception):
    """A ``step.do`` failed on its last attempt; ``run()`` may catch it.

    Attributes:
        name: The class name of the error the step raised (Cloudflare's ``error.name``).
        message: Its message.
        step: The step name.
        attempts: How many attempts ran.
    """

    def __init__(
        self, message: str, *, name: str, step: str | None = None, attempts: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.name = name
        self.step = step
        self.attempts = attempts


class WorkflowTimeoutError(WorkflowStepError):
    """A step attempt or a ``wait_for_event`` timed out.

    The message is Cloudflare's: ``Execution timed out after <ms>ms``.
    """

    def __init__(
        self, message: str, *, step: str | None = None, attempts: int | None = None
    ) -> None:
        super().__init__(message, name="WorkflowTimeoutError", step=step, attempts=attempts)


class WorkflowFatalError(Exception):
    """The engine refused a step outright: no retry will help.

    Raised for a step result that is not JSON-serialisable or larger than 1 MiB, and for a retry
    delay function that raised or returned an invalid value.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.name = "WorkflowFatalError"


class StepConfigError(ValueError):
    """A step name or step config is invalid; the message names the step and the fix."""

    name = "StepConfigError"


class InvalidEventTypeError(ValueError):
    """An event type is not at most 100 characters of ``^[a-zA-Z0-9_][a-zA-Z0-9-_]*$``."""

    name = "InvalidEventTypeError"


class TempflareClientError(Exception):
    """Base class of the errors raised by the binding and the instance handle."""


class InvalidInstanceIdError(TempflareClientError, ValueError):
    """An instance id is not at most 100 characters of ``^[a-zA-Z0-9_][a-zA-Z0-9-_]*$``."""


class InvalidParamsError(TempflareClientError, ValueError):
    """Params do not validate against the workflow's ``Params`` type, or are too large."""


class InstanceAlreadyExistsError(TempflareClientError):
    """``create`` was given an id that an existing instance already uses."""

    def __init__(self, instance_id: str) -> None:
        super().__init__(
            f'Workflow instance with id "{instance_id}" already exists. '
            "Use get(id).restart() to run it again, or pick another id."
        )
        self.instance_id = instance_id


class InstanceNotFoundError(TempflareClientError):
    """No instance with this id exists (or it has passed the namespace's retention)."""

    def __init__(self, instance_id: str) -> None:
        super().__init__(f'Workflow instance "{instance_id}" not found.')
        self.instance_id = instance_id


class InstanceFinishedError(TempflareClientError):
    """The operation needs a live instance, but this one is complete, errored or terminated."""

    def __init__(self, instance_id: str, status: str, operation: str) -> None:
        super().__init__(
            f'Cannot {operation} workflow instance "{instance_id}": it is {status}, a final '
            "status. Use restart() to run it again."
        )
        self.instance_id = instance_id
        self.status = status
        self.operation = operation


class StepNotFoundError(TempflareClientError):
    """``restart(from_step=...)`` named a step that is not in the instance's history."""


def error_name(err: BaseException) -> str:
    """The Cloudflare-style name of an error: its ``name`` attribute, else its class name.

    Python's ``AttributeError``, ``NameError`` and ``ImportError`` use ``.name`` for something
    else (the missing attribute, variable or module), so they always report their class name.
    """
    if not isinstance(err, AttributeError | NameError | ImportError):
        name = getattr(err, "name", None)
        if isinstance(name, str) and name:
            return name
    return type(err).__name__
