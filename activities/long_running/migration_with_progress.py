"""Side effects of the data migration (seed 000, "Long-Running Process Patterns / Pattern 2").

The seed leaves ``migrateBatch`` empty ("Migration logic"); here it copies one page of
``legacy_users`` into ``users`` (an idempotent upsert, so a retried batch does no harm), and
``update_progress`` records the percentage on the ``migration_jobs`` row.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from adapter.bindings import D1Database

COPY_SQL: Final = """
    INSERT INTO users (id, name, email, migrated_at)
    VALUES (?, ?, ?, ?)
    ON CONFLICT(id) DO UPDATE SET
      name = excluded.name,
      email = excluded.email,
      migrated_at = excluded.migrated_at
"""


async def migrate_batch(db: D1Database, offset: int, limit: int) -> int:
    """Copies ``legacy_users`` rows ``[offset, offset + limit)`` (by id) into ``users``.

    All rows of the batch are written in one transaction: a bad row (e.g. a NULL email) fails
    the whole batch with ``D1Error`` and writes nothing.

    Returns:
        How many rows were copied.
    """
    page = await (
        db.prepare("SELECT id, name, email FROM legacy_users ORDER BY id LIMIT ? OFFSET ?")
        .bind(limit, offset)
        .all()
    )
    now = datetime.now(UTC).isoformat()
    statements = [
        db.prepare(COPY_SQL).bind(row["id"], row["name"], row["email"], now) for row in page.results
    ]
    if statements:
        await db.batch(statements)
    return len(statements)


async def update_progress(db: D1Database, job_id: str, percentage: int) -> None:
    """Stores the job's progress percentage."""
    await (
        db.prepare("""
          UPDATE migration_jobs
          SET progress = ?, updated_at = ?
          WHERE id = ?
        """)
        .bind(percentage, datetime.now(UTC).isoformat(), job_id)
        .run()
    )
