"""A parent that starts a child workflow under a derived id and goes on without waiting for it.

Ports seed 001, "Orchestration Patterns / Parent-Child Workflows". (For a parent that waits for
its child, see :mod:`workflows.orchestration.wait_for_child`.)

TypeScript::

    const child = await step.do('start child', async () => await this.env.CHILD_WORKFLOW.create(
        {id: `child-${event.instanceId}`, params: { data: result.data }}));
    await step.do('other work', async () => console.log(`Child started: ${child.id}`));

``result`` is not defined in the seed; here it is the output of a first step, ``prepare data``.
The ``start child`` step returns ``{"id"}`` (a ``WorkflowInstance`` handle is not a JSON step
result) and treats an existing ``child-<parent id>`` instance as already started, which keeps
the step idempotent. The parent does not wait for the child (fire-and-forget, as in the seed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from temporalio.client import Client

from activities.orchestration.fire_and_forget_child import ParentEnv, start_child
from adapter import Workflow, WorkflowEntrypoint, WorkflowEvent, WorkflowStep


class ChildWorkflow(WorkflowEntrypoint[None, dict[str, Any]], name="fire-and-forget-child"):
    """The child: processes the data its parent handed over."""

    async def run(self, event: WorkflowEvent[dict[str, Any]], step: WorkflowStep) -> dict[str, Any]:
        data = event.payload.get("data")
        return await step.do("process data", lambda: {"processed": data, "by": event.instance_id})


class ParentWorkflow(WorkflowEntrypoint[ParentEnv, dict[str, Any]], name="fire-and-forget-parent"):
    """The parent: prepares data, starts a child with it, carries on with other work."""

    async def run(self, event: WorkflowEvent[dict[str, Any]], step: WorkflowStep) -> dict[str, Any]:
        env = self.env
        items = event.payload.get("items", [])
        result = await step.do("prepare data", lambda: {"data": sorted(items)})
        child = await step.do(
            "start child",
            lambda: start_child(env, f"child-{event.instance_id}", result["data"]),
        )
        message = await step.do("other work", lambda: f"Child started: {child['id']}")
        return {"child": child, "message": message}


# ------------------------------------------------------------------------------ demo run

EXAMPLE_PARAMS: Final[dict[str, Any]] = {"items": [3, 1, 2]}
EXPECTED_STATUS: Final = "complete"
EVENTS: Final[list[tuple[float, str, object]]] = []


DEMO_WORKFLOW: Final = ParentWorkflow


def make_env(data_dir: str | Path, client: Client, task_queue: str) -> ParentEnv:
    """The env of the demo run: the child's binding on ``task_queue``.

    The worker on ``task_queue`` must run both ``ParentWorkflow`` and ``ChildWorkflow``.
    """
    return ParentEnv(CHILD_WORKFLOW=Workflow(client, ChildWorkflow, task_queue=task_queue))
