"""R2's contract on every backend: a directory on disk and S3 (moto's server)."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta

import pytest

from adapter import WrongTypeError
from adapter.bindings import R2Bucket, R2KeyError
from tests.bindings.backends import MULTIPART_THRESHOLD


async def test_put_get_head_round_trip(r2: R2Bucket) -> None:
    put = await r2.put(
        "reports/2026.json",
        '{"rows": 3}',
        {"httpMetadata": {"contentType": "application/json"}, "customMetadata": {"run": "r1"}},
    )
    assert put.key == "reports/2026.json" and put.size == 11
    assert put.etag == hashlib.md5(b'{"rows": 3}').hexdigest()
    assert put.http_etag == f'"{put.etag}"'
    assert abs(put.uploaded - datetime.now(UTC)) < timedelta(minutes=1)

    body = await r2.get("reports/2026.json")
    assert body is not None
    assert await body.json() == {"rows": 3}
    assert await body.text() == '{"rows": 3}'
    assert await body.arrayBuffer() == b'{"rows": 3}'
    assert body.http_metadata == {"contentType": "application/json"}
    assert body.custom_metadata == {"run": "r1"}

    head = await r2.head("reports/2026.json")
    assert head is not None and head.etag == put.etag and head.size == 11
    assert await r2.get("missing") is None and await r2.head("missing") is None
    empty = await r2.put("empty", None)
    assert empty.size == 0 and empty.http_metadata == {}


async def test_overwrite_and_delete(r2: R2Bucket) -> None:
    await r2.put("a", "one")
    await r2.put("a", b"two")
    got = await r2.get("a")
    assert got is not None and await got.text() == "two"
    await r2.put("a/b", "nested")  # "a" and "a/b" coexist
    await r2.delete(["a", "never-was"])
    assert await r2.head("a") is None
    assert await r2.head("a/b") is not None
    await r2.delete("a/b")
    assert (await r2.list())["objects"] == []


async def test_list_prefix_delimiter_and_cursor(r2: R2Bucket) -> None:
    keys = ["photos/2025/a.jpg", "photos/2026/b.jpg", "photos/c.jpg", "photos/d.jpg", "x.txt"]
    for key in keys:
        await r2.put(key, key)
    page = await r2.list(prefix="photos/", delimiter="/", limit=3)
    assert page["delimited_prefixes"] == ["photos/2025/", "photos/2026/"]
    assert [o.key for o in page["objects"]] == ["photos/c.jpg"]
    assert page["truncated"] is True and page["cursor"]
    rest = await r2.list({"prefix": "photos/", "delimiter": "/", "cursor": page["cursor"]})
    assert [o.key for o in rest["objects"]] == ["photos/d.jpg"]
    assert rest["truncated"] is False and rest["cursor"] is None

    seen: list[str] = []
    cursor = None
    while True:
        part = await r2.list(limit=2, cursor=cursor)
        seen += [o.key for o in part["objects"]]
        if not part["truncated"]:
            break
        cursor = part["cursor"]
    assert seen == sorted(keys)
    meta = await r2.list({"prefix": "x", "include": ["httpMetadata", "customMetadata"]})
    assert [(o.key, o.size) for o in meta["objects"]] == [("x.txt", 5)]


async def test_large_objects_round_trip(r2: R2Bucket) -> None:
    data = os.urandom(MULTIPART_THRESHOLD + 1024 * 1024)
    stored = await r2.put("big.bin", data)
    assert stored.size == len(data)
    if r2.location.startswith("s3://"):
        # Uploaded in two parts: S3's ETag of a multipart object is md5-of-md5s + "-<parts>".
        assert stored.etag.endswith("-2")
    else:
        assert stored.etag == hashlib.md5(data).hexdigest()
    got = await r2.get("big.bin")
    assert got is not None and await got.bytes() == data


@pytest.mark.parametrize("key", ["/etc/passwd", "../up", "a/../b", "", "nul\x00"])
async def test_unsafe_keys_and_values_are_rejected(r2: R2Bucket, key: str) -> None:
    with pytest.raises(R2KeyError):
        await r2.put(key, "x")
    with pytest.raises(WrongTypeError, match=r"json\.dumps"):
        await r2.put("ok", {"a": 1})  # type: ignore[arg-type]
