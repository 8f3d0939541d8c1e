"""KV's contract on every backend: SQLite, Redis and Cloudflare's KV HTTP API (stand-in)."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from adapter import InvalidValueError, WrongTypeError
from adapter.bindings import KVNamespace


async def test_put_get_types_metadata_and_delete(kv: KVNamespace) -> None:
    await kv.put("payment:1", json.dumps({"ok": True}), {"metadata": {"v": 1}})
    await kv.put("blob", b"\x00\xff")
    assert await kv.get("payment:1") == '{"ok": true}'
    assert await kv.get("payment:1", "json") == {"ok": True}
    assert await kv.get("payment:1", {"type": "json"}) == {"ok": True}
    assert await kv.get("blob", "arrayBuffer") == b"\x00\xff"
    assert await kv.get_with_metadata("payment:1", "json") == {
        "value": {"ok": True},
        "metadata": {"v": 1},
    }
    assert await kv.get_with_metadata("blob", "bytes") == {"value": b"\x00\xff", "metadata": None}
    # A put without metadata drops the old metadata.
    await kv.put("payment:1", "again")
    assert await kv.get_with_metadata("payment:1") == {"value": "again", "metadata": None}
    await kv.delete("payment:1")
    await kv.delete("payment:1")  # deleting a missing key is fine
    assert await kv.get("payment:1") is None
    assert await kv.get_with_metadata("missing") == {"value": None, "metadata": None}


async def test_ttl_rules_and_expiry(kv_url: str) -> None:
    strict = KVNamespace(kv_url)
    with pytest.raises(InvalidValueError, match="at least 60"):
        await strict.put("k", "v", {"expirationTtl": 30})
    with pytest.raises(InvalidValueError, match="not both"):
        await strict.put("k", "v", expiration=time.time() + 120, expiration_ttl=120)

    kv = KVNamespace(kv_url, min_ttl_seconds=1)
    await kv.put("short", "v", expirationTtl=2)
    await kv.put("long", "v", {"expiration": time.time() + 3600})
    listed = {k["name"]: k["expiration"] for k in (await kv.list())["keys"]}
    assert listed["short"] is not None and 0 < listed["short"] - time.time() <= 3
    assert listed["long"] is not None and listed["long"] > time.time() + 3500
    assert await kv.get("short") == "v"
    await asyncio.sleep(3.1)
    assert await kv.get("short") is None
    assert [k["name"] for k in (await kv.list())["keys"]] == ["long"]


async def test_list_by_prefix_in_byte_order_with_a_cursor(kv: KVNamespace) -> None:
    names = ["user:b", "user:a", "user:é", "user:Z", "other", "user:a/1"]
    for name in names:
        await kv.put(name, "x", metadata={"n": name})
    collected: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = await kv.list(prefix="user:", limit=2, cursor=cursor)
        assert len(page["keys"]) <= 2
        collected += [k["name"] for k in page["keys"]]
        assert all(k["metadata"] == {"n": k["name"]} for k in page["keys"])
        pages += 1
        if page["list_complete"]:
            assert page["cursor"] is None
            break
        cursor = page["cursor"]
    expected = sorted((n for n in names if n.startswith("user:")), key=lambda n: n.encode())
    assert collected == expected
    assert pages >= 3
    whole = await kv.list({"prefix": "user:a"})
    assert [k["name"] for k in whole["keys"]] == ["user:a", "user:a/1"]
    assert whole["list_complete"] is True


async def test_bad_input_is_rejected_before_any_io(kv: KVNamespace) -> None:
    with pytest.raises(WrongTypeError, match=r"json\.dumps"):
        await kv.put("k", {"a": 1})  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="512"):
        await kv.put("k" * 513, "v")
    with pytest.raises(InvalidValueError, match="1 to 1000"):
        await kv.list(limit=0)
    with pytest.raises(InvalidValueError, match="cursor"):
        await kv.list(cursor="not a cursor!")


async def test_from_the_loop_and_from_sync_threads_at_once(kv: KVNamespace) -> None:
    def in_thread(n: int) -> None:
        asyncio.run(kv.put(f"thread-{n}", str(n)))

    await asyncio.gather(
        *(asyncio.to_thread(in_thread, n) for n in range(4)),
        *(kv.put(f"loop-{n}", str(n)) for n in range(4)),
    )
    assert len((await kv.list())["keys"]) == 8
