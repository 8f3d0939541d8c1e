"""D1's contract on every backend: SQLite, PostgreSQL and Cloudflare's D1 HTTP API (stand-in)."""

from __future__ import annotations

import asyncio

import pytest

from adapter import WrongTypeError
from adapter.bindings import D1Database, D1Error

SCHEMA = """
CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, score REAL, active INTEGER);
CREATE TABLE orders (id TEXT PRIMARY KEY, amount REAL NOT NULL, status TEXT NOT NULL);
"""


async def test_exec_prepare_bind_and_every_read_shape(d1: D1Database) -> None:
    assert (await d1.exec(SCHEMA)).count == 2
    insert = d1.prepare("INSERT INTO users (id, name, score, active) VALUES (?, ?, ?, ?)")
    first = await insert.bind(1, "ada", 9.5, True).run()
    assert first.success and first.meta["changes"] == 1 and first.meta["changed_db"] is True
    await insert.bind(2, "bob", None, False).run()

    assert await d1.prepare("SELECT * FROM users WHERE id = ?").bind(1).first() == {
        "id": 1,
        "name": "ada",
        "score": 9.5,
        "active": 1,
    }
    assert await d1.prepare("SELECT name FROM users WHERE id = ?").bind(2).first("name") == "bob"
    assert await d1.prepare("SELECT * FROM users WHERE id = ?").bind(99).first() is None
    rows = await d1.prepare("SELECT id, name FROM users ORDER BY id").all()
    assert rows.results == [{"id": 1, "name": "ada"}, {"id": 2, "name": "bob"}]
    raw = await d1.prepare("SELECT id, score FROM users ORDER BY id").raw(column_names=True)
    assert raw == [["id", "score"], [1, 9.5], [2, None]]

    updated = await d1.prepare("UPDATE users SET score = ? WHERE id > ?").bind(1.25, 0).run()
    assert updated.meta["changes"] == 2
    with pytest.raises(D1Error, match="D1_COLUMN_NOTFOUND"):
        await d1.prepare("SELECT name FROM users WHERE id = 1").first("nope")


async def test_numbered_placeholders_and_question_marks_in_literals(d1: D1Database) -> None:
    await d1.exec(SCHEMA)
    await (
        d1.prepare("INSERT INTO orders (id, amount, status) VALUES (?1, ?2, 'new?')")
        .bind("o1", 10)
        .run()
    )
    row = (
        await d1.prepare(
            "SELECT id, status, amount FROM orders WHERE id = ?2 AND amount = ?1 -- why?"
        )
        .bind(10, "o1")
        .first()
    )
    assert row == {"id": "o1", "status": "new?", "amount": 10}


async def test_portable_upserts(d1: D1Database) -> None:
    await d1.exec(SCHEMA)
    upsert = d1.prepare(
        "INSERT INTO orders (id, amount, status) VALUES (?, ?, ?) "
        "ON CONFLICT(id) DO UPDATE SET amount = excluded.amount, status = excluded.status"
    )
    await upsert.bind("o1", 5, "new").run()
    await upsert.bind("o1", 7.5, "paid").run()
    ignore = d1.prepare("INSERT OR IGNORE INTO orders (id, amount, status) VALUES (?, ?, ?)")
    await ignore.bind("o1", 1, "ignored").run()
    await ignore.bind("o2", 1, "kept").run()
    rows = await d1.prepare("SELECT id, amount, status FROM orders ORDER BY id").all()
    assert rows.results == [
        {"id": "o1", "amount": 7.5, "status": "paid"},
        {"id": "o2", "amount": 1, "status": "kept"},
    ]


async def test_batch_is_one_transaction(d1: D1Database) -> None:
    await d1.exec(SCHEMA)
    add = d1.prepare("INSERT INTO orders (id, amount, status) VALUES (?, ?, 'new')")
    results = await d1.batch([add.bind("a", 1), add.bind("b", 2)])
    assert [r.meta["changes"] for r in results] == [1, 1]

    with pytest.raises(D1Error, match="rolled back") as caught:
        await d1.batch([add.bind("c", 3), add.bind("a", 4)])  # "a" exists: all or nothing
    assert caught.value.sql is not None
    count = await d1.prepare("SELECT COUNT(*) AS n FROM orders").first("n")
    assert count == 2
    assert await d1.batch([]) == []


async def test_sql_errors_name_the_statement(d1: D1Database) -> None:
    with pytest.raises(D1Error, match="SELECT nonsense FROM nowhere") as caught:
        await d1.prepare("SELECT nonsense FROM nowhere").all()
    assert caught.value.sql == "SELECT nonsense FROM nowhere"
    with pytest.raises(D1Error, match="CREATE TABLE"):
        await d1.exec("CREATE TABLE ok_table (id TEXT); CREATE TABLE ok_table (id TEXT);")
    # exec is not a transaction: the first table stayed.
    assert await d1.prepare("SELECT COUNT(*) AS n FROM ok_table").first("n") == 0


async def test_from_the_loop_and_from_sync_threads_at_once(d1: D1Database) -> None:
    await d1.exec(SCHEMA)
    add = d1.prepare("INSERT INTO orders (id, amount, status) VALUES (?, ?, 'new')")

    def in_thread(n: int) -> None:
        asyncio.run(add.bind(f"thread-{n}", n).run())

    await asyncio.gather(
        *(asyncio.to_thread(in_thread, n) for n in range(4)),
        *(add.bind(f"loop-{n}", n).run() for n in range(4)),
    )
    assert await d1.prepare("SELECT COUNT(*) AS n FROM orders").first("n") == 8


async def test_blobs(d1: D1Database) -> None:
    await d1.exec("CREATE TABLE files (id TEXT PRIMARY KEY, data BLOB)")
    statement = d1.prepare("INSERT INTO files (id, data) VALUES (?, ?)").bind("f", b"\x00\xff")
    if "cloudflare://" in d1.path:
        # Cloudflare's HTTP API takes JSON parameters only.
        with pytest.raises(WrongTypeError, match="hex"):
            await statement.run()
        return
    await statement.run()
    assert await d1.prepare("SELECT data FROM files").first("data") == b"\x00\xff"
