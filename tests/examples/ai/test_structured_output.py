"""End-to-end tests of workflows/ai/structured_output.py (seed 002, "AI Integration Example / Using
in Workflow Steps")."""

from __future__ import annotations

import json
from typing import Any

import pytest

from activities.ai.invention_analysis import Extraction, call_ai_with_schema
from adapter.bindings import OfflineAI
from tests.helpers import step_attempts
from workflows.ai.structured_output import (
    EXAMPLE_PARAMS,
    AnalysisWorkflow,
    SearchQueries,
    StructuredEnv,
)

pytestmark = pytest.mark.server


async def test_structured_analysis_validates_both_ai_answers(tempflare_worker: Any) -> None:
    conversation = EXAMPLE_PARAMS["conversation"]
    async with tempflare_worker(AnalysisWorkflow, env=StructuredEnv(AI=OfflineAI())) as wf:
        instance = await wf.create(id="structured-1", params={"conversation": conversation})
        result = await instance.handle.result()
    extraction = await call_ai_with_schema(
        OfflineAI(),
        model="claude-sonnet-4-5",
        system_prompt="Extract invention features from the conversation.",
        user_prompt=conversation,
        schema=Extraction,
        schema_name="InventionExtraction",
    )
    assert result["extraction"] == extraction.model_dump()
    assert Extraction.model_validate(result["extraction"]).features
    queries = SearchQueries.model_validate(result["queries"])
    assert len(queries.queries) == 3 and all(isinstance(q, str) for q in queries.queries)
    assert json.dumps(result)  # plain JSON all the way
    assert [a.summary for a in await step_attempts(instance.handle)] == [
        "extract-features",
        "generate-queries",
    ]
