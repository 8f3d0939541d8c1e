"""A batched data migration that records its progress after every batch.

Ports seed 000, "Long-Running Process Patterns / Pattern 2: Progress Tracking".

``DataMigrationWorkflow`` migrates ``totalRecords`` records in ``ceil(totalRecords / batchSize)``
batches: step ``migrate batch i`` copies one batch and stores the progress percentage on the
``migration_jobs`` row ``jobId``, and ``pause before batch i+1`` sleeps between batches (the seed's
1 second, ``pauseDuration`` here) so as not to overwhelm the database. The seed's empty
``migrateBatch`` copies ``legacy_users`` into ``users``
(:mod:`activities.long_running.migration_with_progress`).

A batch that keeps failing (for example a row the target rejects) exhausts the step's default
retries and errors the instance, leaving the progress of the batches already done.
"""

from __future__ import annotations

import math
from typing import Any, Final

import structlog
from pydantic import BaseModel

from activities.long_running.migration_with_progress import migrate_batch, update_progress
from adapter import Duration, WorkflowEntrypoint, WorkflowEvent, WorkflowStep
from workflows._shared_env import SharedEnv

log = structlog.get_logger(__name__)


def js_round(value: float) -> int:
    """``Math.round``: halves round up (Python's ``round`` rounds them to even)."""
    return math.floor(value + 0.5)


class MigrationParams(BaseModel):
    jobId: str
    totalRecords: int
    batchSize: int
    #: The pause between batches (the seed's "1 second").
    pauseDuration: Duration = "1 second"


class DataMigrationWorkflow(
    WorkflowEntrypoint[SharedEnv, MigrationParams], name="migration-with-progress"
):
    async def run(
        self, event: WorkflowEvent[MigrationParams], step: WorkflowStep
    ) -> dict[str, Any]:
        total_records, batch_size = event.payload.totalRecords, event.payload.batchSize
        batches = math.ceil(total_records / batch_size)

        for i in range(batches):

            async def migrate(i: int = i) -> dict[str, int]:
                offset = i * batch_size

                # Migrate batch
                await self.migrate_batch(offset, batch_size)

                # Update progress in DB
                percentage = js_round(((i + 1) / batches) * 100)
                await update_progress(self.env.DB, event.payload.jobId, percentage)

                return {"batch": i + 1, "total": batches, "percentage": percentage}

            progress = await step.do(f"migrate batch {i}", migrate)

            log.info(f"Progress: {progress['percentage']}%", job_id=event.payload.jobId)

            # Small delay between batches to avoid overwhelming database
            if i < batches - 1:
                await step.sleep(f"pause before batch {i + 1}", event.payload.pauseDuration)

        return {"status": "complete", "batches": batches}

    async def migrate_batch(self, offset: int, limit: int) -> None:
        # Migration logic
        await migrate_batch(self.env.DB, offset, limit)


WORKFLOW: Final = DataMigrationWorkflow
EXAMPLE_PARAMS: Final[dict[str, Any]] = {
    "jobId": "migration-demo",
    "totalRecords": 30,
    "batchSize": 10,
    "pauseDuration": "200 milliseconds",
}
EXPECTED_STATUS: Final = "complete"
EVENTS: Final[list[tuple[float, str, Any]]] = []

from workflows._shared_env import make_env as make_env  # noqa: E402  (the main job's env)
