"""Side effects of the small "Common Patterns" workflows of seed 003.

* Human-in-the-loop by polling: the "approval system" is an HTTP service answering
  ``GET /approvals/<id>`` with ``{"approved": bool}``; ``finalize`` reports to it.
* Graceful degradation: a primary and a fallback data API.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapter.bindings import fetch


@dataclass
class ApprovalSystemEnv:
    """``this.env`` of the polling approval workflow: the approval system's base URL."""

    APPROVALS_URL: str


@dataclass
class DegradationEnv:
    """``this.env`` of the graceful-degradation workflow: the two data APIs."""

    PRIMARY_URL: str
    FALLBACK_URL: str


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


async def get_data(url: str) -> Any:
    """``fetch(url)`` as a step result: the JSON body; an error status fails the attempt.

    Raises:
        RuntimeError: The API answered an error status.
    """
    response = await fetch(url)
    if not response.ok:
        raise RuntimeError(f"API error: {response.status}")
    return await response.json()
