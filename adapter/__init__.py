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

from .client import Workflow, WorkflowInstance, connect, map_status, validate_instance_id
from .config import RetryConfig, StepConfig
from .durations import Duration, parse_duration
from .entrypoint import WorkflowEntrypoint
from .errors import (
    InstanceAlreadyExistsError,
    InstanceFinishedError,
    InstanceNotFoundError,
    InvalidEventTypeError,
    InvalidInstanceIdError,
    InvalidParamsError,
    NonRetryableError,
    StepConfigError,
    StepNotFoundError,
    TempflareClientError,
    WorkflowFatalError,
    WorkflowStepError,
    WorkflowTimeoutError,
)
from .step import WorkflowStep
from .types import (
    ErrorInfo,
    InstanceStatus,
    InstanceStatusDetails,
    StepContext,
    StepInfo,
    WorkflowEvent,
    WorkflowStepEvent,
)
from .worker import create_worker, ensure_search_attributes

__all__ = [
    "Duration",
    "ErrorInfo",
    "InstanceAlreadyExistsError",
    "InstanceFinishedError",
    "InstanceNotFoundError",
    "InstanceStatus",
    "InstanceStatusDetails",
    "InvalidEventTypeError",
    "InvalidInstanceIdError",
    "InvalidParamsError",
    "NonRetryableError",
    "RetryConfig",
    "StepConfig",
    "StepConfigError",
    "StepContext",
    "StepInfo",
    "StepNotFoundError",
    "TempflareClientError",
    "Workflow",
    "WorkflowEntrypoint",
    "WorkflowEvent",
    "WorkflowFatalError",
    "WorkflowInstance",
    "WorkflowStep",
    "WorkflowStepError",
    "WorkflowStepEvent",
    "WorkflowTimeoutError",
    "connect",
    "create_worker",
    "ensure_search_attributes",
    "map_status",
    "parse_duration",
    "validate_instance_id",
]
