"""Approval with escalation: when the approver does not answer in time, ask a senior approver.

Ports seed 000, "Human-in-the-Loop Patterns / Pattern 1: Approval with Timeout and Escalation".
(For an approval rejected automatically on timeout see
:mod:`workflows.human_in_the_loop.approval_with_auto_reject`; for one that checks an approval
system after a sleep, :mod:`workflows.human_in_the_loop.approval_by_polling`.)

``ApprovalWorkflow`` notifies the primary approver (``notify primary approver``) and waits up to
48 hours for an ``approval-decision`` event (``wait for primary approval``). If none comes it
escalates: it notifies the senior approver (``notify senior approver``) and waits another 24 hours
(``wait for escalated approval``); if that wait times out too, the ``WorkflowTimeoutError``
errors the instance. An approved request runs ``execute approved action``. The event payload is
``{"approved": bool, "approverId": str}``.

Notifications go to the notification webhook and the approved action is recorded in D1
(:mod:`activities.human_in_the_loop.approval_with_escalation`). The timeouts and approver addresses
are params with the seed's values as defaults. The TypeScript catches any error around the first
wait; only the wait's ``WorkflowTimeoutError`` can come from there, and that is what is caught here.
"""

from __future__ import annotations

from typing import Any, Final

import structlog
from pydantic import BaseModel

from activities.human_in_the_loop.approval_with_escalation import (
    execute_approved_action,
    send_approval_request,
)
from adapter import (
    Duration,
    WorkflowEntrypoint,
    WorkflowEvent,
    WorkflowStep,
    WorkflowTimeoutError,
)
from workflows._shared_env import SharedEnv

log = structlog.get_logger(__name__)

EVENT_TYPE: Final = "approval-decision"


class ApprovalParams(BaseModel):
    requestId: str
    amount: float
    primaryApprover: str = "manager@example.com"
    seniorApprover: str = "senior-manager@example.com"
    primaryTimeout: Duration = "48 hours"
    escalationTimeout: Duration = "24 hours"


class ApprovalEvent(BaseModel):
    approved: bool
    approverId: str


class ApprovalWorkflow(
    WorkflowEntrypoint[SharedEnv, ApprovalParams], name="approval-with-escalation"
):
    async def run(self, event: WorkflowEvent[ApprovalParams], step: WorkflowStep) -> dict[str, Any]:
        p = event.payload
        request_id, amount = p.requestId, p.amount

        # Send to primary approver
        async def notify_primary() -> None:
            await self.send_approval_request(p.primaryApprover, request_id)

        await step.do("notify primary approver", notify_primary)

        # Wait 48 hours for approval
        approved: bool
        approver: str

        try:
            decision = await step.wait_for_event(
                "wait for primary approval", {"type": EVENT_TYPE, "timeout": p.primaryTimeout}
            )

            primary = ApprovalEvent.model_validate(decision.payload)
            approved = primary.approved
            approver = primary.approverId
        except WorkflowTimeoutError:
            # Timeout - escalate to senior manager
            log.info("Primary approval timeout, escalating", request_id=request_id)

            async def notify_senior() -> None:
                await self.send_approval_request(p.seniorApprover, request_id)

            await step.do("notify senior approver", notify_senior)

            # Wait another 24 hours
            escalated_decision = await step.wait_for_event(
                "wait for escalated approval",
                {"type": EVENT_TYPE, "timeout": p.escalationTimeout},
            )

            escalated = ApprovalEvent.model_validate(escalated_decision.payload)
            approved = escalated.approved
            approver = escalated.approverId

        if approved:

            async def execute() -> None:
                # Execute the action
                await execute_approved_action(self.env.DB, request_id, amount, approver)

            await step.do("execute approved action", execute)

        return {"requestId": request_id, "approved": approved, "approver": approver}

    async def send_approval_request(self, to: str, request_id: str) -> None:
        # Send notification
        await send_approval_request(self.env.NOTIFIER, to, request_id)


WORKFLOW: Final = ApprovalWorkflow
EXAMPLE_PARAMS: Final[dict[str, Any]] = {
    "requestId": "REQ-123",
    "amount": 5000,
    "primaryTimeout": "30 seconds",
    "escalationTimeout": "30 seconds",
}
EXPECTED_STATUS: Final = "complete"
EVENTS: Final[list[tuple[float, str, Any]]] = [
    (2, EVENT_TYPE, {"approved": True, "approverId": "manager-1"}),
]

from workflows._shared_env import make_env as make_env  # noqa: E402  (the main job's env)
