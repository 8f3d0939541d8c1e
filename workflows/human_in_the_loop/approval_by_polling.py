"""Approval by polling: sleep, then ask an approval system once whether the request was approved.

Ports seed 003, "Common Patterns / Human-in-the-Loop".

TypeScript::

    await step.do('process data', async () => { /* ... */ });
    await step.sleep('wait for approval', '1 hour');
    const approved = await step.do('check approval', async () => { /* Query approval system */
                                                                    return true; });
    if (approved) { await step.do('finalize', async () => { /* ... */ }); }

The elided bodies are filled in: ``process data`` returns a digest of the params, ``check
approval`` asks an HTTP approval system (``env.APPROVALS_URL``) about this instance, and
``finalize`` reports back to it. ``wait_seconds`` shortens the 1-hour sleep. Unlike
``approval_with_auto_reject`` (``waitForEvent``), the decision is read once, after the sleep: a late
approval is missed.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel
from temporalio.client import Client

from activities.human_in_the_loop.approval_by_polling import (
    ApprovalSystemEnv,
    check_approval,
    finalize,
)
from adapter import WorkflowEntrypoint, WorkflowEvent, WorkflowStep
from workflows._helpers import run_blocking, shortened


class PollParams(BaseModel):
    """``event.payload``: the data to process, plus the sleep knob."""

    data: dict[str, Any] = {}
    #: Shortens the seed's 1-hour wait before checking.
    wait_seconds: float | None = None


class ApprovalPollWorkflow(
    WorkflowEntrypoint[ApprovalSystemEnv, PollParams], name="approval-by-polling"
):
    """Do the automated work, wait, then finalize only if the approval system says yes."""

    async def run(self, event: WorkflowEvent[PollParams], step: WorkflowStep) -> dict[str, Any]:
        env = self.env
        request_id = event.instance_id
        data = event.payload.data

        processed = await step.do(
            "process data",
            lambda: {
                "digest": hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
            },
        )
        await step.sleep("wait for approval", shortened(event.payload.wait_seconds, "1 hour"))
        approved = await step.do("check approval", lambda: check_approval(env, request_id))
        if approved:
            await step.do("finalize", lambda: finalize(env, request_id))
        return {"approved": approved, **processed}


# ------------------------------------------------------------------------------ demo run

EXAMPLE_PARAMS: Final[dict[str, Any]] = {"data": {"invoice": 42}, "wait_seconds": 2}
EXPECTED_STATUS: Final = "complete"
EVENTS: Final[list[tuple[float, str, object]]] = []


async def _demo_env(root: Path) -> ApprovalSystemEnv:
    """An env for the demo run: the demo approval system, which approves everything."""
    from activities._demo.demo_server import ensure_demo_services

    return ApprovalSystemEnv(APPROVALS_URL=ensure_demo_services())


def make_env(data_dir: str | Path, client: Client, task_queue: str) -> ApprovalSystemEnv:
    """A worker's env: the approval system at ``$APPROVALS_URL``."""
    return ApprovalSystemEnv(
        APPROVALS_URL=os.environ.get("APPROVALS_URL") or "https://approvals.example.com"
    )


def make_demo_env(data_dir: str | Path, client: Client, task_queue: str) -> ApprovalSystemEnv:
    """The env of the main job's demo run, with its stand-in services (the ``make_demo_env``
    hook of ``workflows/__init__.py``)."""
    return run_blocking(_demo_env(Path(data_dir)))
