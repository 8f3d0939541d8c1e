"""Workflows the CLI tests drive (loaded by ``tempflare dev`` and by the in-test workers)."""

from __future__ import annotations

from typing import Any

from adapter import WorkflowEntrypoint, WorkflowEvent, WorkflowStep


class CliOrder(WorkflowEntrypoint[None, dict[str, Any]]):
    """Loads an order, cools down, waits for approval, then ships it."""

    async def run(self, event: WorkflowEvent[dict[str, Any]], step: WorkflowStep) -> dict[str, Any]:
        order = await step.do("load order", lambda: {"order": event.payload["order"], "total": 42})
        await step.sleep("cool down", "1 second")
        approval = await step.wait_for_event("approval", type="approved", timeout="1 hour")
        shipped = await step.do(
            "ship", lambda: {"shipped": order["order"], "by": approval.payload["by"]}
        )
        return {"status": "shipped", **shipped}
