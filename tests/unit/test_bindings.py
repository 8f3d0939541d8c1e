"""Behaviour of the local Cloudflare bindings: real SQLite files, real disk, real HTTP."""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
import sys
import threading
import types
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

import adapter.bindings as bindings
from adapter.bindings import (
    AnthropicAI,
    D1Database,
    D1Error,
    D1Result,
    Fetcher,
    FetchError,
    KVNamespace,
    OfflineAI,
    R2Bucket,
    R2KeyError,
    R2ObjectBody,
    default_ai,
    fetch,
)


class Clock:
    """A settable clock for TTL tests."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


def test_exports_are_sorted_and_importable() -> None:
    assert bindings.__all__ == sorted(bindings.__all__)
    for name in bindings.__all__:
        assert getattr(bindings, name) is not None


# -- D1 ---------------------------------------------------------------------------------------

SCHEMA = """
CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, active INTEGER, avatar BLOB);
CREATE TABLE orders (
    id TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    note TEXT DEFAULT 'a;b'
);
-- a trailing comment is not a statement
"""


@pytest.fixture
async def db(tmp_path: Path) -> D1Database:
    database = D1Database(tmp_path / "d1" / "db.sqlite")
    result = await database.exec(SCHEMA)
    assert result.count == 2
    return database


async def test_d1_crud(db: D1Database) -> None:
    insert = db.prepare("INSERT INTO users (name, active, avatar) VALUES (?, ?, ?)")
    first = await insert.bind("ada", True, b"\x00\x01").run()
    second = await insert.bind("bob", False, None).run()
    assert isinstance(first, D1Result) and first.success
    assert first.meta["changes"] == 1 and first.meta["last_row_id"] == 1
    assert second.meta["last_row_id"] == 2 and second.meta["changed_db"] is True
    assert insert.params == ()  # bind() returns a new statement

    select = db.prepare("SELECT * FROM users WHERE id = ?")
    assert await select.bind(1).first() == {
        "id": 1,
        "name": "ada",
        "active": 1,
        "avatar": b"\x00\x01",
    }
    assert await select.bind(2).first("name") == "bob"
    assert await select.bind(99).first() is None
    assert await select.bind(99).first("name") is None

    everyone = await db.prepare("SELECT id, name FROM users ORDER BY id").all()
    assert everyone.results == [{"id": 1, "name": "ada"}, {"id": 2, "name": "bob"}]
    assert everyone.meta["changes"] == 0

    # ?NNN placeholders refer to values by position and may repeat.
    same = db.prepare("SELECT ?2 AS b, ?1 AS a, ?2 AS b2").bind("x", "y")
    assert await same.first() == {"b": "y", "a": "x", "b2": "y"}

    raw = db.prepare("SELECT id, name FROM users ORDER BY id")
    assert await raw.raw() == [[1, "ada"], [2, "bob"]]
    assert await raw.raw(column_names=True) == [["id", "name"], [1, "ada"], [2, "bob"]]

    updated = await db.prepare("UPDATE users SET active = ?").bind(1).run()
    assert updated.meta["changes"] == 2
    deleted = await db.prepare("DELETE FROM users WHERE name = ?").bind("bob").run()
    assert deleted.meta["changes"] == 1
    assert await db.prepare("SELECT count(*) AS n FROM users").first("n") == 1

    # The default in the schema contains ';' inside a string: exec() did not split there.
    await db.prepare("INSERT INTO orders (id, user_id) VALUES ('o1', 1)").run()
    assert await db.prepare("SELECT note FROM orders").first("note") == "a;b"


async def test_d1_is_durable_wal_and_enforces_foreign_keys(db: D1Database, tmp_path: Path) -> None:
    await db.prepare("INSERT INTO users (name) VALUES (?)").bind("ada").run()
    assert await db.prepare("PRAGMA journal_mode").first("journal_mode") == "wal"
    with pytest.raises(D1Error, match="FOREIGN KEY"):
        await db.prepare("INSERT INTO orders (id, user_id) VALUES ('o1', 42)").run()
    db.close()

    reopened = D1Database(tmp_path / "d1" / "db.sqlite")
    assert await reopened.prepare("SELECT name FROM users").first("name") == "ada"
    reopened.close()
    with pytest.raises(RuntimeError, match="closed"):
        await reopened.prepare("SELECT 1").first()


async def test_d1_batch_commits_all_or_nothing(db: D1Database) -> None:
    insert = db.prepare("INSERT INTO users (name) VALUES (?)")
    results = await db.batch([insert.bind("a"), insert.bind("b"), db.prepare("SELECT 7 AS n")])
    assert [r.meta["changes"] for r in results] == [1, 1, 0]
    assert results[2].results == [{"n": 7}]

    with pytest.raises(D1Error) as info:
        await db.batch([insert.bind("c"), insert.bind("d"), insert.bind("a")])
    message = str(info.value)
    assert "batch statement 2" in message
    assert "UNIQUE constraint failed" in message
    assert "INSERT INTO users (name) VALUES (?)" in message
    assert info.value.sql == "INSERT INTO users (name) VALUES (?)"
    names = await db.prepare("SELECT name FROM users ORDER BY name").raw()
    assert names == [["a"], ["b"]]  # c and d were rolled back

    # The connection is usable (not stuck in a transaction) after the rollback.
    await insert.bind("e").run()
    assert await db.batch([]) == []


async def test_d1_errors_name_the_sql(db: D1Database, tmp_path: Path) -> None:
    with pytest.raises(D1Error) as info:
        await db.prepare("SELECT * FROM nowhere WHERE id = ?").bind(1).first()
    assert "no such table: nowhere" in str(info.value)
    assert "SELECT * FROM nowhere WHERE id = ?" in str(info.value)
    assert isinstance(info.value.__cause__, sqlite3.Error)

    with pytest.raises(D1Error, match="Incorrect number of bindings"):
        await db.prepare("SELECT ?").all()
    with pytest.raises(D1Error, match="one statement"):
        await db.prepare("SELECT 1; SELECT 2").all()
    with pytest.raises(D1Error, match="D1_COLUMN_NOTFOUND"):
        await db.prepare("SELECT 1 AS a").first("b")
    with pytest.raises(TypeError, match="parameter 2 of type dict"):
        db.prepare("SELECT ?, ?").bind(1, {"x": 1})  # type: ignore[arg-type]
    with pytest.raises(D1Error, match=r"no such table: missing.*SQL: INSERT INTO missing"):
        await db.exec("CREATE TABLE t (a);\nINSERT INTO missing VALUES (1);")
    assert await db.prepare("SELECT count(*) AS n FROM t").first("n") == 0  # first one applied
    other = D1Database(tmp_path / "other.sqlite")
    with pytest.raises(ValueError, match="another database"):
        await db.batch([other.prepare("SELECT 1")])


async def test_d1_from_sync_threads_and_the_loop_at_once(db: D1Database) -> None:
    insert = db.prepare("INSERT INTO users (name) VALUES (?)")

    def sync_step(worker: int) -> None:
        # A sync step body runs in a thread and may drive its own event loop.
        for i in range(10):
            asyncio.run(insert.bind(f"t{worker}-{i}").run())

    async def async_step() -> None:
        for i in range(10):
            await insert.bind(f"loop-{i}").run()

    await asyncio.gather(*(asyncio.to_thread(sync_step, w) for w in range(4)), async_step())
    assert await db.prepare("SELECT count(*) AS n FROM users").first("n") == 50


# -- KV ---------------------------------------------------------------------------------------


async def test_kv_put_get_delete_and_types(tmp_path: Path) -> None:
    kv = KVNamespace(tmp_path / "kv.sqlite")
    assert await kv.get("missing") is None
    await kv.put("text", "héllo")
    await kv.put("state", json.dumps({"failures": 2}))
    await kv.put("blob", b"\xff\x00")
    assert await kv.get("text") == "héllo"
    assert await kv.get("state", "json") == {"failures": 2}
    assert await kv.get("state", {"type": "json"}) == {"failures": 2}
    assert await kv.get("blob", "arrayBuffer") == b"\xff\x00"
    assert await kv.get("text", "bytes") == "héllo".encode()
    await kv.put("text", "replaced")
    assert await kv.get("text") == "replaced"
    await kv.delete("text")
    await kv.delete("text")  # deleting a missing key is fine
    assert await kv.get("text") is None
    kv.close()

    reopened = KVNamespace(tmp_path / "kv.sqlite")
    assert await reopened.get("state", "json") == {"failures": 2}


async def test_kv_ttl_expiry_with_injected_clock() -> None:
    clock = Clock()
    kv = KVNamespace(now=clock)
    await kv.put("dict-form", "1", {"expirationTtl": 86400})
    await kv.put("snake", "2", expiration_ttl=60)
    await kv.put("camel", "3", expirationTtl=120)
    await kv.put("absolute", "4", {"expiration": clock.now + 300})
    await kv.put("forever", "5")

    listed = {k["name"]: k["expiration"] for k in (await kv.list())["keys"]}
    assert listed == {
        "absolute": int(clock.now + 300),
        "camel": int(clock.now + 120),
        "dict-form": int(clock.now + 86400),
        "forever": None,
        "snake": int(clock.now + 60),
    }

    clock.now += 60  # "snake" expires exactly now
    assert await kv.get("snake") is None
    assert await kv.get("camel") == "3"
    clock.now += 61
    assert await kv.get("camel") is None
    names = [k["name"] for k in (await kv.list())["keys"]]
    assert names == ["absolute", "dict-form", "forever"]
    clock.now += 86400
    assert [k["name"] for k in (await kv.list())["keys"]] == ["forever"]


async def test_kv_enforces_minimum_ttl_unless_lowered() -> None:
    kv = KVNamespace()
    with pytest.raises(ValueError, match=r"at least 60 seconds.*got 30"):
        await kv.put("k", "v", {"expirationTtl": 30})
    with pytest.raises(ValueError, match="at least 60 seconds in the future"):
        await kv.put("k", "v", expiration=1.0)
    assert await kv.get("k") is None  # nothing was written

    clock = Clock()
    fast = KVNamespace(min_ttl_seconds=1, now=clock)
    await fast.put("k", "v", expiration_ttl=1)
    assert await fast.get("k") == "v"
    clock.now += 1.5
    assert await fast.get("k") is None
    with pytest.raises(ValueError, match="got 0"):
        await fast.put("k", "v", expiration_ttl=0)


async def test_kv_rejects_bad_input() -> None:
    kv = KVNamespace()
    with pytest.raises(TypeError, match=r"json\.dumps"):
        await kv.put("k", {"a": 1})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="unknown option 'cacheTtl'"):
        await kv.put("k", "v", {"cacheTtl": 60})
    with pytest.raises(ValueError, match="not both"):
        await kv.put("k", "v", {"expiration": 2e9}, expiration_ttl=60)
    with pytest.raises(ValueError, match="512"):
        await kv.put("x" * 513, "v")
    with pytest.raises(ValueError, match="type must be one of"):
        await kv.get("k", "stream")  # type: ignore[call-overload]
    with pytest.raises(ValueError, match="limit"):
        await kv.list(limit=0)
    with pytest.raises(ValueError, match="cursor"):
        await kv.list(cursor="!!not-a-cursor!!")


async def test_kv_list_prefix_pagination_and_metadata() -> None:
    kv = KVNamespace()
    for name in ["user:3", "user:1", "order:1", "user:2", "users", "user:10"]:
        await kv.put(name, "x", metadata={"n": name} if name == "user:2" else None)

    page1 = await kv.list(prefix="user:", limit=2)
    assert [k["name"] for k in page1["keys"]] == ["user:1", "user:10"]
    assert page1["list_complete"] is False and page1["cursor"]
    page2 = await kv.list(prefix="user:", limit=2, cursor=page1["cursor"])
    assert [k["name"] for k in page2["keys"]] == ["user:2", "user:3"]
    assert page2["keys"][0]["metadata"] == {"n": "user:2"}
    assert page2["keys"][1]["metadata"] is None
    assert page2["list_complete"] is True and page2["cursor"] is None
    head = await kv.list({"prefix": "user", "limit": 4})  # Cloudflare's options object
    tail = await kv.list({"prefix": "user", "limit": 4, "cursor": head["cursor"]})
    assert [k["name"] for k in tail["keys"]] == ["users"] and tail["list_complete"] is True

    everything = await kv.list()
    assert len(everything["keys"]) == 6 and everything["list_complete"] is True
    assert await kv.get_with_metadata("user:2") == {"value": "x", "metadata": {"n": "user:2"}}


# -- R2 ---------------------------------------------------------------------------------------


async def test_r2_put_get_head_and_metadata_round_trip(tmp_path: Path) -> None:
    clock = Clock()
    bucket = R2Bucket(tmp_path / "bucket", now=clock)
    rows = [{"id": 1, "normalized": "a"}]
    put = await bucket.put(
        "processed/1.json",
        json.dumps(rows),
        {"httpMetadata": {"contentType": "application/json"}, "customMetadata": {"run": "r1"}},
    )
    body = json.dumps(rows).encode()
    assert put.size == len(body)
    assert put.etag == hashlib.md5(body).hexdigest()
    assert put.http_etag == f'"{put.etag}"'
    assert put.uploaded == datetime.fromtimestamp(clock.now, tz=UTC)

    obj = await bucket.get("processed/1.json")
    assert isinstance(obj, R2ObjectBody)
    assert await obj.json() == rows
    assert await obj.text() == json.dumps(rows)
    assert await obj.bytes() == body and await obj.arrayBuffer() == body
    assert obj.http_metadata == {"contentType": "application/json"}
    assert obj.custom_metadata == {"run": "r1"}
    assert obj.version == put.version

    await bucket.put("img.png", b"\x89PNG", custom_metadata={"k": "v"})
    head = await bucket.head("img.png")
    assert head is not None and head.size == 4 and head.custom_metadata == {"k": "v"}
    assert not hasattr(head, "body")
    assert await bucket.get("nope") is None and await bucket.head("nope") is None

    # A new bucket object over the same directory sees the same data.
    again = await R2Bucket(tmp_path / "bucket").get("img.png")
    assert again is not None and await again.array_buffer() == b"\x89PNG"


async def test_r2_overwrite_delete_and_keys_that_nest(tmp_path: Path) -> None:
    bucket = R2Bucket(tmp_path)
    await bucket.put("a", "file")
    await bucket.put("a/b", "nested")  # "a" is both an object and a "directory"
    await bucket.put("A", "upper")
    await bucket.put("a", "v2")
    got_a, got_ab, got_upper = [await bucket.get(k) for k in ("a", "a/b", "A")]
    assert got_a is not None and await got_a.text() == "v2"
    assert got_ab is not None and await got_ab.text() == "nested"
    assert got_upper is not None and await got_upper.text() == "upper"
    # Overwriting left exactly one data file per object.
    assert len(list((tmp_path / "objects").glob("*/*.data"))) == 3

    await bucket.delete("a")
    await bucket.delete(["a/b", "never-existed"])
    assert await bucket.get("a") is None and await bucket.get("a/b") is None
    assert [o.key for o in (await bucket.list())["objects"]] == ["A"]
    assert len(list((tmp_path / "objects").glob("*/*.data"))) == 1


async def test_r2_list_prefix_delimiter_and_cursor(tmp_path: Path) -> None:
    bucket = R2Bucket(tmp_path)
    keys = ["photos/2024/a.jpg", "photos/2024/b.jpg", "photos/2025/c.jpg", "photos/x.jpg"]
    keys += ["public/p.png", "readme.txt"]
    for key in keys:
        await bucket.put(key, key)

    everything = await bucket.list()
    assert [o.key for o in everything["objects"]] == sorted(keys)
    assert everything["truncated"] is False and everything["cursor"] is None

    top = await bucket.list(delimiter="/")
    assert [o.key for o in top["objects"]] == ["readme.txt"]
    assert top["delimited_prefixes"] == ["photos/", "public/"]

    photos = await bucket.list(prefix="photos/", delimiter="/")
    assert [o.key for o in photos["objects"]] == ["photos/x.jpg"]
    assert photos["delimited_prefixes"] == ["photos/2024/", "photos/2025/"]

    # Pages of one entry each; prefixes count towards the limit and are not repeated.
    seen: list[str] = []
    cursor: str | None = None
    while True:
        page = await bucket.list(
            {"prefix": "photos/", "delimiter": "/", "limit": 1, "cursor": cursor}
        )
        seen += page["delimited_prefixes"] + [o.key for o in page["objects"]]
        if not page["truncated"]:
            break
        cursor = page["cursor"]
    assert seen == ["photos/2024/", "photos/2025/", "photos/x.jpg"]

    flat = await bucket.list(prefix="photos/2024/", limit=1)
    assert [o.key for o in flat["objects"]] == ["photos/2024/a.jpg"] and flat["truncated"]
    rest = await bucket.list(prefix="photos/2024/", limit=1, cursor=flat["cursor"])
    assert [o.key for o in rest["objects"]] == ["photos/2024/b.jpg"]


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("../escape.txt", r"'\.\.' path segments"),
        ("a/../../b", r"'\.\.' path segments"),
        ("a\\..\\b", r"'\.\.' path segments"),
        ("/etc/passwd", "absolute"),
        ("C:\\Windows", "absolute"),
        ("", "empty"),
        ("x" * 1025, "1024 bytes"),
    ],
)
async def test_r2_rejects_unsafe_keys(tmp_path: Path, key: str, reason: str) -> None:
    bucket = R2Bucket(tmp_path / "bucket")
    with pytest.raises(R2KeyError, match=reason):
        await bucket.put(key, "x")
    with pytest.raises(R2KeyError):
        await bucket.get(key)
    with pytest.raises(R2KeyError):
        await bucket.delete(["fine", key])
    files = await asyncio.to_thread(lambda: list(tmp_path.rglob("*")))
    assert not any(p.suffix == ".data" for p in files)


async def test_r2_rejects_bad_values_and_metadata(tmp_path: Path) -> None:
    bucket = R2Bucket(tmp_path)
    with pytest.raises(TypeError, match=r"json\.dumps"):
        await bucket.put("k", {"a": 1})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown field 'colour'"):
        await bucket.put("k", "v", http_metadata={"colour": "red"})
    with pytest.raises(TypeError, match="str to str"):
        await bucket.put("k", "v", custom_metadata={"n": 1})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="unknown options"):
        await bucket.put("k", "v", {"md5": "x"})
    empty = await bucket.put("empty", None)
    assert empty.size == 0


# -- fetch ------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path.startswith("/status/"):
            self._send(int(self.path.rsplit("/", 1)[1]), {"error": "nope"})
        elif self.path == "/redirect":
            self._send(302, {}, {"Location": "/data"})
        else:
            self._send(200, {"path": self.path, "auth": self.headers.get("Authorization")})

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        self._send(
            201,
            {
                "body": body,
                "content_type": self.headers.get("Content-Type"),
                "idempotency_key": self.headers.get("Idempotency-Key"),
            },
        )


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


async def test_fetch_get_json(server: str) -> None:
    response = await fetch(f"{server}/data?x=1")
    assert response.ok and response.status == 200 and response.status_text == "OK"
    assert response.headers.get("content-type") == "application/json"
    assert await response.json() == {"path": "/data?x=1", "auth": None}
    assert json.loads(await response.text()) == await response.json()  # body re-readable


async def test_fetch_post_with_init_dict_like_javascript(server: str) -> None:
    response = await fetch(
        f"{server}/charge",
        {
            "method": "POST",
            "headers": {"Idempotency-Key": "inst-1-charge-payment"},
            "body": json.dumps({"orderId": "o1", "amount": 5}),
        },
    )
    assert response.status == 201 and response.ok
    echoed = await response.json()
    assert json.loads(echoed["body"]) == {"orderId": "o1", "amount": 5}
    assert echoed["content_type"] == "text/plain;charset=UTF-8"  # as the Fetch API sends
    assert echoed["idempotency_key"] == "inst-1-charge-payment"


async def test_fetcher_json_keyword_base_url_and_default_headers(server: str) -> None:
    service = Fetcher(server, headers={"Authorization": "Bearer t"})
    posted = await service.fetch("/jobs", method="post", json={"videoId": "v1"})
    echoed = await posted.json()
    assert echoed["content_type"] == "application/json"
    assert json.loads(echoed["body"]) == {"videoId": "v1"}
    got = await service.fetch("/users/1/preferences")
    assert await got.json() == {"path": "/users/1/preferences", "auth": "Bearer t"}


async def test_fetch_non_2xx_is_not_ok_and_does_not_raise(server: str) -> None:
    response = await fetch(f"{server}/status/503")
    assert response.status == 503 and response.ok is False
    assert await response.json() == {"error": "nope"}
    assert (await fetch(f"{server}/status/404")).ok is False


async def test_fetch_redirect_modes(server: str) -> None:
    followed = await fetch(f"{server}/redirect")
    assert followed.status == 200 and followed.redirected and followed.url.endswith("/data")
    manual = await fetch(f"{server}/redirect", {"redirect": "manual"})
    assert manual.status == 302 and manual.headers["location"] == "/data"
    with pytest.raises(FetchError, match="redirected"):
        await fetch(f"{server}/redirect", redirect="error")


async def test_fetch_errors(server: str) -> None:
    closed = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    port = closed.server_address[1]
    closed.server_close()
    with pytest.raises(FetchError) as info:
        await fetch(f"http://127.0.0.1:{port}/x")
    assert info.value.url == f"http://127.0.0.1:{port}/x" and info.value.method == "GET"
    assert isinstance(info.value.__cause__, httpx.ConnectError)
    with pytest.raises(ValueError, match="GET request"):
        await fetch(f"{server}/x", {"body": "nope"})
    with pytest.raises(TypeError, match="unsupported keys"):
        await fetch(f"{server}/x", {"mode": "cors"})
    with pytest.raises(TypeError, match=r"json\.dumps"):
        await fetch(f"{server}/x", {"method": "POST", "body": {"a": 1}})
    with pytest.raises(ValueError, match="absolute URL"):
        await fetch("/relative")


async def test_fetcher_with_injected_transport_and_from_a_thread() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"n": len(seen)})

    fetcher = Fetcher("https://api.example.com", transport=httpx.MockTransport(handler))
    first = await fetcher.fetch("/data")
    # A sync step body in a worker thread, with its own event loop.
    second = await asyncio.to_thread(lambda: asyncio.run(fetcher.fetch("/data")))
    assert await first.json() == {"n": 1} and await second.json() == {"n": 2}
    assert str(seen[0].url) == "https://api.example.com/data"


# -- AI ---------------------------------------------------------------------------------------

ZOD_STYLE_SCHEMA = {
    "$ref": "#/definitions/InventionExtraction",
    "definitions": {
        "InventionExtraction": {
            "type": "object",
            "properties": {
                "title": {"type": "string"},
                "description": {"type": "string"},
                "features": {"type": "array", "items": {"type": "string"}},
                "novel": {"type": "boolean"},
                "claims": {"type": "integer", "minimum": 1, "maximum": 5},
            },
            "required": ["title", "description", "features"],
        }
    },
    "$schema": "http://json-schema.org/draft-07/schema#",
}


async def test_offline_ai_is_deterministic_text() -> None:
    ai = OfflineAI()
    inputs = {"prompt": "Summarize: Ada writes engines."}
    one = await ai.run("@cf/meta/llama-3-8b-instruct", inputs)
    two = await OfflineAI().run("@cf/meta/llama-3-8b-instruct", dict(inputs))
    assert one == two
    assert isinstance(one["response"], str) and "Ada writes engines." in one["response"]
    assert one["usage"]["total_tokens"] > 0
    other_model = await ai.run("@cf/other", inputs)
    assert other_model["response"] != one["response"]
    capped = await ai.run("@cf/x", {"prompt": "a b c d e f g h", "max_tokens": 3})
    assert len(capped["response"].split()) == 3
    chat = await ai.run(
        "@cf/x",
        {
            "messages": [
                {"role": "system", "content": "Be brief"},
                {"role": "user", "content": "Hi"},
            ]
        },
    )
    assert chat["response"].endswith("Hi")


async def test_offline_ai_json_shaped_output() -> None:
    ai = OfflineAI()
    asked = await ai.run("@cf/x", {"prompt": "Classify this ticket. Reply in JSON."})
    parsed = json.loads(asked["response"])
    assert isinstance(parsed, dict) and set(parsed) == {"summary", "keywords", "confidence"}

    system = (
        "Extract invention features from the conversation.\n"
        "You MUST respond with ONLY valid JSON matching this schema:\n"
        + json.dumps(ZOD_STYLE_SCHEMA, indent=2)
        + "\nReturn ONLY the JSON object, no markdown, no explanations."
    )
    inputs = {
        "messages": [
            {"role": "system", "content": system},
            {"role": "user", "content": '[{"type": "user", "message": "a self-watering pot"}]'},
        ]
    }
    extraction = json.loads((await ai.run("@cf/x", inputs))["response"])
    assert set(extraction) == {"title", "description", "features", "novel", "claims"}
    assert isinstance(extraction["title"], str) and isinstance(extraction["novel"], bool)
    assert len(extraction["features"]) == 3
    assert all(isinstance(f, str) for f in extraction["features"])
    assert 1 <= extraction["claims"] <= 5
    assert json.loads((await ai.run("@cf/x", inputs))["response"]) == extraction

    mode = await ai.run(
        "@cf/x",
        {
            "prompt": "Tell me about India.",
            "response_format": {
                "type": "json_schema",
                "json_schema": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "size": {"type": "string", "enum": ["big", "small"]},
                    },
                },
            },
        },
    )
    assert isinstance(mode["response"], dict)  # JSON mode returns an object, as Workers AI
    assert set(mode["response"]) == {"name", "size"} and mode["response"]["size"] in (
        "big",
        "small",
    )


async def test_offline_ai_image_description_and_bad_inputs() -> None:
    ai = OfflineAI()
    image = list(b"\x89PNG\r\n\x1a\nfake")
    out = await ai.run(
        "@cf/llava-hf/llava-1.5-7b-hf", {"image": image, "prompt": "Describe this image"}
    )
    assert set(out) == {"description"} and "12 bytes" in out["description"]
    with pytest.raises(ValueError, match="need a 'prompt'"):
        await ai.run("@cf/x", {})
    with pytest.raises(ValueError, match="not both"):
        await ai.run("@cf/x", {"prompt": "a", "messages": [{"role": "user", "content": "b"}]})
    with pytest.raises(ValueError, match="role"):
        await ai.run("@cf/x", {"messages": [{"role": "robot", "content": "b"}]})
    with pytest.raises(ValueError, match="byte values"):
        await ai.run("@cf/x", {"image": [300]})


class _FakeMessages:
    def __init__(self, reply: str) -> None:
        self.reply = reply
        self.calls: list[dict[str, Any]] = []

    async def create(self, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        return types.SimpleNamespace(
            content=[
                types.SimpleNamespace(type="thinking", text="ignored"),
                types.SimpleNamespace(type="text", text=self.reply),
            ],
            usage=types.SimpleNamespace(input_tokens=11, output_tokens=7),
        )


class _FakeClient:
    """Stands in for anthropic.AsyncAnthropic: records messages.create calls."""

    def __init__(self, reply: str) -> None:
        self.messages = _FakeMessages(reply)


async def test_anthropic_ai_maps_workers_ai_inputs_to_messages_api() -> None:
    client = _FakeClient("Hello there")
    ai = AnthropicAI(model="claude-haiku-4-5", client=client, max_tokens=256)
    out = await ai.run(
        "@cf/meta/llama-3-8b-instruct",
        {
            "messages": [
                {"role": "system", "content": "Analyze patent relevance."},
                {"role": "user", "content": "Invention: pot"},
                {"role": "assistant", "content": "Noted."},
                {"role": "user", "content": "Patent: planter"},
            ],
            "temperature": 0.2,
        },
    )
    assert out == {
        "response": "Hello there",
        "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
    }
    assert client.messages.calls[-1] == {
        "model": "claude-haiku-4-5",  # a Workers AI model id falls back to the configured model
        "max_tokens": 256,
        "system": "Analyze patent relevance.",
        "messages": [
            {"role": "user", "content": "Invention: pot"},
            {"role": "assistant", "content": "Noted."},
            {"role": "user", "content": "Patent: planter"},
        ],
        "temperature": 0.2,
    }

    await ai.run("claude-sonnet-4-5", {"prompt": "Summarize: x", "max_tokens": 50})
    assert client.messages.calls[-1] == {
        "model": "claude-sonnet-4-5",
        "max_tokens": 50,
        "messages": [{"role": "user", "content": "Summarize: x"}],
    }

    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 8
    described = await ai.run("@cf/llava-hf/llava-1.5-7b-hf", {"image": list(png)})
    assert described == {"description": "Hello there"}
    content = client.messages.calls[-1]["messages"][0]["content"]
    assert content[0]["type"] == "image"
    assert content[0]["source"]["media_type"] == "image/png"
    assert content[1] == {"type": "text", "text": "Describe this image."}


async def test_anthropic_ai_json_mode_parses_reply() -> None:
    client = _FakeClient('```json\n{"name": "India"}\n```')
    ai = AnthropicAI(client=client)
    schema = {"type": "object", "properties": {"name": {"type": "string"}}}
    out = await ai.run(
        "@cf/x",
        {
            "prompt": "Tell me about India.",
            "response_format": {"type": "json_schema", "json_schema": schema},
        },
    )
    assert out["response"] == {"name": "India"}
    system = client.messages.calls[-1]["system"]
    assert "ONLY a valid JSON value" in system and '"name"' in system

    client.messages.reply = "not json"
    with pytest.raises(ValueError, match="not valid JSON"):
        await ai.run("@cf/x", {"prompt": "x", "response_format": {"type": "json_object"}})


def test_default_ai_selection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    assert isinstance(default_ai(), OfflineAI)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "")
    assert isinstance(default_ai(), OfflineAI)

    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-test")
    fake_sdk = types.ModuleType("anthropic")
    fake_sdk.AsyncAnthropic = _FakeClient  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "anthropic", fake_sdk)
    assert isinstance(default_ai(), AnthropicAI)

    monkeypatch.setitem(sys.modules, "anthropic", None)  # makes `import anthropic` fail
    with pytest.raises(ImportError, match=r"pip install 'tempflare\[ai\]'"):
        default_ai()
