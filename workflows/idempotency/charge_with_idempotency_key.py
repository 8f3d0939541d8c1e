"""A payment charged with an idempotency key, so a retried step never charges twice.

Ports seed 000, "Idempotency Patterns / Pattern 1: Idempotency Keys": ``PaymentWorkflow``. It is
also the child of :mod:`workflows.orchestration.wait_for_child`.

The ``charge payment`` step derives an idempotency key from the instance id, returns the result
cached in KV when a previous attempt already charged, and otherwise charges through the payment
gateway with an ``Idempotency-Key`` header and caches the answer for 24 hours. The gateway side
lives in :mod:`activities.idempotency.charge_with_idempotency_key`.

Differences from the TypeScript: the seed caches whatever JSON the gateway answers, error bodies
included; here a 4xx answer fails the step with ``NonRetryableError`` named ``PaymentDeclined``
(a declined card is not retried) and a 5xx answer raises ``PaymentGatewayError`` (retried with the
same key), and neither is cached. ``chargeConfig`` lets callers replace the step's default retry
config (the seed passes none).
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel

from activities.idempotency.charge_with_idempotency_key import charge_payment
from adapter import WorkflowEntrypoint, WorkflowEvent, WorkflowStep
from workflows._shared_env import SharedEnv


class PaymentParams(BaseModel):
    orderId: str
    amount: float
    #: Step config of ``charge payment``; ``None`` keeps Cloudflare's defaults, as in the seed.
    chargeConfig: dict[str, Any] | None = None


class PaymentWorkflow(
    WorkflowEntrypoint[SharedEnv, PaymentParams], name="payment-with-idempotency-key"
):
    async def run(self, event: WorkflowEvent[PaymentParams], step: WorkflowStep) -> dict[str, Any]:
        order_id, amount = event.payload.orderId, event.payload.amount

        # Generate idempotency key from workflow instance ID + step name
        idempotency_key = f"{event.instanceId}-charge-payment"

        async def charge() -> dict[str, Any]:
            return await charge_payment(
                self.env.KV, self.env.PAYMENT_GATEWAY, idempotency_key, order_id, amount
            )

        payment_result = await step.do("charge payment", event.payload.chargeConfig, charge)

        return {"orderId": order_id, "transactionId": payment_result["transactionId"]}


WORKFLOW: Final = PaymentWorkflow
EXAMPLE_PARAMS: Final[dict[str, Any]] = {"orderId": "ORD-123", "amount": 99.99}
EXPECTED_STATUS: Final = "complete"
EVENTS: Final[list[tuple[float, str, Any]]] = []

from workflows._shared_env import make_env as make_env  # noqa: E402  (the main job's env)
