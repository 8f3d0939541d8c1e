"""Side effects of approval by polling (seed 003, "Common Patterns / Human-in-the-Loop").

The "approval system" is an HTTP service answering ``GET /approvals/<id>`` with
``{"approved": bool}``; ``finalize`` reports to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapter.bindings import fetch


@dataclass
class ApprovalSystemEnv:
    """``this.env`` of the polling approval workflow: the approval system's base URL."""

    APPROVALS_URL: str


async def check_approval(env: ApprovalSystemEnv, request_id: str) -> bool:
    """Queries the approval system; an unknown request counts as not approved.

    Raises:
        RuntimeError: The approval system answered an error status (the step is retried).
    """
    response = await fetch(f"{env.APPROVALS_URL}/approvals/{request_id}")
    if response.status == 404:
        return False
    if not response.ok:
        raise RuntimeError(f"Approval system error: {response.status}")
    answer = await response.json()
    return bool(answer.get("approved"))


async def finalize(env: ApprovalSystemEnv, request_id: str) -> dict[str, Any]:
    """Tells the approval system the request was carried out."""
    response = await fetch(f"{env.APPROVALS_URL}/approvals/{request_id}/done", {"method": "POST"})
    if not response.ok:
        raise RuntimeError(f"Approval system error: {response.status}")
    return {"finalized": request_id}
