"""Side effects of the monitoring patterns (seed 000, "Monitoring Patterns / Pattern 1 and 2").

:class:`AnalyticsDataset` stands in for a Workers Analytics Engine binding
(``env.ANALYTICS.writeDataPoint(...)``): there is no Analytics Engine outside Cloudflare, so data
points are appended to the ``analytics_datapoints`` D1 table, where tests and dashboards can read
them. ``process_user_data`` fills in the seed's "// Process".
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import structlog

from adapter import NonRetryableError
from adapter.bindings import D1Database

log = structlog.get_logger(__name__)


class AnalyticsDataset:
    """An Analytics Engine dataset stored in a D1 table."""

    def __init__(self, db: D1Database, dataset: str = "workflow_metrics") -> None:
        self.db = db
        self.dataset = dataset

    async def write_data_point(self, point: Mapping[str, Any]) -> None:
        """Appends one data point (any JSON object)."""
        await (
            self.db.prepare(
                "INSERT INTO analytics_datapoints (dataset, data, written_at) VALUES (?, ?, ?)"
            )
            .bind(self.dataset, json.dumps(dict(point)), datetime.now(UTC).isoformat())
            .run()
        )

    writeDataPoint = write_data_point

    async def data_points(self) -> list[dict[str, Any]]:
        """Every data point written to this dataset, oldest first."""
        rows = await (
            self.db.prepare("SELECT data FROM analytics_datapoints WHERE dataset = ? ORDER BY id")
            .bind(self.dataset)
            .all()
        )
        return [json.loads(row["data"]) for row in rows.results]


async def process_user_data(db: D1Database, user_id: str, instance_id: str) -> dict[str, bool]:
    """Marks the user as processed by this instance.

    Raises:
        NonRetryableError: the user does not exist (retrying would not help).
    """
    user = await db.prepare("SELECT id FROM users WHERE id = ?").bind(user_id).first()
    if user is None:
        raise NonRetryableError(f"User {user_id} not found")
    await (
        db.prepare(
            "INSERT INTO processed_users (user_id, instance_id, processed_at) VALUES (?, ?, ?) "
            "ON CONFLICT(user_id) DO UPDATE SET instance_id = excluded.instance_id, "
            "processed_at = excluded.processed_at"
        )
        .bind(user_id, instance_id, datetime.now(UTC).isoformat())
        .run()
    )
    return {"processed": True}
