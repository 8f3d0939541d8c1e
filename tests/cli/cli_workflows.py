"""Workflows the CLI tests drive (loaded by ``tempflare dev`` and by the in-test workers)."""

from __future__ import annotations

import asyncio
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


class CliSaga(WorkflowEntrypoint[None, dict[str, Any]]):
    """Reserves a seat whose rollback takes ``hold`` seconds, then waits for a confirmation
    (``timeout``): a timeout, or ``terminate --rollback``, releases the seat."""

    async def run(self, event: WorkflowEvent[dict[str, Any]], step: WorkflowStep) -> str:
        hold = float(event.payload.get("hold", 0))

        async def release(output: Any) -> None:
            await asyncio.sleep(hold)

        seat = await step.do("reserve seat", lambda: "S-1", rollback=release)
        await step.wait_for_event("confirm", type="confirmed", timeout=event.payload["timeout"])
        return str(seat)
