"""Side effects of the payment workflow (seed 000, "Idempotency Patterns / Pattern 1").

``charge_payment`` is the body of the ``charge payment`` step: look the idempotency key up in
KV, otherwise charge through the payment gateway with an ``Idempotency-Key`` header, then cache
the gateway's answer in KV for 24 hours.
"""

from __future__ import annotations

import json
from typing import Any, Final

import structlog

from adapter import NonRetryableError
from adapter.bindings import Fetcher, KVNamespace

log = structlog.get_logger(__name__)

#: How long a payment result stays cached in KV (the seed's 24 hours).
PAYMENT_CACHE_TTL_SECONDS: Final = 86400


class PaymentGatewayError(Exception):
    """The gateway answered with a server error (5xx): the charge attempt is retried."""


def payment_cache_key(idempotency_key: str) -> str:
    return f"payment:{idempotency_key}"


async def charge_payment(
    kv: KVNamespace, gateway: Fetcher, idempotency_key: str, order_id: str, amount: float
) -> dict[str, Any]:
    """Charges ``amount`` for ``order_id`` exactly once per idempotency key.

    Returns:
        The gateway's JSON answer (``{"transactionId": ..., "status": ...}``), from the KV cache
        when a previous attempt already stored it.

    Raises:
        NonRetryableError: named ``PaymentDeclined``, when the gateway refuses the charge (4xx).
        PaymentGatewayError: the gateway failed (5xx); the step retries with the same key.
        FetchError: the gateway could not be reached; the step retries with the same key.
    """
    # Check if already processed
    existing = await kv.get(payment_cache_key(idempotency_key))
    if existing:
        log.info(
            "Payment already processed, returning cached result", idempotency_key=idempotency_key
        )
        cached: dict[str, Any] = json.loads(existing)
        return cached

    # Process payment
    response = await gateway.fetch(
        "/charge",
        {
            "method": "POST",
            "headers": {
                "Idempotency-Key": idempotency_key,  # Payment gateway checks this
                "Content-Type": "application/json",
            },
            "body": json.dumps({"orderId": order_id, "amount": amount}),
        },
    )
    if not response.ok:
        text = await response.text()
        if 400 <= response.status < 500:
            raise NonRetryableError(
                f"Payment declined ({response.status}): {text}", "PaymentDeclined"
            )
        raise PaymentGatewayError(f"Payment gateway error: {response.status}")

    result: dict[str, Any] = await response.json()

    # Cache result
    await kv.put(
        payment_cache_key(idempotency_key),
        json.dumps(result),
        {"expirationTtl": PAYMENT_CACHE_TTL_SECONDS},  # 24 hours
    )
    log.info(
        "Payment charged",
        idempotency_key=idempotency_key,
        transaction_id=result.get("transactionId"),
    )
    return result
