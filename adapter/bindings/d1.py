"""Cloudflare's D1 binding (``env.DB``) on SQLite, PostgreSQL or Cloudflare's own D1 API.

D1 is SQLite, so on the SQLite backend the SQL a Worker sends to D1 runs unchanged::

    user = await env.DB.prepare("SELECT * FROM users WHERE id = ?").bind(user_id).first()
    await env.DB.batch([
        env.DB.prepare("INSERT INTO records VALUES (?, ?)").bind(r["id"], r["normalized"])
        for r in rows
    ])

Errors::

    Exception
     └── D1Error          any failure reported by SQLite, with the SQL that caused it
"""

from __future__ import annotations

import builtins
import os
import re
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeAlias, overload

from .._shared.errors import InvalidValueError, TempflareError, WrongTypeError
from ._sqlite import LockedConnection
from ._urls import redact, sqlite_file
from ._urls import scheme as _scheme

#: A value that can be bound to a ``?`` placeholder (``bool`` is stored as 0/1, as D1 does).
D1Value: TypeAlias = int | float | str | bytes | bool | None

_Row: TypeAlias = dict[str, Any]

_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)


class D1Error(TempflareError):
    """A statement failed; the message quotes SQLite's error and the offending SQL.

    Attributes:
        sql: The SQL text of the failing statement, if known.
    """

    def __init__(self, message: str, *, sql: str | None = None) -> None:
        super().__init__(message)
        self.sql = sql


@dataclass(frozen=True, slots=True)
class D1Result:
    """The outcome of :meth:`D1PreparedStatement.all` / :meth:`~D1PreparedStatement.run`.

    Attributes:
        results: The rows, each a ``{column: value}`` dict (empty for statements without rows).
        success: Always ``True``; failures raise :class:`D1Error` instead, as D1 does.
        meta: ``changes`` (rows modified), ``last_row_id``, ``changed_db`` (bool) and
            ``duration`` (milliseconds).
    """

    results: list[_Row] = field(default_factory=list)
    success: bool = True
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class D1ExecResult:
    """The outcome of :meth:`D1Database.exec`.

    Attributes:
        count: How many statements were executed.
        duration: Total time in milliseconds.
    """

    count: int
    duration: float


@dataclass(frozen=True, slots=True)
class _Outcome:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    meta: dict[str, Any]


def _normalise_value(index: int, value: object) -> D1Value:
    if value is None or isinstance(value, int | float | str | bytes):
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    raise WrongTypeError(
        f"D1 cannot bind parameter {index} of type {type(value).__name__} ({value!r}); "
        "use None, int, float, str, bytes or bool (serialise objects with json.dumps)"
    )


def _error(exc: BaseException, sql: str, prefix: str = "D1_ERROR") -> D1Error:
    return D1Error(f"{prefix}: {exc}: SQL: {sql.strip()}", sql=sql)


def _batch_error(exc: BaseException, index: int, sql: str) -> D1Error:
    return _error(exc, sql, f"D1_ERROR: batch statement {index} failed, rolled back")


def _execute(conn: sqlite3.Connection, sql: str, params: tuple[D1Value, ...]) -> _Outcome:
    start = time.perf_counter()
    cursor = conn.execute(sql, params)
    try:
        rows = cursor.fetchall()
        columns = [d[0] for d in cursor.description] if cursor.description else []
        # rowcount is only meaningful (and final) once all rows have been fetched.
        changes = max(cursor.rowcount, 0)
        last_row_id = cursor.lastrowid or 0
    finally:
        cursor.close()
    meta = {
        "changes": changes,
        "last_row_id": last_row_id,
        "changed_db": changes > 0,
        "duration": (time.perf_counter() - start) * 1000.0,
    }
    return _Outcome(columns, rows, meta)


def _split_script(script: str) -> builtins.list[str]:
    """Splits a multi-statement script on the ``;`` that end complete statements."""
    statements: builtins.list[str] = []
    start = 0
    for pos, char in enumerate(script):
        if char == ";" and sqlite3.complete_statement(script[start : pos + 1]):
            statements.append(script[start : pos + 1])
            start = pos + 1
    tail = script[start:]
    if tail.strip():
        statements.append(tail)
    # Drop pieces holding only whitespace, semicolons and comments.
    return [s for s in statements if _COMMENT.sub("", s).strip(" \t\r\n;")]


