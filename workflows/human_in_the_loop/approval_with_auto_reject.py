"""Approval with automatic rejection: wait for a decision event; nobody answers, it is rejected.

Ports seed 001, "Workflow Patterns / Human-in-the-Loop Approval". (For an approval that escalates
instead, see :mod:`workflows.human_in_the_loop.approval_with_escalation`.)

TypeScript (abridged)::

    await step.do('create approval', async () => await this.env.DB.prepare(
        'INSERT INTO approvals (id, user_id, status) VALUES (?, ?, ?)')
        .bind(event.instanceId, event.params.userId, 'pending').run());
    try {
      const approval = await step.waitForEvent<{ approved: boolean }>('wait for approval',
          { event: 'approval-response', timeout: '48h' });
      if (approval.approved) { await step.do('process approval', async () => {}); }
      else { await step.do('handle rejection', async () => {}); }
    } catch (e) {
      await step.do('auto reject', async () => await this.env.DB.prepare(
          'UPDATE approvals SET status = ? WHERE id = ?')
          .bind('auto-rejected', event.instanceId).run());
    }

Differences, each fixing a seed bug: the option is ``type`` (not ``event``);
``waitForEvent`` returns ``{payload, timestamp, type}``, so the decision is
``approval.payload.approved`` (the seed's ``approval.approved`` is always ``undefined``, which
would reject everything); ``event.params`` is ``event.payload``. The empty
``process approval`` / ``handle rejection`` bodies record ``approved`` / ``rejected``.
``approval_timeout_seconds`` shortens the 48 h timeout. As in the seed, the ``catch`` covers
the whole ``try``: a failure of ``process approval`` or ``handle rejection`` also ends in
``auto reject``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel
from temporalio.client import Client

from activities.human_in_the_loop.approval_with_auto_reject import (
    ApprovalEnv,
    apply_schema,
    create_approval,
    set_status,
)
from adapter import WorkflowEntrypoint, WorkflowEvent, WorkflowStep
from workflows._helpers import d1_database, run_blocking, shortened


class ApprovalParams(BaseModel):
    """``event.payload``: who asks, plus the timeout knob."""

    userId: str
    #: Shortens the seed's 48 h wait for a response.
    approval_timeout_seconds: float | None = None


class ApprovalWorkflow(
    WorkflowEntrypoint[ApprovalEnv, ApprovalParams], name="approval-with-auto-reject"
):
    """Record a pending approval, wait for a human, auto-reject when nobody answers."""

    async def run(self, event: WorkflowEvent[ApprovalParams], step: WorkflowStep) -> dict[str, Any]:
        params = event.payload
        env = self.env
        approval_id = event.instance_id

        await step.do("create approval", lambda: create_approval(env, approval_id, params.userId))
        try:
            approval = await step.wait_for_event(
                "wait for approval",
                type="approval-response",
                timeout=shortened(params.approval_timeout_seconds, "48h"),
            )
            payload = approval.payload if isinstance(approval.payload, dict) else {}
            if payload.get("approved"):
                await step.do("process approval", lambda: set_status(env, approval_id, "approved"))
                outcome = "approved"
            else:
                await step.do("handle rejection", lambda: set_status(env, approval_id, "rejected"))
                outcome = "rejected"
        except Exception as err:  # the seed's bare catch (e)
            await step.do("auto reject", lambda: set_status(env, approval_id, "auto-rejected"))
            return {"status": "auto-rejected", "reason": f"{type(err).__name__}: {err}"}
        return {"status": outcome}


# ------------------------------------------------------------------------------ demo run

EXAMPLE_PARAMS: Final[dict[str, Any]] = {"userId": "demo-user", "approval_timeout_seconds": 3}
EXPECTED_STATUS: Final = "complete"
#: No event: the demo shows the automatic rejection after the (shortened) timeout.
EVENTS: Final[list[tuple[float, str, object]]] = []


async def _demo_env(root: Path) -> ApprovalEnv:
    """An env for the demo run: a D1 file with the ``approvals`` table."""
    env = ApprovalEnv(DB=d1_database(root, "approvals"))
    await apply_schema(env.DB)
    return env


def make_env(data_dir: str | Path, client: Client, task_queue: str) -> ApprovalEnv:
    """The env of the demo run (the ``make_env`` hook of ``workflows/__init__.py``)."""
    return run_blocking(_demo_env(Path(data_dir)))
