"""Graceful degradation inside a step: on any failure the step returns defaults and never fails.

Ports seed 000, "Error Handling Patterns / Pattern 3: Graceful Degradation". (For falling back
to a second service after a step has failed for good, see
:mod:`workflows.resilience.fallback_service`.)

The seed's ``fetch user preferences`` step returns the user's preferences from
``https://api.example.com/users/<id>/preferences`` or, on any failure (error status, network
error, bad JSON), logs a warning and returns defaults, so the step never fails. It is wrapped here
in ``UserPreferencesWorkflow``, which returns the preferences; the call lives in
:mod:`activities.resilience.defaults_on_failure`.
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel

from activities.resilience.defaults_on_failure import fetch_user_preferences
from adapter import WorkflowEntrypoint, WorkflowEvent, WorkflowStep
from workflows._shared_env import SharedEnv


class PreferencesParams(BaseModel):
    userId: str


class UserPreferencesWorkflow(
    WorkflowEntrypoint[SharedEnv, PreferencesParams], name="preferences-with-defaults"
):
    async def run(
        self, event: WorkflowEvent[PreferencesParams], step: WorkflowStep
    ) -> dict[str, Any]:
        user_id = event.payload.userId

        async def fetch_preferences() -> dict[str, Any]:
            return await fetch_user_preferences(self.env.API, user_id)

        preferences = await step.do("fetch user preferences", fetch_preferences)
        return {"userId": user_id, "preferences": preferences}


WORKFLOW: Final = UserPreferencesWorkflow
EXAMPLE_PARAMS: Final[dict[str, Any]] = {"userId": "user-1"}
EXPECTED_STATUS: Final = "complete"
EVENTS: Final[list[tuple[float, str, Any]]] = []

from workflows._shared_env import make_env as make_env  # noqa: E402  (the main job's env)
