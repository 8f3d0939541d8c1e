"""End-to-end tests of workflows/idempotency/order_upsert.py (seed 000's OrderUpsertWorkflow): the
``create order`` upsert leaves one row per order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from tests.examples.shared_env_harness import Harness, shared_env_harness
from tests.helpers import step_attempts
from workflows.idempotency.order_upsert import OrderUpsertWorkflow

pytestmark = pytest.mark.server


@pytest.fixture
async def h(tmp_path: Path, tempflare_client: Client, task_queue: str) -> AsyncIterator[Harness]:
    async with shared_env_harness(tmp_path, tempflare_client, task_queue) as harness:
        yield harness


async def test_creates_pending_order(tempflare_worker: Any, h: Harness) -> None:
    async with tempflare_worker(OrderUpsertWorkflow, env=h.env) as wf:
        instance = await wf.create(
            id="upsert-new", params={"orderId": "ORD-1", "userId": "u-1", "amount": 10.5}
        )
        assert await instance.handle.result() == {"orderId": "ORD-1"}

    [row] = await h.rows("SELECT * FROM orders")
    assert row["id"] == "ORD-1"
    assert (row["user_id"], row["amount"], row["status"]) == ("u-1", 10.5, "pending")
    assert row["created_at"] and row["updated_at"] is None
    assert [a.activity_id for a in await step_attempts(instance.handle)] == ["create order#1@1"]


async def test_repeat_updates_user_and_amount_but_keeps_status_and_created_at(
    tempflare_worker: Any, h: Harness
) -> None:
    async with tempflare_worker(OrderUpsertWorkflow, env=h.env) as wf:
        first = await wf.create(
            id="upsert-1", params={"orderId": "ORD-2", "userId": "u-1", "amount": 10}
        )
        await first.handle.result()
        [before] = await h.rows("SELECT * FROM orders WHERE id = ?", "ORD-2")
        await h.execute("UPDATE orders SET status = 'paid' WHERE id = ?", "ORD-2")

        second = await wf.create(
            id="upsert-2", params={"orderId": "ORD-2", "userId": "u-2", "amount": 25}
        )
        assert await second.handle.result() == {"orderId": "ORD-2"}

    [after] = await h.rows("SELECT * FROM orders")
    assert (after["user_id"], after["amount"]) == ("u-2", 25)
    assert after["status"] == "paid"  # not overwritten by the repeat
    assert after["created_at"] == before["created_at"]
    assert after["updated_at"] is not None


async def test_concurrent_instances_for_one_order_leave_one_row(
    tempflare_worker: Any, h: Harness
) -> None:
    async with tempflare_worker(OrderUpsertWorkflow, env=h.env) as wf:
        instances = await wf.create_batch(
            [
                {"id": f"upsert-c{n}", "params": {"orderId": "ORD-3", "userId": "u", "amount": n}}
                for n in range(5)
            ]
        )
        results = await asyncio.gather(*(i.handle.result() for i in instances))

    assert results == [{"orderId": "ORD-3"}] * 5
    rows = await h.rows("SELECT id, amount FROM orders")
    assert len(rows) == 1
    assert rows[0]["amount"] in range(5)
