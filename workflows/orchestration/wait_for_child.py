"""A parent workflow that starts a child and waits for it, by polling its status, before going on.

Ports seed 000, "Workflow Chaining Patterns / Pattern 1: Parent-Child Workflows": ``OrderWorkflow``
and, because the seed starts but does not show it, a minimal ``FulfillmentWorkflow`` child. (For
a child the parent does not wait for, see :mod:`workflows.orchestration.fire_and_forget_child`.)

``OrderWorkflow`` starts a ``PaymentWorkflow`` child
(:mod:`workflows.idempotency.charge_with_idempotency_key`) through the ``env.PAYMENT_WORKFLOW``
binding (``start payment workflow``), then polls it: ``wait for payment`` (30 seconds,
``pollInterval`` here) and ``check payment status``, repeated (the steps are numbered ``-1``,
``-2``... as in Cloudflare) until the child is ``complete``, or raises
``PaymentFailedError("Payment failed: ...")`` when it is ``errored``. It then starts a
``FulfillmentWorkflow`` child (``start fulfillment workflow``) without waiting for it and returns
``{orderId, status: "processing"}``. ``FulfillmentWorkflow`` records the order's shipment in D1
(``create shipment``). The binding calls and the shipment live in
:mod:`activities.orchestration.wait_for_child`.

Differences from the TypeScript: ``${paymentStatus.error}`` of an ``{name, message}`` object reads
``[object Object]`` in JavaScript; here the message holds the child's ``name: message``. The
TypeScript's ``new Error(...)`` is ``PaymentFailedError``, so that is the instance's error name.
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel

from activities.orchestration.wait_for_child import (
    create_shipment,
    payment_status,
    start_fulfillment_workflow,
    start_payment_workflow,
)
from adapter import Duration, WorkflowEntrypoint, WorkflowEvent, WorkflowStep
from workflows._shared_env import SharedEnv


class PaymentFailedError(Exception):
    """The payment child workflow errored."""


class OrderParams(BaseModel):
    orderId: str
    amount: float
    #: Time between payment status checks (the seed's "30 seconds").
    pollInterval: Duration = "30 seconds"


class OrderWorkflow(WorkflowEntrypoint[SharedEnv, OrderParams], name="order-with-payment-child"):
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


class FulfillmentParams(BaseModel):
    orderId: str


class FulfillmentWorkflow(
    WorkflowEntrypoint[SharedEnv, FulfillmentParams], name="order-fulfillment-child"
):
    """The child ``OrderWorkflow`` starts last and does not wait for."""

    async def run(
        self, event: WorkflowEvent[FulfillmentParams], step: WorkflowStep
    ) -> dict[str, str]:
        order_id = event.payload.orderId

        async def ship() -> dict[str, str]:
            return await create_shipment(self.env.DB, order_id)

        return await step.do("create shipment", ship)


WORKFLOW: Final = OrderWorkflow
DEMO_WORKFLOW: Final = OrderWorkflow
EXAMPLE_PARAMS: Final[dict[str, Any]] = {
    "orderId": "ORD-456",
    "amount": 120.0,
    "pollInterval": "1 second",
}
EXPECTED_STATUS: Final = "complete"
EVENTS: Final[list[tuple[float, str, Any]]] = []

from workflows._shared_env import make_env as make_env  # noqa: E402  (the main job's env)
