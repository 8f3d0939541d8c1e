"""End-to-end tests of workflows/idempotency/charge_with_idempotency_key.py (seed 000's
PaymentWorkflow): idempotency key, KV-cached result, gateway failures, declines."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, WorkflowFailureError

from activities.idempotency.charge_with_idempotency_key import payment_cache_key
from tests.examples.shared_env_harness import FAST_RETRIES, Harness, shared_env_harness
from tests.helpers import step_attempts
from workflows.idempotency.charge_with_idempotency_key import PaymentWorkflow

pytestmark = pytest.mark.server


@pytest.fixture
async def h(tmp_path: Path, tempflare_client: Client, task_queue: str) -> AsyncIterator[Harness]:
    async with shared_env_harness(tmp_path, tempflare_client, task_queue) as harness:
        yield harness


async def run_payment(tempflare_worker: Any, h: Harness, iid: str, **params: Any) -> Any:
    params = {"orderId": "ORD-1", "amount": 99.99, **params}
    async with tempflare_worker(PaymentWorkflow, env=h.env, **FAST_RETRIES) as wf:
        instance = await wf.create(id=iid, params=params)
        try:
            await instance.handle.result()
        except WorkflowFailureError:
            pass
        return instance, await instance.status()


async def test_charges_with_idempotency_key_and_caches_result(
    tempflare_worker: Any, h: Harness
) -> None:
    instance, status = await run_payment(tempflare_worker, h, "pay-happy")

    assert status.status == "complete"
    assert status.output == {"orderId": "ORD-1", "transactionId": "TXN-1"}
    [charge] = h.gateway.requests("POST", "/charge")
    assert charge.header("Idempotency-Key") == "pay-happy-charge-payment"
    assert charge.json() == {"orderId": "ORD-1", "amount": 99.99}
    cached = await h.env.KV.get(payment_cache_key("pay-happy-charge-payment"), "json")
    assert cached == h.gateway.charges["pay-happy-charge-payment"]
    assert cached["transactionId"] == "TXN-1"
    assert [a.activity_id for a in await step_attempts(instance.handle)] == ["charge payment#1@1"]


async def test_cached_payment_is_returned_without_charging_again(
    tempflare_worker: Any, h: Harness
) -> None:
    # A previous execution of the step charged and cached, but its result was never recorded.
    cached = {"transactionId": "TXN-CACHED", "status": "success"}
    await h.env.KV.put(
        payment_cache_key("pay-cached-charge-payment"), json.dumps(cached), {"expirationTtl": 86400}
    )

    _, status = await run_payment(tempflare_worker, h, "pay-cached")

    assert status.status == "complete"
    assert status.output == {"orderId": "ORD-1", "transactionId": "TXN-CACHED"}
    assert h.gateway.count() == 0
    assert h.gateway.charges == {}


async def test_lost_gateway_response_is_retried_with_the_same_key(
    tempflare_worker: Any, h: Harness
) -> None:
    h.gateway.fail_after_charge(1)  # charged, but the answer is a 500

    instance, status = await run_payment(tempflare_worker, h, "pay-lost-response")

    assert status.status == "complete"
    assert status.output == {"orderId": "ORD-1", "transactionId": "TXN-1"}
    keys = [r.header("Idempotency-Key") for r in h.gateway.requests("POST", "/charge")]
    assert keys == ["pay-lost-response-charge-payment"] * 2
    assert len(h.gateway.charges) == 1  # charged once
    attempts = await step_attempts(instance.handle)
    assert [a.failed for a in attempts] == [True, False]


async def test_timed_out_charge_is_retried_with_the_same_key(
    tempflare_worker: Any, h: Harness
) -> None:
    h.gateway.answer_late_after_charge(2.0)  # charged, answer arrives after the step timeout
    config = {"retries": {"limit": 2, "delay": "100 milliseconds"}, "timeout": "500 milliseconds"}

    instance, status = await run_payment(tempflare_worker, h, "pay-timeout", chargeConfig=config)

    assert status.status == "complete"
    assert status.output == {"orderId": "ORD-1", "transactionId": "TXN-1"}
    assert h.gateway.count("POST", "/charge") == 2
    assert len(h.gateway.charges) == 1
    attempts = await step_attempts(instance.handle)
    assert [a.failed for a in attempts] == [True, False]


async def test_declined_card_errors_at_once_and_is_not_cached(
    tempflare_worker: Any, h: Harness
) -> None:
    h.gateway.declined_orders.add("ORD-DECLINED")

    _, status = await run_payment(tempflare_worker, h, "pay-declined", orderId="ORD-DECLINED")

    assert status.status == "errored"
    assert status.error is not None
    assert status.error.name == "PaymentDeclined"
    assert status.error.message.startswith("Payment declined (402): ")
    assert "card_declined" in status.error.message
    assert h.gateway.count("POST", "/charge") == 1  # not retried
    assert await h.env.KV.get(payment_cache_key("pay-declined-charge-payment")) is None


async def test_gateway_outage_exhausts_default_retries(tempflare_worker: Any, h: Harness) -> None:
    h.gateway.fail_next(99, status=503)

    _, status = await run_payment(tempflare_worker, h, "pay-outage")

    assert status.status == "errored"
    assert status.error is not None
    assert (status.error.name, status.error.message) == (
        "PaymentGatewayError",
        "Payment gateway error: 503",
    )
    assert h.gateway.count("POST", "/charge") == 6  # Cloudflare's default: 5 retries


async def test_unreachable_gateway_is_retried(tempflare_worker: Any, h: Harness) -> None:
    h.gateway.drop_next(1)  # connection closed without an answer: a network error

    instance, status = await run_payment(tempflare_worker, h, "pay-network")

    assert status.status == "complete"
    assert status.output["transactionId"] == "TXN-1"
    assert h.gateway.count("POST", "/charge") == 2
    assert [a.failed for a in await step_attempts(instance.handle)] == [True, False]
