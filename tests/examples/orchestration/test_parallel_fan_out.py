"""End-to-end tests of workflows/orchestration/parallel_fan_out.py (seed 001, fan-out with
asyncio.gather)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from activities.orchestration.parallel_fan_out import FanOutEnv
from adapter import InstanceStatus
from adapter.bindings import R2Bucket
from tests.helpers import eventually, step_attempts
from workflows.orchestration.parallel_fan_out import FanOutWorkflow

pytestmark = pytest.mark.server

FAST_RETRIES = {"default_retry_delay": 0}


@pytest.fixture
def env(tmp_path: Path) -> FanOutEnv:
    return FanOutEnv(BUCKET=R2Bucket(tmp_path / "bucket"))


async def test_every_file_gets_its_own_parallel_step(tempflare_worker: Any, env: FanOutEnv) -> None:
    contents = {f"docs/{name}.txt": ("x\n" * n).encode() for n, name in enumerate("abcd", 1)}
    for key, data in contents.items():
        await env.BUCKET.put(key, data)
    async with tempflare_worker(FanOutWorkflow, env=env) as wf:
        instance = await wf.create(id="fan-ok")
        result = await instance.handle.result()
    assert result == {
        "processed": [
            {
                "key": key,
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
                "lines": data.count(b"\n"),
            }
            for key, data in sorted(contents.items())
        ]
    }
    attempts = await step_attempts(instance.handle)
    assert attempts[0].summary == "list"
    assert sorted(a.activity_id for a in attempts[1:]) == [f"process {i}#1@1" for i in range(4)]
    assert not any(a.failed for a in attempts)


async def test_empty_bucket_runs_no_process_step(tempflare_worker: Any, env: FanOutEnv) -> None:
    async with tempflare_worker(FanOutWorkflow, env=env) as wf:
        instance = await wf.create(id="fan-empty")
        result = await instance.handle.result()
    assert result == {"processed": []}
    assert [a.summary for a in await step_attempts(instance.handle)] == ["list"]


async def test_one_corrupt_file_fails_the_whole_fan_out(
    tempflare_worker: Any, env: FanOutEnv
) -> None:
    await env.BUCKET.put("a.txt", "fine\n")
    await env.BUCKET.put("b.txt", "CORRUPT data")
    await env.BUCKET.put("c.txt", "also fine\n")
    async with tempflare_worker(FanOutWorkflow, env=env, **FAST_RETRIES) as wf:
        instance = await wf.create(id="fan-corrupt")

        async def status() -> Any:
            return await instance.status()

        final = await eventually(status, lambda s: s.status.is_final)
    assert final.status == InstanceStatus.ERRORED
    assert final.error is not None
    assert (final.error.name, final.error.message) == (
        "CorruptFileError",
        "cannot process a corrupt file of 12 bytes",
    )
    attempts = await step_attempts(instance.handle)
    by_step: dict[str, list[bool]] = {}
    for a in attempts:
        by_step.setdefault(a.summary, []).append(a.failed)
    # the healthy files were processed; the corrupt one used all 6 attempts
    assert by_step == {
        "list": [False],
        "process 0": [False],
        "process 1": [True] * 6,
        "process 2": [False],
    }
