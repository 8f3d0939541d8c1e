"""A thread-safe, event-loop-agnostic SQLite connection shared by the D1 and KV bindings.

Bindings are used from step bodies, which run either as coroutines on the worker's event loop or,
when the step body is a plain function, in a worker thread (possibly driving its own event loop
with :func:`asyncio.run`). This module therefore keeps no loop-bound state: one ``sqlite3``
connection guarded by a :class:`threading.RLock`, with blocking work pushed to a thread via
:func:`asyncio.to_thread`.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

MEMORY = ":memory:"


class LockedConnection:
    """One lazily opened SQLite connection, used by one thread at a time.

    Args:
        path: Database file, or ``":memory:"`` for a private in-memory database.
        setup: Called once with the fresh connection (inside the lock) to create schema.
        foreign_keys: Whether to enforce foreign-key constraints (D1 does by default).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        setup: Callable[[sqlite3.Connection], None] | None = None,
        foreign_keys: bool = False,
    ) -> None:
        self.path = os.fspath(path)
        self._setup = setup
        self._foreign_keys = foreign_keys
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._closed = False

    def _connect(self) -> sqlite3.Connection:
        if self.path != MEMORY:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: no implicit transactions; batches issue BEGIN/COMMIT themselves.
        conn = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=30.0
        )
        try:
            conn.execute("PRAGMA busy_timeout = 30000")
            if self.path != MEMORY:
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
            if self._foreign_keys:
                conn.execute("PRAGMA foreign_keys = ON")
            if self._setup is not None:
                self._setup(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Runs ``fn`` with the connection while holding the lock (blocking).

        Raises:
            RuntimeError: if the connection has been closed.
        """
        with self._lock:
            if self._closed:
                raise RuntimeError(f"SQLite database {self.path!r} has been closed")
            if self._conn is None:
                self._conn = self._connect()
            return fn(self._conn)

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Runs ``fn`` with the connection in a worker thread, without blocking the loop."""
        return await asyncio.to_thread(self.call, fn)

    def close(self) -> None:
        """Closes the connection; later calls raise :class:`RuntimeError`."""
        with self._lock:
            self._closed = True
            if self._conn is not None:
                self._conn.close()
                self._conn = None
