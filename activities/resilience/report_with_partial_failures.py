"""Side effects of the report-generation workflow (seed 002, ``ReportGenerationWorkflow``).

The seed declares ``ReportGenerationWorkflow`` (binding ``REPORT_GENERATION_WORKFLOW``) but
shows no code for it; this port assembles it from the seed's own patterns: step-level error
handling (``api-call-with-retry`` returning ``{success: false}`` and a ``handle-failure``
step that notifies an admin), partial failures (``process-batch`` collecting successes and
failures), idempotent saving (``ON CONFLICT ... DO UPDATE``), try/catch status updates and a
meaningful return value with timing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from adapter.bindings import AI, D1Database, fetch

SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS reports (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    status TEXT NOT NULL,
    data TEXT,
    error_message TEXT,
    updated_at TEXT
);
"""


@dataclass
class ReportEnv:
    """``this.env`` of the report workflow."""

    DATABASE: D1Database
    AI: AI
    DATA_API_URL: str
    ADMIN_WEBHOOK_URL: str | None = None


async def apply_schema(db: D1Database) -> None:
    """Creates the ``reports`` table if it is missing."""
    await db.exec(SCHEMA)


def now_iso() -> str:
    """The current time, ISO 8601 UTC (only ever called inside steps)."""
    return datetime.now(UTC).isoformat()


async def save_report(
    db: D1Database,
    report_id: str,
    user_id: str,
    status: str,
    data: Any = None,
    error_message: str | None = None,
) -> str:
    """Upserts the report row (the seed's idempotent ``onConflictDoUpdate``); returns the time."""
    at = now_iso()
    await (
        db.prepare(
            "INSERT INTO reports (id, user_id, status, data, error_message, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET status = excluded.status, "
            "data = COALESCE(excluded.data, reports.data), error_message = excluded.error_message, "
            "updated_at = excluded.updated_at"
        )
        .bind(
            report_id,
            user_id,
            status,
            json.dumps(data) if data is not None else None,
            error_message,
            at,
        )
        .run()
    )
    return at


async def fetch_report_data(data_api_url: str, report_id: str) -> dict[str, Any]:
    """The seed's ``api-call-with-retry`` body: never throws, returns a success flag instead."""
    try:
        response = await fetch(f"{data_api_url}/reports/{report_id}")
        if not response.ok:
            raise RuntimeError(f"API error: {response.status}")
        return {"success": True, "data": await response.json()}
    except Exception as error:
        return {"success": False, "error": str(error) or type(error).__name__}


async def notify_admin(webhook_url: str | None, report_id: str, error: str) -> bool:
    """Posts the failure to the admin webhook; returns whether one is configured.

    Raises:
        RuntimeError: The webhook answered an error status.
    """
    if not webhook_url:
        return False
    response = await fetch(
        webhook_url, {"method": "POST"}, json={"reportId": report_id, "error": error}
    )
    if not response.ok:
        raise RuntimeError(f"Admin webhook error: {response.status}")
    return True


async def process_item(data_api_url: str, item_id: str) -> dict[str, Any]:
    """Fetches one item and reduces it to ``{"id", "value"}``.

    Raises:
        RuntimeError: The item could not be fetched.
        KeyError: The item has no ``value``.
    """
    response = await fetch(f"{data_api_url}/items/{item_id}")
    if not response.ok:
        raise RuntimeError(f"item {item_id}: HTTP {response.status}")
    item = await response.json()
    return {"id": item_id, "value": item["value"]}


async def process_batch(data_api_url: str, items: list[str]) -> dict[str, Any]:
    """The seed's "Handle Partial Failures" step: keep going, collect successes and failures."""
    successes: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    for item in items:
        try:
            successes.append(await process_item(data_api_url, item))
        except Exception as e:
            failures.append({"item": item, "error": str(e)})
    return {"successes": successes, "failures": failures}


async def write_report(ai: AI, meta: dict[str, Any], successes: list[dict[str, Any]]) -> str:
    """Asks the AI for the report text."""
    output = await ai.run(
        "claude-sonnet-4-5",
        {
            "messages": [
                {"role": "system", "content": "Write a short business report."},
                {"role": "user", "content": f"Report {meta}: items {successes}"},
            ],
            "max_tokens": 2048,
        },
    )
    return str(output["response"])
