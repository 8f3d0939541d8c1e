"""An AI pipeline: extract features, search prior art, analyse patents, write a report, notify.

Ports seed 002, "Complete Example" (``InventionAnalysisWorkflow``) and "Triggering Workflows /
From tRPC Routes" (:func:`start_analysis`).

Five steps, with the invention's and the analysis's status kept in D1:

1. ``extract-features``: AI extraction of ``{title, description, features}``, saved with
   ``initializeAnalysis``;
2. ``search-prior-art``: one patent-search request per feature, in parallel, deduplicated by
   patent id;
3. ``analyze-patents``: one AI call per patent, for the first 10;
4. ``generate-report``: AI report, saved to both tables as ``completed``;
5. ``send-notification``: Slack webhook, skipped when ``SLACK_WEBHOOK_URL`` is not set.

Any error marks both rows ``failed`` and is re-thrown, so the instance ends ``errored``. The
workflow's name is the seed's wrangler ``name``, ``invention-analysis-workflow``.

Differences from the TypeScript:

* The seed calls the Anthropic SDK directly; the port calls the Workers-AI-shaped ``env.AI``
  binding (``AnthropicAI`` in production, ``OfflineAI`` offline) with the same model names,
  system prompts and ``max_tokens``.
* ``extract-features`` uses the seed's own ``callAnthropicWithSchema`` (JSON Schema in the
  prompt, code-fence stripping, validation; pydantic for zod). The Complete Example's bare
  ``JSON.parse`` of a reply to "Extract invention features from the conversation." only works
  if the model happens to answer JSON.
* The ``catch`` block's status update runs in a step, ``mark-failed``: the TypeScript does
  this D1 I/O in workflow code, which a Temporal workflow must not do (it is replayed).
"""

from __future__ import annotations

import asyncio
import json
import os
from itertools import chain
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel
from temporalio.client import Client

from activities.ai.invention_analysis import (
    Extraction,
    InventionEnv,
    apply_schema,
    ask,
    call_ai_with_schema,
    get_invention_by_id,
    initialize_analysis,
    notify_report_generated,
    search_patents,
    update_analysis,
    update_invention,
)
from adapter import Workflow, WorkflowEntrypoint, WorkflowEvent, WorkflowStep
from adapter.bindings import D1Database, OfflineAI
from workflows._helpers import d1_database, run_blocking


class ConversationMessage(BaseModel):
    """One message of the invention interview."""

    type: str
    message: str


class AnalysisWorkflowPayload(BaseModel):
    """The seed's ``AnalysisWorkflowPayload``."""

    inventionId: str
    userId: str
    conversation: list[ConversationMessage]


class InventionAnalysisWorkflow(
    WorkflowEntrypoint[InventionEnv, AnalysisWorkflowPayload], name="invention-analysis-workflow"
):
    """Extract features, search prior art, analyse patents, write a report, notify."""

    async def run(
        self, event: WorkflowEvent[AnalysisWorkflowPayload], step: WorkflowStep
    ) -> dict[str, Any]:
        env = self.env
        invention_id, user_id = event.payload.inventionId, event.payload.userId
        conversation = [m.model_dump() for m in event.payload.conversation]

        try:
            # === Step 1: Extract Features ===
            async def extract_features() -> dict[str, Any]:
                result = await call_ai_with_schema(
                    env.AI,
                    model="claude-sonnet-4-5",
                    system_prompt="Extract invention features from the conversation.",
                    user_prompt=json.dumps(conversation),
                    schema=Extraction,
                    schema_name="InventionExtraction",
                )
                data = result.model_dump()
                await initialize_analysis(env.DATABASE, invention_id, data)
                return data

            extraction = await step.do("extract-features", extract_features)

            # === Step 2: Search Prior Art ===
            async def search_prior_art() -> list[dict[str, Any]]:
                results = await asyncio.gather(
                    *(search_patents(env.PATENT_API_URL, f) for f in extraction["features"])
                )
                unique: dict[str, dict[str, Any]] = {}
                for patent in chain.from_iterable(results):
                    unique[patent["id"]] = patent
                return list(unique.values())

            search_results = await step.do("search-prior-art", search_prior_art)

            # === Step 3: Analyze Patents ===
            async def analyze_patents() -> list[dict[str, Any]]:
                analyses = []
                for patent in search_results[:10]:
                    text = await ask(
                        env.AI,
                        "claude-haiku-4-5",
                        "Analyze patent relevance to the invention.",
                        f"Invention: {extraction['description']}\nPatent: {patent['abstract']}",
                        1024,
                    )
                    analyses.append({"patentId": patent["id"], "analysis": text})
                return analyses

            analysis = await step.do("analyze-patents", analyze_patents)

            # === Step 4: Generate Report ===
            async def generate_report() -> str:
                report_text = await ask(
                    env.AI,
                    "claude-sonnet-4-5",
                    "Generate a patent analysis report.",
                    json.dumps({"extraction": extraction, "analysis": analysis}),
                    8192,
                )
                await update_analysis(env.DATABASE, invention_id, "completed", report_text)
                await update_invention(
                    env.DATABASE,
                    invention_id,
                    {"status": "completed", "analysis": report_text},
                    user_id,
                )
                return report_text

            report = await step.do("generate-report", generate_report)

            # === Step 5: Send Notification ===
            async def send_notification() -> str:
                if not env.SLACK_WEBHOOK_URL:
                    return "skipped: Slack not configured"
                await notify_report_generated(
                    env.SLACK_WEBHOOK_URL, invention_id, extraction["title"]
                )
                return "sent"

            notification = await step.do("send-notification", send_notification)

            return {
                "success": True,
                "inventionId": invention_id,
                "featuresExtracted": len(extraction["features"]),
                "patentsAnalyzed": len(analysis),
                "reportLength": len(report),
                "notification": notification,
            }
        except Exception:
            # Update status to failed (best effort, as the seed's inner try/catch)
            async def mark_failed() -> None:
                await update_analysis(env.DATABASE, invention_id, "failed")
                await update_invention(env.DATABASE, invention_id, {"status": "failed"}, user_id)

            try:
                await step.do("mark-failed", mark_failed)
            except Exception:
                pass
            raise


