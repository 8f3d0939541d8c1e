"""End-to-end tests of workflows/getting_started/using_bindings.py (seed 003, DataProcessor)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from activities.getting_started.using_bindings import SUMMARY_MODEL, ProcessorEnv, apply_schema
from adapter import InstanceStatus
from adapter.bindings import D1Database, KVNamespace, OfflineAI
from tests.helpers import eventually, step_attempts
from workflows.getting_started.using_bindings import DataProcessor

pytestmark = pytest.mark.server


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[ProcessorEnv]:
    db = D1Database(str(tmp_path / "db.sqlite"))
    kv = KVNamespace(str(tmp_path / "kv.sqlite"))
    await apply_schema(db)
    await (
        db.prepare("INSERT INTO users (id, name, bio) VALUES ('u1', 'Ada', ?)")
        .bind("Wrote the first published algorithm.")
        .run()
    )
    yield ProcessorEnv(DB=db, KV=kv, AI=OfflineAI())
    db.close()
    kv.close()


async def test_user_is_cached_for_an_hour_and_summarised(
    tempflare_worker: Any, env: ProcessorEnv
) -> None:
    async with tempflare_worker(DataProcessor, env=env) as wf:
        instance = await wf.create(id="processor-ok", params={"userId": "u1"})
        result = await instance.handle.result()
    user = {"id": "u1", "name": "Ada", "bio": "Wrote the first published algorithm."}
    assert json.loads(await env.KV.get("user:u1") or "") == user
    [key] = (await env.KV.list(prefix="user:"))["keys"]
    assert key["expiration"] is not None
    assert 3590 <= key["expiration"] - time.time() <= 3600
    expected = await OfflineAI().run(
        SUMMARY_MODEL, {"prompt": "Summarize: Wrote the first published algorithm."}
    )
    assert result == {"userId": "u1", "summary": expected}
    assert [a.summary for a in await step_attempts(instance.handle)] == [
        "fetch user",
        "cache result",
        "generate summary",
    ]


async def test_unknown_user_fails_like_javascript_on_null(
    tempflare_worker: Any, env: ProcessorEnv
) -> None:
    async with tempflare_worker(DataProcessor, env=env, default_retry_delay=0) as wf:
        instance = await wf.create(id="processor-unknown", params={"userId": "ghost"})

        async def status() -> Any:
            return await instance.status()

        final = await eventually(status, lambda s: s.status.is_final)
    assert final.status == InstanceStatus.ERRORED
    assert final.error is not None
    assert (final.error.name, final.error.message) == (
        "TypeError",
        "Cannot read properties of null (reading 'bio')",
    )
    assert await env.KV.get("user:ghost") == "null"  # JSON.stringify(null)
    summaries = [a for a in await step_attempts(instance.handle) if a.summary == "generate summary"]
    assert len(summaries) == 6
