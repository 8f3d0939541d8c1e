"""End-to-end tests of workflows/long_running/etl_pipeline.py (seed 001, data pipeline)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from activities._demo.demo_server import demo_records
from activities._demo.http import HTTPService
from activities.long_running.etl_pipeline import PipelineEnv, apply_schema
from adapter import InstanceStatus
from adapter.bindings import D1Database, R2Bucket
from tests.helpers import eventually, step_attempts, timers
from workflows.long_running.etl_pipeline import DataPipelineWorkflow

pytestmark = pytest.mark.server

FAST_RETRIES = {"default_retry_delay": 0}


@pytest.fixture
def http() -> Iterator[HTTPService]:
    with HTTPService("stand-in") as server:
        yield server


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[PipelineEnv]:
    db = D1Database(str(tmp_path / "db.sqlite"))
    await apply_schema(db)
    yield PipelineEnv(DB=db, BUCKET=R2Bucket(tmp_path / "bucket"))
    db.close()


async def count_rows(env: PipelineEnv) -> int:
    return int(await env.DB.prepare("SELECT COUNT(*) AS n FROM records").first("n"))


async def wait_final(instance: Any) -> Any:
    async def status() -> Any:
        return await instance.status()

    return await eventually(status, lambda s: s.status.is_final)


async def test_records_are_extracted_stored_by_reference_and_batch_loaded(
    tempflare_worker: Any, env: PipelineEnv, http: HTTPService
) -> None:
    http.json_route("GET", "/data.json", demo_records(250))
    async with tempflare_worker(DataPipelineWorkflow, env=env) as wf:
        instance = await wf.create(id="pipe-ok", params={"sourceUrl": f"{http.base_url}/data.json"})
        result = await instance.handle.result()
    key = result["dataRef"]["key"]
    assert result == {"dataRef": {"key": key}, "rows": 250, "batches": 3}
    assert key.startswith("processed/") and key.endswith(".json")
    stored = await env.BUCKET.get(key)
    assert stored is not None
    data = await stored.json()
    assert len(data) == 250
    assert data[7] == {"id": "r0007", "normalized": '{"email":"user7@example.com","name":"user 7"}'}
    assert await count_rows(env) == 250
    row = await env.DB.prepare("SELECT * FROM records WHERE id = ?").bind("r0249").first()
    assert row == {"id": "r0249", "normalized": '{"email":"user249@example.com","name":"user 249"}'}
    attempts = await step_attempts(instance.handle)
    assert [a.summary for a in attempts] == ["extract", "transform", "store", "load"]
    assert len(http.requests(path="/data.json")) == 1


async def test_flaky_source_is_retried_with_exponential_backoff(
    tempflare_worker: Any, env: PipelineEnv, http: HTTPService
) -> None:
    http.json_route("GET", "/data.json", demo_records(5))
    http.fail_next(2, status=500, path="/data.json")
    params = {"sourceUrl": f"{http.base_url}/data.json", "retry_delay_seconds": 0.05}
    async with tempflare_worker(DataPipelineWorkflow, env=env) as wf:
        instance = await wf.create(id="pipe-flaky", params=params)
        result = await instance.handle.result()
    assert result["rows"] == 5 and result["batches"] == 1
    assert len(http.requests(path="/data.json")) == 3
    retry_timers = await timers(instance.handle)
    assert [(t.summary, t.seconds) for t in retry_timers] == [
        ("extract: retry 1 of 10 after 50ms", 0.05),
        ("extract: retry 2 of 10 after 100ms", 0.1),
    ]


async def test_extract_retry_delay_defaults_to_the_seeds_30s(
    tempflare_worker: Any, env: PipelineEnv, http: HTTPService
) -> None:
    http.json_route("GET", "/data.json", {"error": "down"}, status=503)
    async with tempflare_worker(DataPipelineWorkflow, env=env) as wf:
        instance = await wf.create(
            id="pipe-30s", params={"sourceUrl": f"{http.base_url}/data.json"}
        )
        found = await eventually(lambda: timers(instance.handle), bool)
        await instance.terminate()
    assert (found[0].summary, found[0].seconds) == ("extract: retry 1 of 10 after 30000ms", 30.0)


async def test_source_down_exhausts_ten_retries_and_errors(
    tempflare_worker: Any, env: PipelineEnv, http: HTTPService
) -> None:
    http.json_route("GET", "/data.json", {"error": "down"}, status=503)
    params = {"sourceUrl": f"{http.base_url}/data.json", "retry_delay_seconds": 0}
    async with tempflare_worker(DataPipelineWorkflow, env=env) as wf:
        instance = await wf.create(id="pipe-down", params=params)
        final = await wait_final(instance)
    assert final.status == InstanceStatus.ERRORED
    assert final.error is not None
    assert (final.error.name, final.error.message) == ("RuntimeError", "Fetch failed")
    assert len(http.requests(path="/data.json")) == 11  # limit 10: 11 attempts
    assert (await env.BUCKET.list())["objects"] == []
    assert await count_rows(env) == 0


async def test_failed_batch_rolls_back_but_earlier_batches_stay(
    tempflare_worker: Any, env: PipelineEnv, http: HTTPService
) -> None:
    records = demo_records(250)
    records[150]["id"] = records[120]["id"]  # a duplicate id in the second batch
    http.json_route("GET", "/data.json", records)
    params = {"sourceUrl": f"{http.base_url}/data.json"}
    async with tempflare_worker(DataPipelineWorkflow, env=env, **FAST_RETRIES) as wf:
        instance = await wf.create(id="pipe-dup", params=params)
        final = await wait_final(instance)
    assert final.status == InstanceStatus.ERRORED
    assert final.error is not None
    assert final.error.name == "D1Error"
    assert "UNIQUE constraint failed: records.id" in final.error.message
    # batch 1 committed on the first attempt; batch 2 rolled back; every retry trips on batch 1
    assert await count_rows(env) == 100
    loads = [a for a in await step_attempts(instance.handle) if a.summary == "load"]
    assert len(loads) == 6 and all(a.failed for a in loads)
    # the data is still in R2, under the reference the 'store' step returned
    listed = (await env.BUCKET.list(prefix="processed/"))["objects"]
    assert len(listed) == 1
    stored = await env.BUCKET.get(listed[0].key)
    assert stored is not None and len(json.loads(await stored.text())) == 250
