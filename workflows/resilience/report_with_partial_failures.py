"""Step-level error handling: partial failures, a handled failure that still completes, and
status updates when the run errors.

Ports seed 002's ``ReportGenerationWorkflow`` (``report-generation-workflow``), from its "Error
Handling" and "Best Practices" sections.

The seed registers this workflow (wrangler config, ``REPORT_GENERATION_WORKFLOW`` binding, the
tRPC context) but never shows its body, so this port builds it from the seed's own snippets:

* "Step-Level Error Handling": ``fetch-report-data`` never throws; on ``{success: false}`` a
  ``handle-failure`` step notifies an admin and the run ends *complete* with
  ``success: false``.
* "Handle Partial Failures": ``process-batch`` processes every item, collecting successes
  and failures, and the run continues with the partial results.
* "Error Handling / Try-Catch in Workflows": any error (including "no item could be
  processed") marks the report ``failed`` in D1 and is re-thrown: the instance is *errored*.
* "Idempotent Operations": ``save-result`` upserts with ``ON CONFLICT ... DO UPDATE``.
* "Use Meaningful Return Values": ``{success, summary, timing}``. The seed computes
  ``completedAt: new Date()`` outside any step, which is non-deterministic in workflow code;
  here ``save-result`` returns the time it saved.

As in :mod:`workflows.ai.invention_analysis`, the catch block's D1 update runs in a step
(``mark-failed``). The workflow's name is the seed's wrangler ``name``,
``report-generation-workflow``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel
from temporalio.client import Client

from activities.resilience.report_with_partial_failures import (
    ReportEnv,
    apply_schema,
    fetch_report_data,
    notify_admin,
    process_batch,
    save_report,
    write_report,
)
from adapter import WorkflowEntrypoint, WorkflowEvent, WorkflowStep
from adapter.bindings import OfflineAI
from workflows._helpers import d1_database, run_blocking


class ReportParams(BaseModel):
    """``event.payload``: which report, for whom, from which data items."""

    reportId: str
    userId: str
    items: list[str]


class NoDataError(Exception):
    """No item of the report could be processed."""


class ReportGenerationWorkflow(
    WorkflowEntrypoint[ReportEnv, ReportParams], name="report-generation-workflow"
):
    """Fetch report data, process its items (tolerating some failures), write and save it."""

    async def run(self, event: WorkflowEvent[ReportParams], step: WorkflowStep) -> dict[str, Any]:
        env = self.env
        p = event.payload

        try:
            await step.do(
                "update-status",
                lambda: save_report(env.DATABASE, p.reportId, p.userId, "generating"),
            )
            result = await step.do(
                "fetch-report-data", lambda: fetch_report_data(env.DATA_API_URL, p.reportId)
            )
            # Check result and handle accordingly
            if not result["success"]:

                async def handle_failure() -> bool:
                    await save_report(
                        env.DATABASE, p.reportId, p.userId, "failed", error_message=result["error"]
                    )
                    return await notify_admin(env.ADMIN_WEBHOOK_URL, p.reportId, result["error"])

                notified = await step.do("handle-failure", handle_failure)
                return {"success": False, "error": result["error"], "adminNotified": notified}

            batch = await step.do("process-batch", lambda: process_batch(env.DATA_API_URL, p.items))
            # Continue with partial results
            if not batch["successes"]:
                raise NoDataError(f"none of the {len(p.items)} items could be processed")

            report = await step.do(
                "generate-report",
                lambda: write_report(env.AI, result["data"], batch["successes"]),
            )
            completed_at = await step.do(
                "save-result",
                lambda: save_report(
                    env.DATABASE,
                    p.reportId,
                    p.userId,
                    "completed",
                    {"report": report, "failures": batch["failures"]},
                ),
            )
            return {
                "success": True,
                "summary": {
                    "reportId": p.reportId,
                    "itemsProcessed": len(batch["successes"]),
                    "itemsFailed": len(batch["failures"]),
                    "failures": batch["failures"],
                    "reportLength": len(report),
                },
                "timing": {
                    "startedAt": event.timestamp.isoformat(),
                    "completedAt": completed_at,
                },
            }
        except Exception as error:
            message = str(error) or "Unknown error"

            async def mark_failed() -> None:
                await save_report(
                    env.DATABASE, p.reportId, p.userId, "failed", error_message=message
                )

            try:
                await step.do("mark-failed", mark_failed)
            except Exception:
                pass  # the seed only logs "Failed to update status"
            raise


# ------------------------------------------------------------------------------ demo run

EXAMPLE_PARAMS: Final[dict[str, Any]] = {
    "reportId": "weekly-demo",
    "userId": "user-demo",
    "items": ["north", "south", "east", "west"],
}
EXPECTED_STATUS: Final = "complete"
EVENTS: Final[list[tuple[float, str, object]]] = []


async def _demo_env(root: Path) -> ReportEnv:
    """An env for the demo run: D1, offline AI and the demo data API."""
    from activities._demo.demo_server import ensure_demo_services

    base = ensure_demo_services()
    env = ReportEnv(
        DATABASE=d1_database(root, "reports"),
        AI=OfflineAI(),
        DATA_API_URL=base,
        ADMIN_WEBHOOK_URL=f"{base}/admin",
    )
    await apply_schema(env.DATABASE)
    return env


def make_env(data_dir: str | Path, client: Client, task_queue: str) -> ReportEnv:
    """A worker's env: D1 under ``data_dir``, the offline AI, the data API at ``$DATA_API_URL``
    and the admin webhook at ``$ADMIN_WEBHOOK_URL`` (none when unset)."""

    async def build() -> ReportEnv:
        env = ReportEnv(
            DATABASE=d1_database(data_dir, "reports"),
            AI=OfflineAI(),
            DATA_API_URL=os.environ.get("DATA_API_URL") or "https://api.example.com",
            ADMIN_WEBHOOK_URL=os.environ.get("ADMIN_WEBHOOK_URL") or None,
        )
        await apply_schema(env.DATABASE)
        return env

    return run_blocking(build())


def make_demo_env(data_dir: str | Path, client: Client, task_queue: str) -> ReportEnv:
    """The env of the main job's demo run, with its stand-in services (the ``make_demo_env``
    hook of ``workflows/__init__.py``)."""
    return run_blocking(_demo_env(Path(data_dir)))
