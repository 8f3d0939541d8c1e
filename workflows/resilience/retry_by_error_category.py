"""Retrying by error category: client errors fail at once, server and network errors retry.

Ports seed 000, "Error Handling Patterns / Pattern 1: Categorize Errors for Retry Logic".

The seed's ``call API`` step fetches ``https://api.example.com/data``; a 400, 401, 403 or 404
answer (found, as in the seed, by looking for the code in the error message) is thrown as
``NonRetryableError`` and fails at once, other error statuses and network errors are retried
with the step's default config. It is wrapped here in ``ErrorCategorizationWorkflow``, which
returns the data. The call lives in :mod:`activities.resilience.retry_by_error_category`.

The TypeScript's ``new Error(`API error: ${status}`)`` is
:class:`~activities.resilience.retry_by_error_category.ApiError` here, so an exhausted step reports
the error name ``ApiError`` rather than ``Error``."""

from __future__ import annotations

from typing import Any, Final

from activities.resilience.retry_by_error_category import call_api
from adapter import WorkflowEntrypoint, WorkflowEvent, WorkflowStep
from workflows._shared_env import SharedEnv


class ErrorCategorizationWorkflow(
    WorkflowEntrypoint[SharedEnv, dict[str, Any]], name="retry-by-error-category"
):
    async def run(self, event: WorkflowEvent[dict[str, Any]], step: WorkflowStep) -> Any:
        async def call() -> Any:
            return await call_api(self.env.API)

        data = await step.do("call API", call)
        return {"data": data}


WORKFLOW: Final = ErrorCategorizationWorkflow
EXAMPLE_PARAMS: Final[dict[str, Any]] = {}
EXPECTED_STATUS: Final = "complete"
EVENTS: Final[list[tuple[float, str, Any]]] = []

from workflows._shared_env import make_env as make_env  # noqa: E402  (the main job's env)
