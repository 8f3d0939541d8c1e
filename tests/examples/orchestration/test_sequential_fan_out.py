"""End-to-end tests of workflows/orchestration/sequential_fan_out.py (seed 003, "Common Patterns /
Fan-out Processing")."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import step_attempts
from workflows.orchestration.sequential_fan_out import SequentialFanOutWorkflow

pytestmark = pytest.mark.server


async def test_items_are_processed_one_step_each_in_order(tempflare_worker: Any) -> None:
    async with tempflare_worker(SequentialFanOutWorkflow) as wf:
        seed_items = await (await wf.create(id="seq-default")).handle.result()
        instance = await wf.create(id="seq-custom", params={"items": ["b", "a", "c", "a"]})
        custom = await instance.handle.result()
    assert seed_items == {"results": [{"processed": f"item{i}"} for i in (1, 2, 3)]}
    assert custom == {"results": [{"processed": x} for x in ("b", "a", "c", "a")]}
    attempts = await step_attempts(instance.handle)
    # a repeated name is numbered in call order, as in Cloudflare
    assert [a.activity_id for a in attempts] == [
        "fetch items#1@1",
        "process-b#1@1",
        "process-a#1@1",
        "process-c#1@1",
        "process-a#2@1",
    ]
