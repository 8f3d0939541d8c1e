"""A local, SQLite-backed implementation of Cloudflare's D1 binding (``env.DB``).

D1 is SQLite, so the SQL a Worker sends to D1 runs here unchanged::

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
from typing import Any, TypeAlias, overload

from .._shared.errors import InvalidValueError, TempflareError, WrongTypeError
from ._sqlite import LockedConnection

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


class D1Database:
    """A D1 database stored in a local SQLite file (WAL mode, foreign keys enforced).

    Safe to share between coroutines, threads and event loops: one connection serialised by a
    lock, with queries run in a worker thread. Several worker processes may share the file.

    Args:
        path: The SQLite file (created with its parent directory if missing), or ``":memory:"``.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._conn = LockedConnection(path, foreign_keys=True)

    @property
    def path(self) -> str:
        """The SQLite file path."""
        return self._conn.path

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
        def work(conn: sqlite3.Connection) -> _Outcome:
            try:
                return _execute(conn, sql, params)
            except (sqlite3.Error, OverflowError) as exc:
                raise _error(exc, sql) from exc

        return await self._conn.run(work)

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

        def work(conn: sqlite3.Connection) -> builtins.list[D1Result]:
            try:
                # IMMEDIATE takes the write lock up front, so two processes cannot deadlock
                # upgrading read locks.
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise _error(exc, "BEGIN IMMEDIATE") from exc
            results: builtins.list[D1Result] = []
            try:
                for index, stmt in enumerate(stmts):
                    try:
                        outcome = _execute(conn, stmt.sql, stmt.params)
                    except (sqlite3.Error, OverflowError) as exc:
                        raise _error(
                            exc, stmt.sql, f"D1_ERROR: batch statement {index} failed, rolled back"
                        ) from exc
                    rows = [dict(zip(outcome.columns, r, strict=True)) for r in outcome.rows]
                    results.append(D1Result(results=rows, success=True, meta=outcome.meta))
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            return results

        return await self._conn.run(work)

    async def exec(self, sql: str) -> D1ExecResult:
        """Runs a script of one or more ``;``-separated statements, e.g. a schema migration.

        Statements run one after another without an enclosing transaction (use :meth:`batch`
        for atomicity); results are discarded.

        Raises:
            D1Error: naming the first statement that failed; earlier statements stay applied.
        """
        statements = _split_script(sql)

        def work(conn: sqlite3.Connection) -> D1ExecResult:
            start = time.perf_counter()
            for statement in statements:
                try:
                    conn.execute(statement).close()
                except sqlite3.Error as exc:
                    raise _error(exc, statement) from exc
            return D1ExecResult(len(statements), (time.perf_counter() - start) * 1000.0)

        return await self._conn.run(work)

    def close(self) -> None:
        """Closes the underlying connection; the database cannot be used afterwards."""
        self._conn.close()

    def __repr__(self) -> str:
        return f"D1Database({self.path!r})"