async def start_analysis(
    binding: Workflow[AnalysisWorkflowPayload], db: D1Database, invention_id: str, user_id: str
) -> dict[str, Any]:
    """The seed's ``startAnalysis`` tRPC mutation: create the instance, mark ``analyzing``.

    Raises:
        LookupError: No such invention.
    """
    invention = await get_invention_by_id(db, invention_id)
    if invention is None:
        raise LookupError(f"Invention {invention_id!r} not found")
    instance = await binding.create(
        params={
            "inventionId": invention_id,
            "userId": user_id,
            "conversation": invention["conversation"],
        }
    )
    await update_invention(
        db, invention_id, {"status": "analyzing", "workflowInstanceId": instance.id}
    )
    return {"success": True, "instanceId": instance.id}


# ------------------------------------------------------------------------------ demo run

EXAMPLE_PARAMS: Final[dict[str, Any]] = {
    "inventionId": "inv-demo",
    "userId": "user-demo",
    "conversation": [
        {"type": "user", "message": "I built a self-watering plant pot."},
        {"type": "assistant", "message": "How does it sense moisture?"},
        {"type": "user", "message": "A capacitive sensor drives a small pump."},
    ],
}
EXPECTED_STATUS: Final = "complete"
EVENTS: Final[list[tuple[float, str, object]]] = []


async def _demo_env(root: Path) -> InventionEnv:
    """An env for the demo run: D1 with the demo invention, offline AI, demo patent API."""
    from activities._demo.demo_server import ensure_demo_services

    base = ensure_demo_services()
    env = InventionEnv(
        DATABASE=d1_database(root, "inventions"),
        AI=OfflineAI(),
        PATENT_API_URL=f"{base}/patents",
        SLACK_WEBHOOK_URL=f"{base}/webhook",
    )
    await apply_schema(env.DATABASE)
    # Replace the demo row (portable SQL: DELETE + INSERT in one transaction).
    await env.DATABASE.batch(
        [
            env.DATABASE.prepare("DELETE FROM inventions WHERE id = ?").bind("inv-demo"),
            env.DATABASE.prepare(
                "INSERT INTO inventions (id, user_id, conversation, status) "
                "VALUES (?, ?, ?, 'draft')"
            ).bind("inv-demo", "user-demo", json.dumps(EXAMPLE_PARAMS["conversation"])),
        ]
    )
    return env


def make_env(data_dir: str | Path, client: Client, task_queue: str) -> InventionEnv:
    """A worker's env: D1 under ``data_dir``, the offline AI, the patent search API at
    ``$PATENT_API_URL`` and the Slack webhook at ``$SLACK_WEBHOOK_URL`` (skipped when unset)."""

    async def build() -> InventionEnv:
        env = InventionEnv(
            DATABASE=d1_database(data_dir, "inventions"),
            AI=OfflineAI(),
            PATENT_API_URL=os.environ.get("PATENT_API_URL") or "https://patents.example.com",
            SLACK_WEBHOOK_URL=os.environ.get("SLACK_WEBHOOK_URL") or None,
        )
        await apply_schema(env.DATABASE)
        return env

    return run_blocking(build())


def make_demo_env(data_dir: str | Path, client: Client, task_queue: str) -> InventionEnv:
    """The env of the main job's demo run, with its stand-in services (the ``make_demo_env``
    hook of ``workflows/__init__.py``)."""
    return run_blocking(_demo_env(Path(data_dir)))
