"""tempflare: Cloudflare-Workflows-style durable workflows on Temporal, in Python.

Write a workflow the Cloudflare way::

    from adapter import WorkflowEntrypoint, WorkflowEvent, WorkflowStep

    class Greeter(WorkflowEntrypoint[None, dict]):
        async def run(self, event: WorkflowEvent[dict], step: WorkflowStep) -> str:
            name = await step.do("look up name", lambda: event.payload["name"].title())
            await step.sleep("pause", "1 second")
            return f"Hello, {name}!"

run it with :func:`create_worker`, and start it with the :class:`Workflow` binding.
"""

from ._client.client import BatchItemError, CreateBatchResult, Workflow, WorkflowInstance
from ._client.connection import connect
from ._shared.config import Durability, RetryConfig, StepConfig
from ._shared.durations import Duration, parse_duration
from ._shared.encryption import EncryptionCodec
from ._shared.entrypoint import WorkflowEntrypoint
from ._shared.errors import (
    ConnectionConfigError,
    InstanceAlreadyExistsError,
    InstanceFinishedError,
    InstanceNotFoundError,
    InvalidDurationError,
    InvalidEventTypeError,
    InvalidInstanceIdError,
    InvalidParamsError,
    InvalidValueError,
    NonRetryableError,
    StepConfigError,
    StepNotFoundError,
    TempflareClientError,
    TempflareError,
    TemporalConnectionError,
    WorkflowFatalError,
    WorkflowStepError,
    WorkflowTerminatedError,
    WorkflowTimeoutError,
    WrongTypeError,
)
from ._shared.sensitive import SensitiveOutputCodec
from ._shared.types import (
    ErrorInfo,
    InstanceEvent,
    InstanceStatus,
    InstanceStatusDetails,
    ScheduleInfo,
    StepAttemptRecord,
    StepContext,
    StepInfo,
    StepRecord,
    WorkflowEvent,
    WorkflowStepEvent,
)
from ._worker.worker import create_worker, ensure_search_attributes
from ._workflow.log import WorkflowLogger, get_logger
from ._workflow.step import WorkflowStep

__all__ = [
    "BatchItemError",
    "ConnectionConfigError",
    "CreateBatchResult",
    "Durability",
    "Duration",
    "EncryptionCodec",
    "ErrorInfo",
    "InstanceAlreadyExistsError",
    "InstanceEvent",
    "InstanceFinishedError",
    "InstanceNotFoundError",
    "InstanceStatus",
    "InstanceStatusDetails",
    "InvalidDurationError",
    "InvalidEventTypeError",
    "InvalidInstanceIdError",
    "InvalidParamsError",
    "InvalidValueError",
    "NonRetryableError",
    "RetryConfig",
    "ScheduleInfo",
    "SensitiveOutputCodec",
    "StepAttemptRecord",
    "StepConfig",
    "StepConfigError",
    "StepContext",
    "StepInfo",
    "StepNotFoundError",
    "StepRecord",
    "TempflareClientError",
    "TempflareError",
    "TemporalConnectionError",
    "Workflow",
    "WorkflowEntrypoint",
    "WorkflowEvent",
    "WorkflowFatalError",
    "WorkflowInstance",
    "WorkflowLogger",
    "WorkflowStep",
    "WorkflowStepError",
    "WorkflowStepEvent",
    "WorkflowTerminatedError",
    "WorkflowTimeoutError",
    "WrongTypeError",
    "connect",
    "create_worker",
    "ensure_search_attributes",
    "get_logger",
    "parse_duration",
]