class D1PreparedStatement:
    """A SQL statement plus its bound values; immutable, so it can be reused and rebound.

    Created by :meth:`D1Database.prepare`. Every execution method is a coroutine.
    """

    __slots__ = ("_db", "_params", "_sql")

    def __init__(self, db: D1Database, sql: str, params: tuple[D1Value, ...] = ()) -> None:
        """Creates a statement; prefer :meth:`D1Database.prepare`.

        Args:
            db: The database the statement runs against.
            sql: One SQL statement, with ``?`` or ``?NNN`` placeholders.
            params: Values for the placeholders, in order.
        """
        self._db = db
        self._sql = sql
        self._params = params

    @property
    def sql(self) -> str:
        """The statement's SQL text."""
        return self._sql

    @property
    def params(self) -> tuple[D1Value, ...]:
        """The values bound so far."""
        return self._params

    @property
    def database(self) -> D1Database:
        """The database this statement belongs to."""
        return self._db

    def bind(self, *values: D1Value) -> D1PreparedStatement:
        """Returns a new statement with ``values`` bound to the placeholders, in order.

        ``?NNN`` placeholders refer to the NNN-th value (1-based), as in SQLite.

        Raises:
            TypeError: if a value is not None, int, float, str, bytes or bool.
        """
        params = tuple(_normalise_value(i, v) for i, v in enumerate(values, start=1))
        return D1PreparedStatement(self._db, self._sql, params)

    async def _run(self) -> _Outcome:
        return await self._db._run_statement(self._sql, self._params)

    @overload
    async def first(self) -> _Row | None: ...

    @overload
    async def first(self, column: str) -> Any: ...

    async def first(self, column: str | None = None) -> Any:
        """Runs the statement and returns its first row.

        Args:
            column: If given, return only this column's value from the first row.

        Returns:
            The first row as a dict, the requested column's value, or None if there are no rows.

        Raises:
            D1Error: on a SQL error, or if ``column`` is not in the result.
        """
        outcome = await self._run()
        if not outcome.rows:
            return None
        row = dict(zip(outcome.columns, outcome.rows[0], strict=True))
        if column is None:
            return row
        if column not in row:
            raise D1Error(
                f"D1_COLUMN_NOTFOUND: column {column!r} not in result columns "
                f"{outcome.columns}: SQL: {self._sql.strip()}",
                sql=self._sql,
            )
        return row[column]

    async def all(self) -> D1Result:
        """Runs the statement and returns every row plus metadata.

        Raises:
            D1Error: on a SQL error.
        """
        outcome = await self._run()
        results = [dict(zip(outcome.columns, r, strict=True)) for r in outcome.rows]
        return D1Result(results=results, success=True, meta=outcome.meta)

    async def run(self) -> D1Result:
        """Runs the statement (typically INSERT/UPDATE/DELETE); same result shape as :meth:`all`.

        Raises:
            D1Error: on a SQL error.
        """
        return await self.all()

    async def raw(self, *, column_names: bool = False) -> builtins.list[builtins.list[Any]]:
        """Runs the statement and returns rows as lists of values (no column names).

        Args:
            column_names: If true, the first list holds the column names (D1's
                ``raw({ columnNames: true })``).

        Raises:
            D1Error: on a SQL error.
        """
        outcome = await self._run()
        rows = [list(r) for r in outcome.rows]
        return [list(outcome.columns), *rows] if column_names else rows

    def __repr__(self) -> str:
        return f"D1PreparedStatement(sql={self._sql.strip()!r}, params={self._params!r})"


class _D1Backend(Protocol):
    """What a D1 backend does; :class:`D1Database` adds validation and the statement API."""

    location: str

    async def run(self, sql: str, params: tuple[D1Value, ...]) -> _Outcome: ...

    async def batch(
        self, statements: builtins.list[tuple[str, tuple[D1Value, ...]]]
    ) -> builtins.list[_Outcome]: ...

    async def exec(self, statements: builtins.list[str]) -> None: ...

    async def aclose(self) -> None: ...

    def close(self) -> None: ...


