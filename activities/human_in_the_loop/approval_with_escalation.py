"""Side effects of the approval workflow (seed 000, "Human-in-the-Loop Patterns / Pattern 1").

``send_approval_request`` is the seed's ``sendApprovalRequest``: it posts a notification to the
notification webhook (the ``NOTIFIER`` service binding). ``execute_approved_action`` fills in the
seed's "Execute the action" by recording the approved request in D1.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from adapter.bindings import D1Database, Fetcher


class NotificationError(Exception):
    """The notification webhook refused the message; the step retries."""


async def send_approval_request(notifier: Fetcher, to: str, request_id: str) -> None:
    """Sends the approval request for ``request_id`` to ``to``."""
    response = await notifier.fetch(
        "/notify",
        {
            "method": "POST",
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps(
                {"to": to, "requestId": request_id, "subject": f"Approval needed: {request_id}"}
            ),
        },
    )
    if not response.ok:
        raise NotificationError(f"Notification to {to} failed: {response.status}")


async def execute_approved_action(
    db: D1Database, request_id: str, amount: float, approver: str
) -> None:
    """Records the approved request once (a repeat is a no-op)."""
    await (
        db.prepare(
            "INSERT INTO approval_actions (request_id, amount, approver, executed_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT(request_id) DO NOTHING"
        )
        .bind(request_id, amount, approver, datetime.now(UTC).isoformat())
        .run()
    )
