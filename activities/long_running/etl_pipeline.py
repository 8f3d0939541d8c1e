"""Side effects of the data pipeline (seed 001, "Data Pipeline").

``normalizeData`` is not defined in the seed; :func:`normalize_data` lower-cases keys, trims
and lower-cases string values, drops ``id`` and returns the result as canonical JSON text,
which is what the ``records`` table's second column stores.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Final

from adapter.bindings import D1Database, R2Bucket, fetch

SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS records (
    id TEXT PRIMARY KEY,
    normalized TEXT NOT NULL
);
"""
#: Rows per ``DB.batch`` call (one transaction each), as in the seed.
BATCH_SIZE: Final = 100


@dataclass
class PipelineEnv:
    """``this.env`` of the pipeline: D1 for the records, R2 for the intermediate data."""

    DB: D1Database
    BUCKET: R2Bucket


async def apply_schema(db: D1Database) -> None:
    """Creates the ``records`` table if it is missing."""
    await db.exec(SCHEMA)


async def extract(source_url: str) -> Any:
    """Downloads the source records (a JSON array).

    Raises:
        RuntimeError: ``Fetch failed`` on an error status, as the seed's ``new Error``.
    """
    response = await fetch(source_url)
    if not response.ok:
        raise RuntimeError("Fetch failed")
    return await response.json()


def normalize_data(item: dict[str, Any]) -> str:
    """The normalised form of one record, as canonical JSON text."""
    cleaned = {
        str(key).strip().lower(): value.strip().lower() if isinstance(value, str) else value
        for key, value in item.items()
        if key != "id"
    }
    return json.dumps(cleaned, sort_keys=True, separators=(",", ":"))


def transform(raw_data: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rawData.map(item => ({ id: item.id, normalized: normalizeData(item) }))``."""
    return [{"id": item["id"], "normalized": normalize_data(item)} for item in raw_data]


async def store(env: PipelineEnv, transformed: list[dict[str, Any]]) -> dict[str, str]:
    """Writes the transformed records to R2 and returns only the reference ``{"key"}``."""
    key = f"processed/{int(time.time() * 1000)}.json"
    await env.BUCKET.put(key, json.dumps(transformed))
    return {"key": key}


async def load(env: PipelineEnv, key: str) -> dict[str, int]:
    """Reads the stored records back from R2 and inserts them 100 per ``DB.batch``.

    Like the seed, it is not idempotent: a batch that fails rolls back, the batches before it
    stay, and a retry of the step then trips over them.

    Returns:
        ``{"rows", "batches"}`` inserted.
    """
    obj = await env.BUCKET.get(key)
    if obj is None:
        raise LookupError(f"Stored data {key!r} is missing from the bucket")
    data: list[dict[str, Any]] = await obj.json()
    batches = 0
    for i in range(0, len(data), BATCH_SIZE):
        await env.DB.batch(
            [
                env.DB.prepare("INSERT INTO records VALUES (?, ?)").bind(
                    item["id"], item["normalized"]
                )
                for item in data[i : i + BATCH_SIZE]
            ]
        )
        batches += 1
    return {"rows": len(data), "batches": batches}
