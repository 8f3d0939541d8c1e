"""An order written with an upsert, so a repeated step leaves one row.

Ports seed 000, "Idempotency Patterns / Pattern 2: Database Upsert for Idempotency".

The seed shows one step, ``create order``, that writes the order with ``INSERT ... ON
CONFLICT(id) DO UPDATE`` so that a retried or repeated step leaves one row. It is wrapped here in
``OrderUpsertWorkflow``, whose params carry the ``orderId``, ``userId`` and ``amount`` the fragment
uses; the SQL lives in :mod:`activities.idempotency.order_upsert`.
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel

from activities.idempotency.order_upsert import upsert_order
from adapter import WorkflowEntrypoint, WorkflowEvent, WorkflowStep
from workflows._shared_env import SharedEnv


class OrderUpsertParams(BaseModel):
    orderId: str
    userId: str
    amount: float


class OrderUpsertWorkflow(WorkflowEntrypoint[SharedEnv, OrderUpsertParams], name="order-upsert"):
    async def run(
        self, event: WorkflowEvent[OrderUpsertParams], step: WorkflowStep
    ) -> dict[str, str]:
        order_id, user_id, amount = (
            event.payload.orderId,
            event.payload.userId,
            event.payload.amount,
        )

        async def create_order() -> dict[str, str]:
            # Use INSERT ... ON CONFLICT to make idempotent
            await upsert_order(self.env.DB, order_id, user_id, amount)
            return {"orderId": order_id}

        return await step.do("create order", create_order)


WORKFLOW: Final = OrderUpsertWorkflow
EXAMPLE_PARAMS: Final[dict[str, Any]] = {"orderId": "ORD-123", "userId": "user-1", "amount": 42.5}
EXPECTED_STATUS: Final = "complete"
EVENTS: Final[list[tuple[float, str, Any]]] = []

from workflows._shared_env import make_env as make_env  # noqa: E402  (the main job's env)
