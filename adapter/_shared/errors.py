"""The errors tempflare raises, to user workflow code and to client code.

Hierarchy (every one is a :class:`TempflareError`; bad input also keeps the standard
``ValueError`` or ``TypeError`` base that callers already catch)::

    TempflareError
    ├── NonRetryableError              raised by step code to stop retries at once
    ├── WorkflowStepError              a step failed after its last attempt (name + message kept)
    │   └── WorkflowTimeoutError       an attempt or an event wait timed out
    ├── WorkflowFatalError             the engine refused a step result, an output or a delay
    ├── InvalidValueError(ValueError)  a value handed in is not accepted; the message quotes it
    │   ├── StepConfigError            a step name or step config
    │   ├── InvalidEventTypeError      an event type
    │   ├── InvalidDurationError       a duration (sleep, timeout, retry delay)
    │   ├── InvalidInstanceIdError     an instance id (also a TempflareClientError)
    │   └── InvalidParamsError         params or a payload (also a TempflareClientError)
    ├── WrongTypeError(TypeError)      something of the wrong kind was handed in
    └── TempflareClientError           client-side (binding and instance handle) errors
        ├── InstanceAlreadyExistsError
        ├── InstanceNotFoundError
        ├── InstanceFinishedError
        └── StepNotFoundError

Errors raised inside ``run()`` report a Cloudflare-style name: when one escapes ``run()``, the
instance ends ``errored`` with ``{name, message}``; see :func:`error_name`.
"""

from __future__ import annotations


class TempflareError(Exception):
    """Root of every error tempflare raises."""


class NonRetryableError(TempflareError):
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


class WorkflowStepError(TempflareError):
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


class WorkflowFatalError(TempflareError):
    """The engine refused a step or an output outright: no retry will help.

    Raised for a step result or an output of ``run()`` that cannot be stored as it is (not
    JSON-serialisable, changed by the round trip, or larger than 1 MiB), and for a retry delay
    function that raised or returned an invalid value.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.name = "WorkflowFatalError"


class WorkflowTerminatedError(TempflareError):
    """The ``error`` a rollback handler receives when ``terminate(rollback=True)`` ended the run."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.name = "WorkflowTerminatedError"


class InvalidValueError(TempflareError, ValueError):
    """A value handed to tempflare is not accepted; the message quotes it and says what is."""

    name = "InvalidValueError"


class WrongTypeError(TempflareError, TypeError):
    """Something of the wrong kind was handed to tempflare; the message says what was expected."""

    name = "WrongTypeError"


class StepConfigError(InvalidValueError):
    """A step name or step config is invalid; the message names the step and the fix."""

    name = "StepConfigError"


class InvalidEventTypeError(InvalidValueError):
    """An event type is not 1 to 100 characters of ``[a-zA-Z0-9_][a-zA-Z0-9-_]*``."""

    name = "InvalidEventTypeError"


class InvalidDurationError(InvalidValueError):
    """A duration is not in an accepted form, or is negative or out of range."""

    name = "InvalidDurationError"


class TempflareClientError(TempflareError):
    """Base class of the errors raised by the binding and the instance handle."""


class InvalidInstanceIdError(TempflareClientError, InvalidValueError):
    """An instance id is not 1 to 100 characters of ``[a-zA-Z0-9_][a-zA-Z0-9-_]*``."""

    name = "InvalidInstanceIdError"


class InvalidParamsError(TempflareClientError, InvalidValueError):
    """Params or a payload do not validate against their type, or are too large."""

    name = "InvalidParamsError"


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


class ConnectionConfigError(TempflareClientError, InvalidValueError):
    """The connection settings are unusable: a malformed address, an unknown profile, or a config
    file that is missing or does not parse. The message names the value, where it came from and
    the fix."""

    name = "ConnectionConfigError"


class TemporalConnectionError(TempflareClientError, RuntimeError):
    """No Temporal server could be reached at the resolved address (it keeps ``RuntimeError``,
    which ``Client.connect`` raises for the same failure).

    Attributes:
        address: The address that was dialled.
        source: Where that address came from.
    """

    def __init__(self, message: str, *, address: str, source: str) -> None:
        super().__init__(message)
        self.address = address
        self.source = source


def error_name(err: BaseException) -> str:
    """The Cloudflare-style name of an error: its class name.

    tempflare's own errors carry a ``name`` on purpose (``NonRetryableError(message, name=...)``,
    the original error's name in a ``WorkflowStepError``), and report it. Any other error reports
    its class name, whatever its ``name`` attribute holds (``AttributeError.name`` is the missing
    attribute; a user's ``UserNotFound("alice")`` may keep ``alice`` there).
    """
    if isinstance(err, TempflareError):
        name = getattr(err, "name", None)
        if isinstance(name, str) and name:
            return name
    return type(err).__name__
