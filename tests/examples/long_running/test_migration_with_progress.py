"""End-to-end tests of workflows/long_running/migration_with_progress.py (seed 000's
DataMigrationWorkflow): batches, progress in D1, pauses, a failing batch."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, WorkflowFailureError

from tests.examples.shared_env_harness import FAST_RETRIES, Harness, shared_env_harness
from tests.helpers import step_attempts, timers
from workflows.long_running.migration_with_progress import DataMigrationWorkflow, js_round

pytestmark = pytest.mark.server


@pytest.fixture
async def h(tmp_path: Path, tempflare_client: Client, task_queue: str) -> AsyncIterator[Harness]:
    async with shared_env_harness(tmp_path, tempflare_client, task_queue) as harness:
        yield harness


async def seed_legacy(h: Harness, count: int, *, bad_email_ids: tuple[int, ...] = ()) -> None:
    await h.env.DB.batch(
        [
            h.env.DB.prepare("INSERT INTO legacy_users (id, name, email) VALUES (?, ?, ?)").bind(
                n, f"User {n}", None if n in bad_email_ids else f"user{n}@example.com"
            )
            for n in range(1, count + 1)
        ]
    )
    await h.execute("INSERT OR IGNORE INTO migration_jobs (id, progress) VALUES ('job-1', 0)")


async def progress(h: Harness) -> int:
    [row] = await h.rows("SELECT progress FROM migration_jobs WHERE id = 'job-1'")
    return int(row["progress"])


def test_percentages_round_like_math_round() -> None:
    assert js_round(12.5) == 13  # Python's round() would give 12
    assert [js_round((i + 1) / 3 * 100) for i in range(3)] == [33, 67, 100]


async def test_migrates_in_batches_tracking_progress(tempflare_worker: Any, h: Harness) -> None:
    await seed_legacy(h, 25)
    params = {"jobId": "job-1", "totalRecords": 25, "batchSize": 10, "pauseDuration": 300}
    seen: list[int] = []

    async with tempflare_worker(DataMigrationWorkflow, env=h.env) as wf:
        instance = await wf.create(id="migrate-ok", params=params)
        result = asyncio.ensure_future(instance.handle.result())
        while not result.done():  # watch the progress column while it runs
            value = await progress(h)
            if not seen or seen[-1] != value:
                seen.append(value)
            await asyncio.sleep(0.02)
        output = await result

    assert output == {"status": "complete", "batches": 3}
    assert {33, 67} <= set(seen)  # progress observed between batches
    assert await progress(h) == 100
    users = await h.rows("SELECT id, name, email FROM users ORDER BY id")
    assert [u["id"] for u in users] == list(range(1, 26))
    assert users[0] == {"id": 1, "name": "User 1", "email": "user1@example.com"}
    [job] = await h.rows("SELECT * FROM migration_jobs")
    assert job["progress"] == 100 and job["updated_at"]
    assert [a.activity_id for a in await step_attempts(instance.handle)] == [
        f"migrate batch {i}#1@1" for i in range(3)
    ]
    assert [(t.summary, t.seconds) for t in await timers(instance.handle)] == [
        ("pause before batch 1", 0.3),
        ("pause before batch 2", 0.3),
    ]


async def test_failing_batch_errors_keeping_progress_and_rerun_completes(
    tempflare_worker: Any, h: Harness
) -> None:
    await seed_legacy(h, 25, bad_email_ids=(15,))  # batch 1 holds a row users rejects
    params = {"jobId": "job-1", "totalRecords": 25, "batchSize": 10, "pauseDuration": 0}

    async with tempflare_worker(DataMigrationWorkflow, env=h.env, **FAST_RETRIES) as wf:
        failed = await wf.create(id="migrate-partial", params=params)
        with pytest.raises(WorkflowFailureError):
            await failed.handle.result()
        status = await failed.status()

        assert status.status == "errored"
        assert status.error is not None
        assert status.error.name == "D1Error"
        assert "NOT NULL constraint failed: users.email" in status.error.message
        attempts = [(a.activity_id, a.failed) for a in await step_attempts(failed.handle)]
        assert attempts[0] == ("migrate batch 0#1@1", False)
        assert attempts[1:] == [(f"migrate batch 1#1@{n}", True) for n in range(1, 7)]
        assert await progress(h) == 33  # batch 0 done; batch 1 rolled back as a whole
        assert [u["id"] for u in await h.rows("SELECT id FROM users ORDER BY id")] == list(
            range(1, 11)
        )

        # fix the data and run the migration again: batches are idempotent upserts
        await h.execute("UPDATE legacy_users SET email = 'fixed@example.com' WHERE id = 15")
        rerun = await wf.create(id="migrate-rerun", params=params)
        assert await rerun.handle.result() == {"status": "complete", "batches": 3}

    assert await progress(h) == 100
    assert len(await h.rows("SELECT id FROM users")) == 25
