"""D1 schema used by the seed 000 workflows (Cloudflare Workflows production patterns).

The seed assumes these tables exist (``orders``, ``migration_jobs``) or leaves them implicit
(the migration's source and target, the approval's executed actions, fulfilments, analytics).
Apply it once per database, before starting workers: ``await apply_schema(env.DB)``.
"""

from __future__ import annotations

from typing import Final

from adapter.bindings import D1Database

SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS orders (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    amount REAL NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT
);

CREATE TABLE IF NOT EXISTS migration_jobs (
    id TEXT PRIMARY KEY,
    progress INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT
);

CREATE TABLE IF NOT EXISTS legacy_users (
    id INTEGER PRIMARY KEY,
    name TEXT,
    email TEXT
);

CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    migrated_at TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS approval_actions (
    request_id TEXT PRIMARY KEY,
    amount REAL NOT NULL,
    approver TEXT NOT NULL,
    executed_at TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS fulfillments (
    order_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS processed_users (
    user_id TEXT PRIMARY KEY,
    instance_id TEXT NOT NULL,
    processed_at TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS analytics_datapoints (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    dataset TEXT NOT NULL,
    data TEXT NOT NULL,
    written_at TEXT NOT NULL
);
"""


async def apply_schema(db: D1Database) -> None:
    """Creates the seed 000 tables if they are missing (idempotent)."""
    await db.exec(SCHEMA)
