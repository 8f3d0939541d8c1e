"""The binding suite's fixtures: one D1, KV and R2 per backend, each fresh for its test.

``d1`` runs on SQLite, PostgreSQL and Cloudflare's D1 API; ``kv`` on SQLite, Redis and
Cloudflare's KV API; ``r2`` on disk and S3. The servers are real (``tests/backend_servers.py``);
Cloudflare's APIs are the local stand-in (``tests/cloudflare_api.py``). Every test in
``tests/bindings/`` that takes one of these fixtures runs once per backend.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from adapter.bindings import D1Database, KVNamespace, R2Bucket
from tests.cloudflare_api import CloudflareAPIStandIn

TOKEN = "stand-in-token"
#: Objects from this size up go to S3 in parts (5 MiB is S3's smallest part).
MULTIPART_THRESHOLD = 5 * 1024 * 1024


def _fresh() -> str:
    return "t" + uuid.uuid4().hex[:12]


@pytest.fixture(scope="session")
def cloudflare_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudflareAPIStandIn]:
    """The local stand-in for Cloudflare's D1 and KV HTTP APIs (KV's TTL minimum lowered to
    1 s so expiry tests need not wait a minute)."""
    with CloudflareAPIStandIn(
        tmp_path_factory.mktemp("cloudflare"), token=TOKEN, min_ttl_seconds=1
    ) as api:
        yield api


@pytest.fixture
def cloudflare_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", TOKEN)


@pytest_asyncio.fixture(params=["sqlite", "postgres", "cloudflare"])
async def d1(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[D1Database]:
    """A fresh, empty D1 database on each backend."""
    if request.param == "sqlite":
        target = str(tmp_path / "d1.sqlite")
    elif request.param == "postgres":
        target = f"{request.getfixturevalue('postgres_url')}?schema={_fresh()}"
    else:
        request.getfixturevalue("cloudflare_token")
        api: CloudflareAPIStandIn = request.getfixturevalue("cloudflare_api")
        target = f"cloudflare://account/d1/{_fresh()}?api={api.base_url}"
    db = D1Database(target)
    try:
        yield db
    finally:
        await db.aclose()


@pytest.fixture(params=["sqlite", "redis", "cloudflare"])
def kv_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a fresh KV namespace lives, on each backend."""
    if request.param == "sqlite":
        return str(tmp_path / "kv.sqlite")
    if request.param == "redis":
        return f"{request.getfixturevalue('redis_url')}?prefix={_fresh()}:"
    request.getfixturevalue("cloudflare_token")
    api: CloudflareAPIStandIn = request.getfixturevalue("cloudflare_api")
    return f"cloudflare://account/kv/{_fresh()}?api={api.base_url}"


@pytest_asyncio.fixture
async def kv(kv_url: str) -> AsyncIterator[KVNamespace]:
    """A fresh KV namespace on each backend, with Cloudflare's 60 s TTL minimum."""
    namespace = KVNamespace(kv_url)
    try:
        yield namespace
    finally:
        await namespace.aclose()


@pytest.fixture(params=["disk", "s3"])
def r2(request: pytest.FixtureRequest, tmp_path: Path) -> R2Bucket:
    """A fresh, empty R2 bucket on each backend."""
    if request.param == "disk":
        return R2Bucket(tmp_path / "bucket")
    endpoint = request.getfixturevalue("s3_endpoint")
    return R2Bucket(
        f"s3://key:secret@{_fresh()}?endpoint={endpoint}&create=1"
        f"&multipart_threshold={MULTIPART_THRESHOLD}&part_size={MULTIPART_THRESHOLD}"
    )
