"""Seed 000, "Error Handling Patterns / Pattern 1: Categorize Errors for Retry Logic".

The seed's ``call API`` step fetches ``https://api.example.com/data``; a 400, 401, 403 or 404
answer (found, as in the seed, by looking for the code in the error message) is thrown as
``NonRetryableError`` and fails at once, other error statuses and network errors are retried
with the step's default config. It is wrapped here in ``ErrorCategorizationWorkflow``, which
returns the data. The call lives in :mod:`activities.seed000_api`.

The TypeScript's ``new Error(`API error: ${status}`)`` is :class:`~activities.seed000_api.ApiError`
here, so an exhausted step reports the error name ``ApiError`` rather than ``Error``.
"""

from __future__ import annotations

from typing import Any, Final

from activities.seed000_api import call_api
from adapter import WorkflowEntrypoint, WorkflowEvent, WorkflowStep

from .seed000_env import Seed000Env


class ErrorCategorizationWorkflow(
    WorkflowEntrypoint[Seed000Env, dict[str, Any]], name="seed000.ErrorCategorizationWorkflow"
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

from workflows.seed000_env import make_env as make_env  # noqa: E402  (the main job's env)
