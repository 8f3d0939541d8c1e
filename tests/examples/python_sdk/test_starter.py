"""End to end: workflows/python_sdk/starter.py (the Python SDK's "Get Started" example)."""

from __future__ import annotations

from typing import Any

import pytest

from adapter.workers.workflows import Workflow
from tests.helpers import eventually, step_attempts
from workflows.python_sdk.starter import PythonWorkflowStarter

pytestmark = pytest.mark.server


async def test_the_starter_runs_both_steps_in_order(
    tempflare_worker: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    async with tempflare_worker(PythonWorkflowStarter) as native:
        binding = Workflow(native)  # the page's env.MY_WORKFLOW
        instance = await binding.create()  # on_fetch's create(), without options
        status = await eventually(instance.status, lambda s: s["status"] == "complete")
    assert status == {"status": "complete", "error": None, "output": None}
    assert capsys.readouterr().out.splitlines() == ["executing step1", "executing step2"]
    attempts = await step_attempts(instance.native.handle)
    assert [a.activity_id for a in attempts] == ["step1#1@1", "step2#1@1"]