class _SQLiteBackend:
    """D1 on a local SQLite file: one connection behind a lock, queries in a worker thread."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._conn = LockedConnection(path, foreign_keys=True)
        self.location = self._conn.path

    async def run(self, sql: str, params: tuple[D1Value, ...]) -> _Outcome:
        def work(conn: sqlite3.Connection) -> _Outcome:
            try:
                return _execute(conn, sql, params)
            except (sqlite3.Error, OverflowError) as exc:
                raise _error(exc, sql) from exc

        return await self._conn.run(work)

    async def batch(
        self, statements: builtins.list[tuple[str, tuple[D1Value, ...]]]
    ) -> builtins.list[_Outcome]:
        def work(conn: sqlite3.Connection) -> builtins.list[_Outcome]:
            try:
                # IMMEDIATE takes the write lock up front, so two processes cannot deadlock
                # upgrading read locks.
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise _error(exc, "BEGIN IMMEDIATE") from exc
            outcomes: builtins.list[_Outcome] = []
            try:
                for index, (sql, params) in enumerate(statements):
                    try:
                        outcomes.append(_execute(conn, sql, params))
                    except (sqlite3.Error, OverflowError) as exc:
                        raise _batch_error(exc, index, sql) from exc
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            return outcomes

        return await self._conn.run(work)

    async def exec(self, statements: builtins.list[str]) -> None:
        def work(conn: sqlite3.Connection) -> None:
            for statement in statements:
                try:
                    conn.execute(statement).close()
                except sqlite3.Error as exc:
                    raise _error(exc, statement) from exc

        await self._conn.run(work)

    async def aclose(self) -> None:
        self.close()

    def close(self) -> None:
        self._conn.close()


def _open_backend(target: str | os.PathLike[str]) -> _D1Backend:
    text = os.fspath(target)
    path = sqlite_file(text)
    if path is not None:
        return _SQLiteBackend(path)
    scheme = _scheme(text)
    if scheme in ("postgres", "postgresql"):
        from ._d1_postgres import PostgresD1Backend

        return PostgresD1Backend(text)
    if scheme == "cloudflare":
        from ._cloudflare import CloudflareD1Backend

        return CloudflareD1Backend(text)
    raise InvalidValueError(
        f"D1 binding URL {redact(text)!r} has an unknown scheme {scheme!r}; use a SQLite path, "
        "sqlite:///path, postgresql://user:password@host/db or "
        "cloudflare://<account_id>/d1/<database_id>"
    )


class D1Database:
    """A D1 database: a local SQLite file, PostgreSQL, or Cloudflare's D1 over its HTTP API.

    The backend is chosen by ``target``:

    * a path (``"data/db.sqlite"``, ``":memory:"``) or ``sqlite:///data/db.sqlite``: SQLite (WAL
      mode, foreign keys enforced);
    * ``postgresql://user:password@host:5432/db?schema=app``: PostgreSQL through asyncpg
      (``pip install 'tempflare[postgres]'``); ``?`` placeholders become ``$n``, ``batch`` is one
      transaction, a few SQLite-isms are translated (docs/bindings.md);
    * ``cloudflare://<account_id>/d1/<database_id>``: Cloudflare's D1 HTTP API (token from
      ``$CLOUDFLARE_API_TOKEN``).

    Safe to share between coroutines, threads and event loops.

    Args:
        target: The SQLite file (created with its parent directory if missing), ``":memory:"``,
            or a binding URL as above.

    Raises:
        InvalidValueError: for a URL with an unknown scheme or bad options.
    """

    def __init__(self, target: str | os.PathLike[str]) -> None:
        self._backend = _open_backend(target)

    @property
    def path(self) -> str:
        """Where the data lives: the SQLite file path, or the URL (password hidden)."""
        return self._backend.location

    def prepare(self, sql: str) -> D1PreparedStatement:
        """Prepares one SQL statement for :meth:`~D1PreparedStatement.bind` and execution.

        Raises:
            TypeError: if ``sql`` is not a string.
            ValueError: if ``sql`` is empty.
        """
        if not isinstance(sql, str):
            raise WrongTypeError(f"D1 prepare() needs a SQL string, got {type(sql).__name__}")
        if not sql.strip():
            raise InvalidValueError("D1 prepare() got an empty SQL string")
        return D1PreparedStatement(self, sql)

    async def _run_statement(self, sql: str, params: tuple[D1Value, ...]) -> _Outcome:
        return await self._backend.run(sql, params)

    async def batch(self, statements: Sequence[D1PreparedStatement]) -> builtins.list[D1Result]:
        """Runs statements in order inside one transaction: all succeed or none apply.

        Args:
            statements: Prepared (and bound) statements from this database.

        Returns:
            One :class:`D1Result` per statement, in order.

        Raises:
            D1Error: if any statement fails; the transaction is rolled back and the message
                names the failing statement's index and SQL.
            TypeError: if an item is not a :class:`D1PreparedStatement`.
            ValueError: if a statement belongs to another database.
        """
        stmts = list(statements)
        for index, stmt in enumerate(stmts):
            if not isinstance(stmt, D1PreparedStatement):
                raise WrongTypeError(
                    f"D1 batch() item {index} is {type(stmt).__name__}, not a prepared statement"
                )
            if stmt.database is not self:
                raise InvalidValueError(f"D1 batch() item {index} was prepared on another database")
        if not stmts:
            return []
        outcomes = await self._backend.batch([(s.sql, s.params) for s in stmts])
        return [
            D1Result(
                results=[dict(zip(o.columns, r, strict=True)) for r in o.rows],
                success=True,
                meta=o.meta,
            )
            for o in outcomes
        ]

    async def exec(self, sql: str) -> D1ExecResult:
        """Runs a script of one or more ``;``-separated statements, e.g. a schema migration.

        Statements run one after another without an enclosing transaction (use :meth:`batch`
        for atomicity); results are discarded.

        Raises:
            D1Error: naming the first statement that failed; earlier statements stay applied.
        """
        statements = _split_script(sql)
        start = time.perf_counter()
        await self._backend.exec(statements)
        return D1ExecResult(len(statements), (time.perf_counter() - start) * 1000.0)

    def close(self) -> None:
        """Closes the connections; the database cannot be used afterwards."""
        self._backend.close()

    async def aclose(self) -> None:
        """Closes the connections gracefully (PostgreSQL pools of the current event loop)."""
        await self._backend.aclose()

    def __repr__(self) -> str:
        return f"D1Database({self.path!r})"
