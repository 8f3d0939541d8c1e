"""Side effects of the invention-analysis pipeline (seed 002, "Complete Example").

Ports the seed's repositories (``initializeAnalysis``, ``updateAnalysis``, ``updateInvention``,
``getInventionById``), its Slack notifier (``notifyReportGenerated``) and its structured-output
helper (``callAnthropicWithSchema``, with pydantic in place of zod). The schema of the
``inventions`` and ``analyses`` tables is the seed's implicit one. AI calls go through the
Workers-AI-shaped ``env.AI`` binding (``AnthropicAI`` in production, ``OfflineAI`` in tests),
created fresh in each step as the seed recommends.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, TypeVar
from urllib.parse import quote

from pydantic import BaseModel

from adapter.bindings import AI, D1Database, fetch

SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS inventions (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    conversation TEXT NOT NULL DEFAULT '[]',
    status TEXT NOT NULL DEFAULT 'draft',
    analysis TEXT,
    workflow_instance_id TEXT,
    updated_at TEXT
);
CREATE TABLE IF NOT EXISTS analyses (
    invention_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    extracted_data TEXT,
    final_report TEXT,
    updated_at TEXT
);
"""

T = TypeVar("T", bound=BaseModel)
_CODE_BLOCK = re.compile(r"^```(?:json)?\s*([\s\S]*?)\s*```$")


@dataclass
class InventionEnv:
    """``this.env`` of the analysis workflow."""

    DATABASE: D1Database
    AI: AI
    PATENT_API_URL: str
    SLACK_WEBHOOK_URL: str | None = None


class Extraction(BaseModel):
    """The seed's ``extractionSchema``: what the AI extracts from the conversation."""

    title: str
    description: str
    features: list[str]


async def apply_schema(db: D1Database) -> None:
    """Creates the ``inventions`` and ``analyses`` tables if they are missing."""
    await db.exec(SCHEMA)


def _now() -> str:
    return datetime.now(UTC).isoformat()


# ----------------------------------------------------------------------------- repositories


async def get_invention_by_id(db: D1Database, invention_id: str) -> dict[str, Any] | None:
    """The invention row, with ``conversation`` parsed."""
    row = await db.prepare("SELECT * FROM inventions WHERE id = ?").bind(invention_id).first()
    if row is None:
        return None
    return {**row, "conversation": json.loads(row["conversation"])}


async def initialize_analysis(db: D1Database, invention_id: str, extracted_data: Any) -> None:
    """Creates (or resets) the invention's analysis row as ``analyzing``."""
    await (
        db.prepare(
            "INSERT INTO analyses (invention_id, status, extracted_data, updated_at) "
            "VALUES (?, 'analyzing', ?, ?) ON CONFLICT(invention_id) DO UPDATE SET "
            "status = excluded.status, extracted_data = excluded.extracted_data, "
            "final_report = NULL, updated_at = excluded.updated_at"
        )
        .bind(invention_id, json.dumps(extracted_data), _now())
        .run()
    )


async def update_analysis(
    db: D1Database, invention_id: str, status: str, final_report: str | None = None
) -> None:
    """Sets the analysis status (and the final report, when given)."""
    await (
        db.prepare(
            "UPDATE analyses SET status = ?, final_report = COALESCE(?, final_report), "
            "updated_at = ? WHERE invention_id = ?"
        )
        .bind(status, final_report, _now(), invention_id)
        .run()
    )


async def update_invention(
    db: D1Database, invention_id: str, data: dict[str, Any], user_id: str | None = None
) -> None:
    """Updates ``status``, ``analysis`` and/or ``workflowInstanceId`` of the user's invention."""
    columns = {
        "status": "status",
        "analysis": "analysis",
        "workflowInstanceId": "workflow_instance_id",
    }
    unknown = sorted(set(data) - set(columns))
    if unknown:
        raise ValueError(f"update_invention: unknown field(s) {unknown}")
    sets = ", ".join(f"{columns[k]} = ?" for k in data)
    sql = f"UPDATE inventions SET {sets}, updated_at = ? WHERE id = ?"
    values: list[Any] = [*data.values(), _now(), invention_id]
    if user_id is not None:
        sql += " AND user_id = ?"
        values.append(user_id)
    await db.prepare(sql).bind(*values).run()


# ------------------------------------------------------------------------------- services


async def notify_report_generated(
    webhook_url: str, invention_id: str, invention_title: str
) -> None:
    """Posts a Slack message that the report is ready.

    Raises:
        RuntimeError: The webhook answered an error status (the step is retried).
    """
    response = await fetch(
        webhook_url,
        {"method": "POST"},
        json={
            "text": f"Patent analysis report ready: {invention_title}",
            "inventionId": invention_id,
            "inventionTitle": invention_title,
        },
    )
    if not response.ok:
        raise RuntimeError(f"Slack webhook error: {response.status}")


async def search_patents(patent_api_url: str, feature: str) -> Any:
    """``fetch(`${PATENT_API_URL}/search?q=${encodeURIComponent(feature)}`).then(r => r.json())``.

    Like the seed, it does not check the status: an error page fails on JSON parsing.
    """
    response = await fetch(f"{patent_api_url}/search?q={encode_uri_component(feature)}")
    return await response.json()


def encode_uri_component(value: str) -> str:
    """JavaScript's ``encodeURIComponent``."""
    return quote(value, safe="-_.!~*'()")


def _text(output: dict[str, Any]) -> str:
    response = output.get("response")
    return response if isinstance(response, str) else json.dumps(response)


async def ask(ai: AI, model: str, system: str, user: str, max_tokens: int) -> str:
    """``client.messages.create({model, max_tokens, system, messages: [user]})``: the text."""
    output = await ai.run(
        model,
        {
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
            "max_tokens": max_tokens,
        },
    )
    return _text(output)


async def call_ai_with_schema(
    ai: AI, *, model: str, system_prompt: str, user_prompt: str, schema: type[T], schema_name: str
) -> T:
    """The seed's ``callAnthropicWithSchema``: JSON Schema in the prompt, parse, validate.

    Raises:
        json.JSONDecodeError: The reply is not JSON.
        pydantic.ValidationError: The reply does not match the schema.
    """
    json_schema = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": schema_name,
        **schema.model_json_schema(),
    }
    enhanced = (
        f"{system_prompt}\n\nYou MUST respond with ONLY valid JSON matching this schema:\n"
        f"{json.dumps(json_schema, indent=2)}\n\n"
        "Return ONLY the JSON object, no markdown, no explanations."
    )
    text = await ask(ai, model, enhanced, user_prompt, 4096)
    cleaned = text.strip()
    match = _CODE_BLOCK.match(cleaned)
    if match:
        cleaned = match.group(1).strip()
    return schema.model_validate(json.loads(cleaned))
