"""Side effects of ``DataProcessor`` (seed 003, "Integration with Workers"): D1, KV, AI."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

from adapter.bindings import AI, D1Database, KVNamespace

SUMMARY_MODEL: Final = "@cf/meta/llama-3-8b-instruct"
SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    bio TEXT NOT NULL DEFAULT ''
);
"""


@dataclass
class ProcessorEnv:
    """``this.env`` of ``DataProcessor``: the seed's ``DB``, ``KV`` and ``AI``."""

    DB: D1Database
    KV: KVNamespace
    AI: AI


async def apply_schema(db: D1Database) -> None:
    """Creates the ``users`` table if it is missing."""
    await db.exec(SCHEMA)


async def fetch_user(env: ProcessorEnv, user_id: str) -> dict[str, Any] | None:
    """``DB.prepare('SELECT * FROM users WHERE id = ?').bind(userId).first()``."""
    return await env.DB.prepare("SELECT * FROM users WHERE id = ?").bind(user_id).first()


async def cache_result(env: ProcessorEnv, user_id: str, user: Any) -> None:
    """``KV.put(`user:${userId}`, JSON.stringify(user), { expirationTtl: 3600 })``."""
    await env.KV.put(f"user:{user_id}", json.dumps(user), {"expirationTtl": 3600})


async def generate_summary(env: ProcessorEnv, user: Any) -> dict[str, Any]:
    """``AI.run('@cf/meta/llama-3-8b-instruct', { prompt: `Summarize: ${user.bio}` })``.

    Raises:
        TypeError: ``user`` is null, with JavaScript's message for ``null.bio``.
    """
    if user is None:
        raise TypeError("Cannot read properties of null (reading 'bio')")
    return await env.AI.run(SUMMARY_MODEL, {"prompt": f"Summarize: {user['bio']}"})
