"""The main job on PostgreSQL, Redis and S3: ``TEMPFLARE_D1_URL``, ``TEMPFLARE_KV_URL`` and
``TEMPFLARE_R2_URL`` move every example's bindings off local files, and every demo still reaches
its expected status. Real servers (``tests/backend_servers.py``) and a real dev server."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import pytest

from adapter.bindings import KVNamespace, R2Bucket

pytestmark = [pytest.mark.server, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[2]


async def test_main_job_runs_on_postgres_redis_and_s3(
    tmp_path: Path, postgres_url: str, redis_url: str, s3_endpoint: str
) -> None:
    bucket = f"main-{uuid.uuid4().hex[:8]}"
    kv_prefix = f"main{uuid.uuid4().hex[:6]}:"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "TEMPFLARE_"))}
    env.update(
        TEMPFLARE_D1_URL=postgres_url,
        TEMPFLARE_KV_URL=f"{redis_url}?prefix={kv_prefix}",
        TEMPFLARE_R2_URL=f"s3://key:secret@{bucket}?endpoint={s3_endpoint}&create=1",
        TEMPFLARE_DATA_DIR=str(tmp_path / "data"),
        TEMPORAL_TASK_QUEUE=f"main-{uuid.uuid4().hex[:8]}",
        COLUMNS="300",
    )
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, str(ROOT / "main.py"), "--server-dir", str(tmp_path / "server")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    output = " ".join(done.stdout.split())
    assert done.returncode == 0, output[-4000:] + done.stderr[-2000:]
    reached = re.search(r"(\d+) of (\d+) instances reached their expected status", output)
    assert reached and reached.group(1) == reached.group(2) and int(reached.group(1)) >= 20

    # The data is where the URLs said: a schema per example in PostgreSQL...
    conn = await asyncpg.connect(postgres_url)
    try:
        schemas = {
            r["table_schema"]
            for r in await conn.fetch("SELECT DISTINCT table_schema FROM information_schema.tables")
        }
        assert {"shared", "pipeline", "processor", "lifecycle"} <= schemas
        assert await conn.fetchval("SELECT COUNT(*) FROM shared.legacy_users") == 30
        assert await conn.fetchval("SELECT COUNT(*) FROM pipeline.records") > 0
    finally:
        await conn.close()
    # ...KV keys under the example's prefix in Redis...
    payments = await KVNamespace(f"{redis_url}?prefix={kv_prefix}shared_kv:").list(
        prefix="payment:"
    )
    assert payments["keys"], "the idempotent payment demo wrote no KV key"
    # ...and objects under the example's key prefix in the S3 bucket.
    bucket_root = f"s3://key:secret@{bucket}?endpoint={s3_endpoint}"
    fan_out = await R2Bucket(bucket_root.replace(bucket, f"{bucket}/fan_out", 1)).list()
    assert len(fan_out["objects"]) == 5
    processed = await R2Bucket(bucket_root.replace(bucket, f"{bucket}/r2", 1)).list(
        prefix="processed/"
    )
    assert processed["objects"]
