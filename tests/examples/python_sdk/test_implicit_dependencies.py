"""End to end: workflows/python_sdk/implicit_dependencies.py (dependencies by parameter name)."""

from __future__ import annotations

from typing import Any

import pytest

from adapter.workers.workflows import Workflow
from tests.helpers import eventually, step_attempts, timers
from workflows.python_sdk.implicit_dependencies import EXAMPLE_PARAMS, ChargeAndReport

pytestmark = pytest.mark.server


async def test_a_shared_dependency_runs_once_and_the_event_completes_it(
    tempflare_worker: Any,
) -> None:
    async with tempflare_worker(ChargeAndReport) as native:
        binding = Workflow(native)
        instance = await binding.create({"id": "implicit-1", "params": EXAMPLE_PARAMS})
        await eventually(instance.status, lambda s: s["status"] == "waiting", timeout=30)
        await eventually(
            lambda: timers(instance.native.handle),
            lambda ts: any(t.summary == "approval" for t in ts),
        )
        await instance.send_event({"type": "approved", "payload": {"by": "test"}})
        status = await eventually(instance.status, lambda s: s["status"] == "complete")
        refused = await binding.create({"params": {"userId": "", "coolDown": "1 second"}})
        errored = await eventually(refused.status, lambda s: s["status"] == "errored")
    assert status["output"] == {
        "report": {"user": "user-demo", "charged_on_attempt": 1},
        "approval": {"by": "test"},
    }
    summaries = [a.summary for a in await step_attempts(instance.native.handle)]
    assert summaries.count("fetch_user") == 1
    assert summaries == ["fetch_user", "charge", "report"]
    assert {t.summary: t.seconds for t in await timers(instance.native.handle)}["cool down"] == 1
    assert errored["error"] == {"name": "NonRetryableError", "message": "no user to charge"}
