"""Side effects of the parent/child order workflows (seed 000, "Workflow Chaining Patterns /
Pattern 1"): starting child instances through workflow bindings, reading their status, and the
fulfilment child's own shipment record.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from adapter import Workflow
from adapter.bindings import D1Database


async def start_payment_workflow(
    payments: Workflow[Any], order_id: str, amount: float
) -> dict[str, str]:
    """``env.PAYMENT_WORKFLOW.create({params: {orderId, amount}})``; returns ``{instanceId}``."""
    instance = await payments.create(params={"orderId": order_id, "amount": amount})
    return {"instanceId": instance.id}


async def payment_status(payments: Workflow[Any], instance_id: str) -> dict[str, Any]:
    """``(await env.PAYMENT_WORKFLOW.get(id)).status()`` as a JSON object."""
    instance = await payments.get(instance_id)
    details = await instance.status()
    return details.model_dump(mode="json")


async def start_fulfillment_workflow(fulfillments: Workflow[Any], order_id: str) -> None:
    """``env.FULFILLMENT_WORKFLOW.create({params: {orderId}})``."""
    await fulfillments.create(params={"orderId": order_id})


async def create_shipment(db: D1Database, order_id: str) -> dict[str, str]:
    """Records the order's shipment (once); returns it."""
    now = datetime.now(UTC).isoformat()
    await (
        db.prepare(
            "INSERT INTO fulfillments (order_id, status, created_at) VALUES (?, ?, ?) "
            "ON CONFLICT(order_id) DO NOTHING"
        )
        .bind(order_id, "shipped", now)
        .run()
    )
    return {"orderId": order_id, "status": "shipped"}
