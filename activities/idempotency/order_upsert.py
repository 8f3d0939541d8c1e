"""Side effects of the order upsert (seed 000, "Idempotency Patterns / Pattern 2").

``upsert_order`` is the body of the ``create order`` step: an ``INSERT ... ON CONFLICT(id) DO
UPDATE`` that can run any number of times and still leaves exactly one row per order.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from adapter.bindings import D1Database

UPSERT_ORDER_SQL: Final = """
    INSERT INTO orders (id, user_id, amount, status, created_at)
    VALUES (?, ?, ?, ?, ?)
    ON CONFLICT(id) DO UPDATE SET
      user_id = excluded.user_id,
      amount = excluded.amount,
      updated_at = CURRENT_TIMESTAMP
"""


async def upsert_order(db: D1Database, order_id: str, user_id: str, amount: float) -> None:
    """Creates the order as ``pending``, or updates its user and amount if it exists.

    A repeat keeps the original ``status`` and ``created_at`` and sets ``updated_at``.
    """
    await (
        db.prepare(UPSERT_ORDER_SQL)
        .bind(order_id, user_id, amount, "pending", datetime.now(UTC).isoformat())
        .run()
    )
