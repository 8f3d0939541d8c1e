"""End to end: workflows/python_sdk/events.py (the "Python Workers API" page's snippets)."""

from __future__ import annotations

from typing import Any

import pytest

from adapter.workers.workflows import Workflow
from tests.helpers import eventually, timers
from workflows.python_sdk.events import DemoWorkflowClass

pytestmark = pytest.mark.server


async def test_sleeps_an_event_and_a_caught_error(
    tempflare_worker: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    async with tempflare_worker(DemoWorkflowClass) as native:
        binding = Workflow(native)
        # A bare number is milliseconds: a 300 ms sleep.
        instance = await binding.create({"id": "events-1", "params": {"sleep": 300}})
        await eventually(
            lambda: timers(instance.native.handle),
            lambda ts: any(t.summary == "my-wait-for-event-step" for t in ts),
        )
        await instance.send_event({"type": "my-event-type", "payload": {"foo": "bar"}})
        status = await eventually(instance.status, lambda s: s["status"] == "complete")
        refused = await binding.create({"params": {"sleep": "1 second", "refuse": True}})
        await refused.send_event({"type": "my-event-type", "payload": None})
        errored = await eventually(refused.status, lambda s: s["status"] == "errored")
        slept = {t.summary: t.seconds for t in await timers(instance.native.handle)}
    assert status["output"] == {
        "greeting": "Hello World!",
        "event": {"foo": "bar"},
        "caught": "TypeError: Intentional error in my_failing",
    }
    assert slept["my-sleep-step"] == 0.3
    assert slept["my-wait-for-event-step"] == 24 * 3600  # the default timeout
    out = capsys.readouterr().out
    assert "Executing my_failing" in out
    assert "Successfully caught TypeError: Intentional error in my_failing" in out
    assert errored["error"] == {"name": "NonRetryableError", "message": "refused: no retry"}
