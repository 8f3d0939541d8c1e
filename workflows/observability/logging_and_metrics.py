"""Structured logs around a workflow's steps, and a metrics data point per run.

Ports seed 000, "Monitoring Patterns / Pattern 1: Structured Logging" and "Pattern 2: Metrics
Tracking", in one workflow (the seed's ``MyWorkflow`` plus its ``track metrics`` step).

``MonitoredWorkflow`` logs ``Workflow started``, runs ``process data`` (which logs ``Processing
data``), records a metrics data point in ``track metrics``, and logs ``Workflow completed
successfully``; if a step fails it logs ``Workflow failed`` at level ``error`` with the error
message and re-raises, so the instance errors. Logs are structlog events (the seed prints JSON
lines with ``console.log``; structlog's JSON renderer gives the same shape) carrying ``level``,
``event`` (the seed's ``message``), ``timestamp`` and the data. They come from
:func:`adapter.get_logger`, which adds ``instance_id`` and ``workflow_name`` (and, inside a step,
``step`` and ``attempt``) and writes nothing while the workflow replays after a worker restart.

Differences from the TypeScript: ``performance.now() - startTime`` cannot be measured outside a step
in a replayable workflow, so the duration is taken inside ``track metrics`` from the instance's
start time (``event.timestamp``). ``env.ANALYTICS`` is an Analytics Engine stand-in that stores data
points in D1 (:class:`activities.observability.logging_and_metrics.AnalyticsDataset`). The seed's
empty "// Process" marks the user as processed in D1 and fails with ``NonRetryableError`` for an
unknown user."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

from pydantic import BaseModel

from activities.observability.logging_and_metrics import process_user_data
from adapter import WorkflowEntrypoint, WorkflowEvent, WorkflowStep, get_logger
from workflows._shared_env import SharedEnv

# Replay-safe: bound to the instance (and, inside a step, to the step attempt), and silent while
# the workflow replays its history, so each line is written once.
logger = get_logger(__name__)


class MonitoringParams(BaseModel):
    userId: str


class MonitoredWorkflow(
    WorkflowEntrypoint[SharedEnv, MonitoringParams], name="logging-and-metrics"
):
    async def run(
        self, event: WorkflowEvent[MonitoringParams], step: WorkflowStep
    ) -> dict[str, Any]:
        self.log(
            "info",
            "Workflow started",
            {"instanceId": event.instanceId, "params": event.payload.model_dump()},
        )

        try:

            async def process_data() -> dict[str, bool]:
                self.log("info", "Processing data", {"userId": event.payload.userId})
                # Process
                return await process_user_data(self.env.DB, event.payload.userId, event.instanceId)

            processed = await step.do("process data", process_data)

            async def track_metrics() -> dict[str, Any]:
                now = datetime.now(UTC)
                metrics = {
                    "workflowId": event.instanceId,
                    "stepName": "process data",
                    "duration": (now - event.timestamp).total_seconds() * 1000,
                    "status": "success",
                    "timestamp": now.isoformat(),
                }

                # Store in Analytics Engine
                await self.env.ANALYTICS.writeDataPoint(metrics)

                return metrics

            metrics = await step.do("track metrics", track_metrics)

            self.log("info", "Workflow completed successfully", {"instanceId": event.instanceId})
        except Exception as error:
            self.log(
                "error",
                "Workflow failed",
                {"instanceId": event.instanceId, "error": getattr(error, "message", str(error))},
            )
            raise

        return {"processed": processed["processed"], "metrics": metrics}

    def log(self, level: str, message: str, data: dict[str, Any]) -> None:
        method = getattr(logger, level)
        method(message, timestamp=datetime.now(UTC).isoformat(), **data)


WORKFLOW: Final = MonitoredWorkflow
EXAMPLE_PARAMS: Final[dict[str, Any]] = {"userId": "1"}
EXPECTED_STATUS: Final = "complete"  # user 1 comes from prepare_env(env, demo_data=True)
EVENTS: Final[list[tuple[float, str, Any]]] = []

from workflows._shared_env import make_env as make_env  # noqa: E402  (the main job's env)
