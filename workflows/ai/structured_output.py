"""Structured AI output: two steps whose model answers are validated against a schema.

Ports seed 002, "AI Integration Example / Using in Workflow Steps" (``AnalysisWorkflow``).

TypeScript (abridged)::

    const extraction = await step.do("extract-features", async () => {
      const client = this.getAnthropicClient();
      return await callAnthropicWithSchema(client, { model: "claude-sonnet-4-5",
        systemPrompt: "Extract invention features from the conversation.",
        userPrompt: event.payload.conversation, schema: extractionSchema,
        schemaName: "InventionExtraction" }); });
    console.log(`Extracted ${extraction.features.length} features`);
    const queries = await step.do("generate-queries", async () => {
      const client = this.getAnthropicClient();
      return await callAnthropicWithSchema(client, { model: "claude-sonnet-4-5",
        systemPrompt: "Generate search queries for patent research.",
        userPrompt: JSON.stringify(extraction.features), schema: querySchema,
        schemaName: "SearchQueries" }); });
    return { extraction, queries };

``callAnthropicWithSchema`` is ported in ``activities/ai/invention_analysis.py`` (pydantic for zod,
``env.AI`` for the Anthropic client, which each step reaches afresh). ``querySchema`` is not
defined in the seed; here it is ``{queries: string[]}``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel
from temporalio.client import Client

from activities.ai.invention_analysis import Extraction, call_ai_with_schema
from adapter import WorkflowEntrypoint, WorkflowEvent, WorkflowStep
from adapter.bindings import AI, OfflineAI


class SearchQueries(BaseModel):
    """The seed's ``querySchema`` (not shown there): patent search queries."""

    queries: list[str]


@dataclass
class StructuredEnv:
    """``this.env``: the AI binding (``AnthropicAI`` in production)."""

    AI: AI


class ConversationParams(BaseModel):
    """``event.payload``: the interview transcript."""

    conversation: str


class AnalysisWorkflow(
    WorkflowEntrypoint[StructuredEnv, ConversationParams], name="structured-ai-analysis"
):
    """Two schema-validated AI steps: extract features, then generate search queries."""

    async def run(
        self, event: WorkflowEvent[ConversationParams], step: WorkflowStep
    ) -> dict[str, Any]:
        ai = self.env.AI
        conversation = event.payload.conversation

        async def extract_features() -> dict[str, Any]:
            result = await call_ai_with_schema(
                ai,
                model="claude-sonnet-4-5",
                system_prompt="Extract invention features from the conversation.",
                user_prompt=conversation,
                schema=Extraction,
                schema_name="InventionExtraction",
            )
            return result.model_dump()

        extraction = await step.do("extract-features", extract_features)

        async def generate_queries() -> dict[str, Any]:
            result = await call_ai_with_schema(
                ai,
                model="claude-sonnet-4-5",
                system_prompt="Generate search queries for patent research.",
                user_prompt=json.dumps(extraction["features"]),
                schema=SearchQueries,
                schema_name="SearchQueries",
            )
            return result.model_dump()

        queries = await step.do("generate-queries", generate_queries)
        return {"extraction": extraction, "queries": queries}


# ------------------------------------------------------------------------------ demo run

EXAMPLE_PARAMS: Final[dict[str, Any]] = {
    "conversation": "User: I built a bicycle lock that texts me when someone tampers with it."
}
EXPECTED_STATUS: Final = "complete"
EVENTS: Final[list[tuple[float, str, object]]] = []


def make_env(data_dir: str | Path, client: Client, task_queue: str) -> StructuredEnv:
    """The env of the demo run: offline AI."""
    return StructuredEnv(AI=OfflineAI())
