"""Side effects of the parent-child workflows (seed 001, "Parent-Child Workflows").

Starting the child is the side effect: ``this.env.CHILD_WORKFLOW.create(...)`` through the
tempflare ``Workflow`` binding held in the env.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapter import InstanceAlreadyExistsError, Workflow


@dataclass
class ParentEnv:
    """``this.env`` of the parent: the child workflow's binding."""

    CHILD_WORKFLOW: Workflow[Any]


async def start_child(env: ParentEnv, child_id: str, data: Any) -> dict[str, str]:
    """Creates the child instance; an existing one with that id counts as started.

    A step may run more than once (a retry after the create succeeded but the step did not
    finish), so "already exists" is treated as success: the step is idempotent.

    Returns:
        ``{"id": child_id}`` (a ``WorkflowInstance`` is not a JSON step result).
    """
    try:
        child = await env.CHILD_WORKFLOW.create(id=child_id, params={"data": data})
    except InstanceAlreadyExistsError:
        return {"id": child_id, "existing": "yes"}
    return {"id": child.id}
