"""End-to-end tests of workflows/orchestration/wait_for_child.py (seed 000's OrderWorkflow): a
payment child polled to completion, then a fulfilment child."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, WorkflowFailureError

from tests.examples.shared_env_harness import FAST_RETRIES, Harness, shared_env_harness
from tests.helpers import eventually, step_attempts, timers
from workflows.idempotency.charge_with_idempotency_key import PaymentWorkflow
from workflows.orchestration.wait_for_child import FulfillmentWorkflow, OrderWorkflow

pytestmark = pytest.mark.server

SUFFIX = "-charge-payment"


@pytest.fixture
async def h(tmp_path: Path, tempflare_client: Client, task_queue: str) -> AsyncIterator[Harness]:
    async with shared_env_harness(tmp_path, tempflare_client, task_queue) as harness:
        yield harness


async def run_order(tempflare_worker: Any, h: Harness, iid: str, order_id: str) -> Any:
    params = {"orderId": order_id, "amount": 120.0, "pollInterval": "200 milliseconds"}
    async with tempflare_worker(
        OrderWorkflow, PaymentWorkflow, FulfillmentWorkflow, env=h.env, **FAST_RETRIES
    ) as wf:
        instance = await wf.create(id=iid, params=params)
        try:
            await instance.handle.result()
        except WorkflowFailureError:
            pass
        status = await instance.status()
        if status.status == "complete":  # the fulfilment child runs on after the parent
            await eventually(lambda: shipments(h), bool)
        return instance, status


async def shipments(h: Harness) -> list[dict[str, Any]]:
    return await h.rows("SELECT order_id, status FROM fulfillments")


def payment_child_id(h: Harness) -> str:
    [key] = {r.header("Idempotency-Key") for r in h.gateway.requests("POST", "/charge")}
    assert key is not None and key.endswith(SUFFIX)
    return key.removesuffix(SUFFIX)


async def test_paid_order_starts_fulfillment(tempflare_worker: Any, h: Harness) -> None:
    instance, status = await run_order(tempflare_worker, h, "order-ok", "ORD-1")

    assert status.status == "complete"
    assert status.output == {"orderId": "ORD-1", "status": "processing"}
    # the payment child charged the order through the gateway and completed
    [charge] = h.gateway.requests("POST", "/charge")
    assert charge.json() == {"orderId": "ORD-1", "amount": 120.0}
    child = await h.env.PAYMENT_WORKFLOW.get(payment_child_id(h))
    child_status = await child.status()
    assert child_status.status == "complete"
    assert child_status.output == {"orderId": "ORD-1", "transactionId": "TXN-1"}
    # the fulfilment child shipped it
    assert await shipments(h) == [{"order_id": "ORD-1", "status": "shipped"}]
    names = [a.activity_id.split("#")[0] for a in await step_attempts(instance.handle)]
    assert names[0] == "start payment workflow"
    assert names[-1] == "start fulfillment workflow"
    assert set(names[1:-1]) == {"check payment status"}


async def test_parent_polls_until_a_slow_payment_completes(
    tempflare_worker: Any, h: Harness
) -> None:
    h.gateway.delay_next(1, 1.5)  # the child's charge takes 1.5 s; the parent polls every 0.2 s

    instance, status = await run_order(tempflare_worker, h, "order-slow", "ORD-2")

    assert status.status == "complete"
    assert h.gateway.count("POST", "/charge") == 1
    polls = [
        a.activity_id
        for a in await step_attempts(instance.handle)
        if a.activity_id.startswith("check payment status")
    ]
    # duplicate step names are numbered in call order
    assert len(polls) >= 2
    assert polls == [f"check payment status#{n}@1" for n in range(1, len(polls) + 1)]
    waits = [t for t in await timers(instance.handle) if t.summary.startswith("wait for payment")]
    assert len(waits) == len(polls)
    assert waits[1].summary == "wait for payment #2"
    assert await shipments(h) == [{"order_id": "ORD-2", "status": "shipped"}]


async def test_failed_payment_errors_the_order_without_fulfillment(
    tempflare_worker: Any, h: Harness
) -> None:
    h.gateway.declined_orders.add("ORD-3")

    _, status = await run_order(tempflare_worker, h, "order-declined", "ORD-3")

    assert status.status == "errored"
    assert status.error is not None
    assert status.error.name == "PaymentFailedError"
    assert status.error.message.startswith(
        "Payment failed: PaymentDeclined: Payment declined (402)"
    )
    child = await h.env.PAYMENT_WORKFLOW.get(payment_child_id(h))
    assert (await child.status()).status == "errored"
    assert await shipments(h) == []
