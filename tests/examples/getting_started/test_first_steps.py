"""End-to-end tests of workflows/getting_started/first_steps.py (seed 002, "Basic Workflow
Structure")."""

from __future__ import annotations

from typing import Any

import pytest

from adapter import InvalidParamsError
from tests.helpers import step_attempts
from workflows.getting_started.first_steps import MyWorkflow

pytestmark = pytest.mark.server


async def test_basic_workflow_passes_data_between_steps(tempflare_worker: Any) -> None:
    async with tempflare_worker(MyWorkflow) as wf:
        instance = await wf.create(id="basic-1", params={"userId": "u", "documentId": "d"})
        result = await instance.handle.result()
        with pytest.raises(InvalidParamsError, match="documentId"):
            await wf.create(params={"userId": "u"})
    assert result == {"success": True, "result": {"processed": True, "input": {"fetched": True}}}
    assert [a.summary for a in await step_attempts(instance.handle)] == [
        "fetch-data",
        "process-data",
    ]
