"""Side effects of the human-approval workflow (seed 001, "Human-in-the-Loop Approval").

The ``approvals`` table is the seed's implicit schema. The seed leaves the bodies of
``process approval`` and ``handle rejection`` empty; here they record the decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from adapter.bindings import D1Database

SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS approvals (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    status TEXT NOT NULL
);
"""


@dataclass
class ApprovalEnv:
    """``this.env`` of the approval workflow: D1."""

    DB: D1Database


async def apply_schema(db: D1Database) -> None:
    """Creates the ``approvals`` table if it is missing."""
    await db.exec(SCHEMA)


async def create_approval(env: ApprovalEnv, approval_id: str, user_id: str) -> int:
    """Inserts the pending approval; returns the number of rows written."""
    result = (
        await env.DB.prepare("INSERT INTO approvals (id, user_id, status) VALUES (?, ?, ?)")
        .bind(approval_id, user_id, "pending")
        .run()
    )
    return int(result.meta["changes"])


async def set_status(env: ApprovalEnv, approval_id: str, status: str) -> int:
    """Sets the approval's status; returns the number of rows changed."""
    result = (
        await env.DB.prepare("UPDATE approvals SET status = ? WHERE id = ?")
        .bind(status, approval_id)
        .run()
    )
    return int(result.meta["changes"])
