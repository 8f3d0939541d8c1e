"""Seed 000, "Workflow Chaining Patterns / Pattern 1: Parent-Child Workflows": ``OrderWorkflow``.

The parent starts a ``PaymentWorkflow`` child through the ``env.PAYMENT_WORKFLOW`` binding
(``start payment workflow``), then polls it: ``wait for payment`` (30 seconds, ``pollInterval``
here) and ``check payment status``, repeated (the steps are numbered ``-1``, ``-2``... as in
Cloudflare) until the child is ``complete``, or raises ``PaymentFailedError("Payment failed:
...")`` when it is ``errored``. It then starts a ``FulfillmentWorkflow`` child
(``start fulfillment workflow``) without waiting for it and returns ``{orderId, status:
"processing"}``. The binding calls live in :mod:`activities.seed000_orchestration`.

Differences from the TypeScript: ``${paymentStatus.error}`` of an ``{name, message}`` object reads
``[object Object]`` in JavaScript; here the message holds the child's ``name: message``. The
TypeScript's ``new Error(...)`` is ``PaymentFailedError``, so that is the instance's error name.
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel

from activities.seed000_orchestration import (
    payment_status,
    start_fulfillment_workflow,
    start_payment_workflow,
)
from adapter import WorkflowEntrypoint, WorkflowEvent, WorkflowStep
from adapter._shared.durations import Duration

from .seed000_env import Seed000Env


class PaymentFailedError(Exception):
    """The payment child workflow errored."""


class OrderParams(BaseModel):
    orderId: str
    amount: float
    #: Time between payment status checks (the seed's "30 seconds").
    pollInterval: Duration = "30 seconds"


class OrderWorkflow(WorkflowEntrypoint[Seed000Env, OrderParams], name="seed000.OrderWorkflow"):
    async def run(self, event: WorkflowEvent[OrderParams], step: WorkflowStep) -> dict[str, Any]:
        order_id = event.payload.orderId

        # Step 1: Process payment (separate workflow)
        async def start_payment() -> dict[str, str]:
            return await start_payment_workflow(
                self.env.PAYMENT_WORKFLOW, order_id, event.payload.amount
            )

        payment_workflow = await step.do("start payment workflow", start_payment)

        # Step 2: Wait for payment to complete
        payment_complete = False

        while not payment_complete:
            await step.sleep("wait for payment", event.payload.pollInterval)

            async def check_payment() -> dict[str, Any]:
                return await payment_status(
                    self.env.PAYMENT_WORKFLOW, payment_workflow["instanceId"]
                )

            status = await step.do("check payment status", check_payment)

            if status["status"] == "complete":
                payment_complete = True
            elif status["status"] == "errored":
                error = status.get("error") or {}
                raise PaymentFailedError(
                    f"Payment failed: {error.get('name')}: {error.get('message')}"
                )

        # Step 3: Start fulfillment workflow
        async def start_fulfillment() -> None:
            await start_fulfillment_workflow(self.env.FULFILLMENT_WORKFLOW, order_id)

        await step.do("start fulfillment workflow", start_fulfillment)

        return {"orderId": order_id, "status": "processing"}


WORKFLOW: Final = OrderWorkflow
EXAMPLE_PARAMS: Final[dict[str, Any]] = {
    "orderId": "ORD-456",
    "amount": 120.0,
    "pollInterval": "1 second",
}
EXPECTED_STATUS: Final = "complete"
EVENTS: Final[list[tuple[float, str, Any]]] = []

from workflows.seed000_env import make_env as make_env  # noqa: E402  (the main job's env)
