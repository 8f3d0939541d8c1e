"""A week-long sleep between a welcome e-mail and a follow-up that depends on the user's state.

Ports seed 001, "Workflow Patterns / User Lifecycle".

TypeScript (abridged)::

    await step.do('welcome email', async () => await sendEmail(event.params.email, 'Welcome!'));
    await step.sleep('trial period', '7 days');
    const hasConverted = await step.do('check conversion', async () => {
      const user = await this.env.DB.prepare('SELECT subscription_status FROM users WHERE id = ?')
        .bind(event.params.userId).first();
      return user.subscription_status === 'active';
    });
    if (!hasConverted) await step.do('trial expiration email',
        async () => await sendEmail(event.params.email, 'Trial ending'));

Differences: ``event.params`` is ``event.payload`` (seed bug); ``sendEmail`` is an HTTP e-mail
API (``activities/scheduling/trial_follow_up.py``); a missing user raises ``UserNotFoundError``
instead of a ``TypeError`` on ``null``; ``trial_seconds`` shortens the 7-day sleep; ``run``
returns ``{"converted", "emails"}`` (the seed returns nothing).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel
from temporalio.client import Client

from activities._demo.demo_server import ensure_demo_services
from activities.scheduling.trial_follow_up import (
    LifecycleEnv,
    apply_schema,
    check_conversion,
    send_email,
)
from adapter import WorkflowEntrypoint, WorkflowEvent, WorkflowStep
from workflows._helpers import d1_database, run_blocking, shortened


class LifecycleParams(BaseModel):
    """``event.payload``: the user, plus the trial-length knob."""

    userId: str
    email: str
    #: Shortens the seed's 7-day trial period.
    trial_seconds: float | None = None


class UserLifecycleWorkflow(
    WorkflowEntrypoint[LifecycleEnv, LifecycleParams], name="trial-follow-up"
):
    """Welcome a user, wait out the trial, then nudge them if they have not converted."""

    async def run(
        self, event: WorkflowEvent[LifecycleParams], step: WorkflowStep
    ) -> dict[str, Any]:
        params = event.payload
        env = self.env
        emails = ["Welcome!"]

        await step.do("welcome email", lambda: send_email(env, params.email, "Welcome!"))
        await step.sleep("trial period", shortened(params.trial_seconds, "7 days"))
        has_converted = await step.do(
            "check conversion", lambda: check_conversion(env, params.userId)
        )
        if not has_converted:
            await step.do(
                "trial expiration email", lambda: send_email(env, params.email, "Trial ending")
            )
            emails.append("Trial ending")
        return {"converted": has_converted, "emails": emails}


# ------------------------------------------------------------------------------ demo run

EXAMPLE_PARAMS: Final[dict[str, Any]] = {
    "userId": "demo-user",
    "email": "demo@example.com",
    "trial_seconds": 2,
}
EXPECTED_STATUS: Final = "complete"
EVENTS: Final[list[tuple[float, str, object]]] = []


async def _demo_env(root: Path) -> LifecycleEnv:
    """An env for the demo run: a D1 file with a trialing ``demo-user``, the demo e-mail API."""
    env = LifecycleEnv(DB=d1_database(root, "lifecycle"), EMAIL_API_URL=ensure_demo_services())
    await apply_schema(env.DB)
    # Replace the demo row (portable SQL: DELETE + INSERT in one transaction).
    await env.DB.batch(
        [
            env.DB.prepare("DELETE FROM users WHERE id = ?").bind("demo-user"),
            env.DB.prepare(
                "INSERT INTO users (id, email, subscription_status) VALUES (?, ?, 'trialing')"
            ).bind("demo-user", "demo@example.com"),
        ]
    )
    return env


def make_env(data_dir: str | Path, client: Client, task_queue: str) -> LifecycleEnv:
    """A worker's env: D1 under ``data_dir`` and the e-mail API at ``$EMAIL_API_URL``."""

    async def build() -> LifecycleEnv:
        env = LifecycleEnv(
            DB=d1_database(data_dir, "lifecycle"),
            EMAIL_API_URL=os.environ.get("EMAIL_API_URL") or "https://email-api.example.com",
        )
        await apply_schema(env.DB)
        return env

    return run_blocking(build())


def make_demo_env(data_dir: str | Path, client: Client, task_queue: str) -> LifecycleEnv:
    """The env of the main job's demo run, with its stand-in services (the ``make_demo_env``
    hook of ``workflows/__init__.py``)."""
    return run_blocking(_demo_env(Path(data_dir)))
