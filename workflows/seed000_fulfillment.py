"""Seed 000, "Workflow Chaining Patterns / Pattern 1": the fulfilment child workflow.

The seed's ``OrderWorkflow`` starts ``env.FULFILLMENT_WORKFLOW`` with ``{orderId}`` but does not
show it; this minimal ``FulfillmentWorkflow`` records the order's shipment in D1
(``create shipment``, :mod:`activities.seed000_orchestration`).
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel

from activities.seed000_orchestration import create_shipment
from adapter import WorkflowEntrypoint, WorkflowEvent, WorkflowStep

from .seed000_env import Seed000Env


class FulfillmentParams(BaseModel):
    orderId: str


class FulfillmentWorkflow(
    WorkflowEntrypoint[Seed000Env, FulfillmentParams], name="seed000.FulfillmentWorkflow"
):
    async def run(
        self, event: WorkflowEvent[FulfillmentParams], step: WorkflowStep
    ) -> dict[str, str]:
        order_id = event.payload.orderId

        async def ship() -> dict[str, str]:
            return await create_shipment(self.env.DB, order_id)

        return await step.do("create shipment", ship)


WORKFLOW: Final = FulfillmentWorkflow
EXAMPLE_PARAMS: Final[dict[str, Any]] = {"orderId": "ORD-123"}
EXPECTED_STATUS: Final = "complete"
EVENTS: Final[list[tuple[float, str, Any]]] = []

from workflows.seed000_env import make_env as make_env  # noqa: E402  (the main job's env)
