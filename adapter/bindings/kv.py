"""Cloudflare's Workers KV binding (``env.KV``) on SQLite, Redis/Valkey or Cloudflare's KV API.

Mirrors the Workers KV API, including expiring keys::

    cached = await env.KV.get(f"payment:{key}")                 # str | None
    state = await env.KV.get("circuit:api", "json")              # parsed JSON | None
    await env.KV.put(f"payment:{key}", json.dumps(result), {"expirationTtl": 86400})
    await env.KV.put("k", "v", expiration_ttl=3600)              # keyword form
    page = await env.KV.list(prefix="user:")                     # {"keys", "list_complete", ...}

Unlike Cloudflare KV, writes are immediately visible everywhere (there is no edge cache), which
is strictly stronger than KV's eventual consistency.
"""

from __future__ import annotations

import base64
import binascii
import builtins
import json
import math
import os
import sqlite3
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal, Protocol, TypeAlias, TypedDict, overload, runtime_checkable

from .._shared.errors import InvalidValueError, WrongTypeError
from ._sqlite import MEMORY, LockedConnection
from ._urls import redact, sqlite_file
from ._urls import scheme as _scheme

#: Cloudflare's limits.
MAX_KEY_BYTES = 512
MAX_VALUE_BYTES = 25 * 1024 * 1024
MAX_METADATA_BYTES = 1024
MAX_LIST_LIMIT = 1000
CLOUDFLARE_MIN_TTL_SECONDS = 60

#: The ``type`` argument of :meth:`KVNamespace.get`; ``"bytes"`` is a Python alias of
#: ``"arrayBuffer"``.
KVGetType: TypeAlias = Literal["text", "json", "arrayBuffer", "bytes"]

#: What :meth:`KVNamespace.put` stores: text (UTF-8) or raw bytes.
KVValue: TypeAlias = str | bytes | bytearray | memoryview


class KVPutOptions(TypedDict, total=False):
    """The options object of ``KV.put(key, value, options)``, with Cloudflare's spelling.

    Attributes:
        expiration: Absolute expiry, seconds since the Unix epoch.
        expirationTtl: Expiry relative to now, in seconds (at least 60 on Cloudflare).
        metadata: Any JSON-serialisable value up to 1024 bytes, returned by ``list()`` and
            ``get_with_metadata()``.
    """

    expiration: float
    expirationTtl: float
    metadata: Any


class KVListKey(TypedDict):
    """One entry of :attr:`KVListResult.keys`.

    Attributes:
        name: The key.
        expiration: Expiry in whole seconds since the epoch, or None if the key never expires.
        metadata: The metadata stored with the key, or None.
    """

    name: str
    expiration: int | None
    metadata: Any


class KVListResult(TypedDict):
    """The result of :meth:`KVNamespace.list`.

    Attributes:
        keys: Up to ``limit`` keys in lexicographic (UTF-8 byte) order.
        list_complete: True when there are no more keys after this page.
        cursor: Pass to the next ``list()`` call to continue; None when complete.
    """

    keys: builtins.list[KVListKey]
    list_complete: bool
    cursor: str | None


class KVValueWithMetadata(TypedDict):
    """The result of :meth:`KVNamespace.get_with_metadata`.

    Attributes:
        value: The value as :meth:`KVNamespace.get` would return it (None if missing).
        metadata: The key's metadata, or None.
    """

    value: Any
    metadata: Any


_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (
    key TEXT PRIMARY KEY,
    value BLOB NOT NULL,
    expiration REAL,
    metadata TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS kv_expiration ON kv (expiration) WHERE expiration IS NOT NULL;
"""

_GET_TYPES = ("text", "json", "arrayBuffer", "bytes")
_PUT_OPTION_NAMES = {
    "expiration": "expiration",
    "expirationTtl": "expiration_ttl",
    "expiration_ttl": "expiration_ttl",
    "metadata": "metadata",
}


def _setup(conn: sqlite3.Connection) -> None:
    conn.executescript(_SCHEMA)


def _check_key(key: object) -> str:
    if not isinstance(key, str):
        raise WrongTypeError(f"KV keys must be str, got {type(key).__name__}")
    if key in ("", ".", ".."):
        raise InvalidValueError(f"KV key {key!r} is not allowed (empty, '.' and '..' are reserved)")
    size = len(key.encode("utf-8"))
    if size > MAX_KEY_BYTES:
        raise InvalidValueError(
            f"KV key is {size} bytes long; the maximum is {MAX_KEY_BYTES} bytes"
        )
    return key


def _check_seconds(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise WrongTypeError(f"KV {name} must be a number of seconds, got {value!r}")
    return float(value)


def _encode_cursor(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode("utf-8")).decode("ascii")


def _decode_cursor(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor.encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError) as exc:
        raise InvalidValueError(
            f"KV list cursor {cursor!r} is not a cursor returned by list()"
        ) from exc


def _decode_value(raw: bytes, type_: str) -> Any:
    if type_ in ("arrayBuffer", "bytes"):
        return raw
    text = raw.decode("utf-8")
    return json.loads(text) if type_ == "json" else text


_Row: TypeAlias = tuple[str, float | None, str | None]


class _KVBackend(Protocol):
    """Storage for :class:`KVNamespace`, which validates every argument first."""

    location: str

    async def read(self, key: str, now: float) -> tuple[bytes, str | None] | None: ...

    async def write(
        self, key: str, data: bytes, expires_at: float | None, metadata: str | None, now: float
    ) -> None: ...

    async def delete(self, key: str) -> None: ...

    async def scan(
        self, prefix: str, after: str, count: int, now: float
    ) -> builtins.list[_Row]: ...

    async def aclose(self) -> None: ...

    def close(self) -> None: ...


@runtime_checkable
class _PagingBackend(Protocol):
    """A backend whose store pages ``list()`` itself (with its own cursors)."""

    async def page(
        self, prefix: str, limit: int, cursor: str | None
    ) -> tuple[builtins.list[_Row], str | None]: ...


def _list_key(row: _Row) -> KVListKey:
    name, expiration, metadata = row
    return {
        "name": name,
        "expiration": None if expiration is None else int(expiration),
        "metadata": None if metadata is None else json.loads(metadata),
    }


class _SQLiteBackend:
    """KV in a SQLite table (a file, or memory)."""

    def __init__(self, path: str) -> None:
        self._conn = LockedConnection(path, setup=_setup)
        self.location = self._conn.path

    async def read(self, key: str, now: float) -> tuple[bytes, str | None] | None:
        def work(conn: sqlite3.Connection) -> tuple[bytes, str | None] | None:
            row = conn.execute(
                "SELECT value, metadata, expiration FROM kv WHERE key = ?", (key,)
            ).fetchone()
            if row is None:
                return None
            if row[2] is not None and row[2] <= now:
                conn.execute("DELETE FROM kv WHERE key = ? AND expiration <= ?", (key, now))
                return None
            return bytes(row[0]), row[1]

        return await self._conn.run(work)

    async def write(
        self, key: str, data: bytes, expires_at: float | None, metadata: str | None, now: float
    ) -> None:
        def work(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT OR REPLACE INTO kv (key, value, expiration, metadata) VALUES (?, ?, ?, ?)",
                (key, data, expires_at, metadata),
            )
            conn.execute("DELETE FROM kv WHERE expiration <= ?", (now,))

        await self._conn.run(work)

    async def delete(self, key: str) -> None:
        def work(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM kv WHERE key = ?", (key,))

        await self._conn.run(work)

    async def scan(self, prefix: str, after: str, count: int, now: float) -> builtins.list[_Row]:
        def work(conn: sqlite3.Connection) -> builtins.list[_Row]:
            rows = conn.execute(
                "SELECT key, expiration, metadata FROM kv"
                " WHERE key > ? AND substr(key, 1, ?) = ?"
                " AND (expiration IS NULL OR expiration > ?)"
                " ORDER BY key LIMIT ?",
                (after, len(prefix), prefix, now, count),
            ).fetchall()
            return [(str(r[0]), r[1], r[2]) for r in rows]

        return await self._conn.run(work)

    async def aclose(self) -> None:
        self.close()

    def close(self) -> None:
        self._conn.close()


def _open_backend(target: str | os.PathLike[str] | None) -> _KVBackend:
    if target is None:
        return _SQLiteBackend(MEMORY)
    text = os.fspath(target)
    path = sqlite_file(text)
    if path is not None:
        return _SQLiteBackend(path)
    scheme = _scheme(text)
    if scheme in ("redis", "rediss", "valkey", "valkeys", "unix"):
        from ._kv_redis import RedisKVBackend

        return RedisKVBackend(text)
    if scheme == "cloudflare":
        from ._cloudflare import CloudflareKVBackend

        return CloudflareKVBackend(text)
    raise InvalidValueError(
        f"KV binding URL {redact(text)!r} has an unknown scheme {scheme!r}; use a SQLite path, "
        "sqlite:///path, redis://host:6379/0 (or valkey://, rediss://) or "
        "cloudflare://<account_id>/kv/<namespace_id>"
    )


class KVNamespace:
    """A KV namespace with Cloudflare's TTL semantics, on SQLite, Redis/Valkey or Cloudflare.

    The backend is chosen by ``path``:

    * None: SQLite in memory, for the lifetime of this object;
    * a file path or ``sqlite:///path``: a SQLite file (created if missing);
    * ``redis://[:password@]host:6379/0?prefix=app:`` (also ``rediss://``, ``valkey://``):
      Redis or Valkey through ``redis.asyncio`` (``pip install 'tempflare[redis]'``); the
      server expires keys, a sorted set keeps ``list()`` in key order;
    * ``cloudflare://<account_id>/kv/<namespace_id>``: Cloudflare's KV HTTP API (token from
      ``$CLOUDFLARE_API_TOKEN``).

    Expired keys are invisible to :meth:`get` and :meth:`list`. Safe to share between
    coroutines, threads and event loops.

    Args:
        path: Where the namespace lives, as above.
        min_ttl_seconds: The smallest ``expirationTtl`` accepted. Cloudflare's is 60 seconds;
            tests may lower it.
        now: Clock returning seconds since the epoch; inject one to test expiry without
            sleeping.

    Raises:
        ValueError: if ``min_ttl_seconds`` is negative.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        min_ttl_seconds: float = CLOUDFLARE_MIN_TTL_SECONDS,
        now: Callable[[], float] = time.time,
    ) -> None:
        if min_ttl_seconds < 0:
            raise InvalidValueError(f"min_ttl_seconds must be >= 0, got {min_ttl_seconds!r}")
        self._backend = _open_backend(path)
        self._min_ttl = float(min_ttl_seconds)
        self._now = now

    @property
    def path(self) -> str:
        """Where the data lives: the SQLite file path, ``":memory:"``, or the URL (password
        hidden)."""
        return self._backend.location

    @overload
    async def get(self, key: str, type: Literal["text"] = "text") -> str | None: ...

    @overload
    async def get(self, key: str, type: Literal["arrayBuffer", "bytes"]) -> bytes | None: ...

    @overload
    async def get(self, key: str, type: Literal["json"] | Mapping[str, Any]) -> Any: ...

    async def get(self, key: str, type: KVGetType | Mapping[str, Any] = "text") -> Any:
        """Reads a key.

        Args:
            key: The key.
            type: ``"text"`` (str), ``"json"`` (parsed), ``"arrayBuffer"``/``"bytes"`` (bytes),
                or an options dict such as ``{"type": "json"}``.

        Returns:
            The value, or None if the key is missing or expired.

        Raises:
            ValueError: for an unknown ``type``, or a ``"json"`` read of a value that is not JSON.
        """
        result = await self.get_with_metadata(key, type)
        return result["value"]

    async def get_with_metadata(
        self, key: str, type: KVGetType | Mapping[str, Any] = "text"
    ) -> KVValueWithMetadata:
        """Reads a key together with its metadata (``getWithMetadata`` in Workers KV).

        Args:
            key: The key.
            type: As for :meth:`get`.

        Returns:
            ``{"value": ..., "metadata": ...}``; both None if the key is missing or expired.

        Raises:
            ValueError: for an unknown ``type``, or a ``"json"`` read of a value that is not JSON.
        """
        _check_key(key)
        type_ = type.get("type", "text") if isinstance(type, Mapping) else type
        if type_ not in _GET_TYPES:
            raise InvalidValueError(f"KV get() type must be one of {_GET_TYPES}, got {type_!r}")
        now = self._now()

        found = await self._backend.read(key, now)
        if found is None:
            return {"value": None, "metadata": None}
        raw, metadata = found
        return {
            "value": _decode_value(raw, str(type_)),
            "metadata": None if metadata is None else json.loads(metadata),
        }

    async def put(
        self,
        key: str,
        value: KVValue,
        options: KVPutOptions | Mapping[str, Any] | None = None,
        *,
        expiration: float | None = None,
        expiration_ttl: float | None = None,
        metadata: Any = None,
        **kwargs: Any,
    ) -> None:
        """Writes a key, optionally expiring.

        Options can be given Cloudflare-style as a dict (``{"expirationTtl": 60}``), as keywords
        (``expiration_ttl=60``), or as camelCase keywords (``expirationTtl=60``).

        Args:
            key: The key (1-512 bytes of UTF-8).
            value: Text (stored as UTF-8) or bytes. Serialise objects with ``json.dumps``.
            options: Cloudflare's options object.
            expiration: Absolute expiry, seconds since the epoch.
            expiration_ttl: Expiry relative to now, in seconds.
            metadata: JSON-serialisable metadata (up to 1024 bytes serialised).
            **kwargs: ``expirationTtl`` as a camelCase alias of ``expiration_ttl``.

        Raises:
            TypeError: for a value that is not str/bytes, or an unknown option.
            ValueError: for a TTL below ``min_ttl_seconds`` (60 on Cloudflare), an expiry too
                close to now, both ``expiration`` and ``expirationTtl``, or oversized data.
        """
        _check_key(key)
        given: dict[str, Any] = {}
        for source in (options or {}, kwargs):
            for name, option in source.items():
                if name not in _PUT_OPTION_NAMES:
                    raise WrongTypeError(
                        f"KV put() got an unknown option {name!r}; "
                        "supported: expiration, expirationTtl, metadata"
                    )
                if option is not None:
                    given[_PUT_OPTION_NAMES[name]] = option
        for name, option in (
            ("expiration", expiration),
            ("expiration_ttl", expiration_ttl),
            ("metadata", metadata),
        ):
            if option is not None:
                given[name] = option

        if isinstance(value, str):
            data = value.encode("utf-8")
        elif isinstance(value, bytes | bytearray | memoryview):
            data = bytes(value)
        else:
            raise WrongTypeError(
                f"KV values must be str or bytes, got {type(value).__name__}; "
                "serialise objects with json.dumps(...) as you would JSON.stringify(...)"
            )
        if len(data) > MAX_VALUE_BYTES:
            raise InvalidValueError(
                f"KV value is {len(data)} bytes; the maximum is {MAX_VALUE_BYTES}"
            )

        now = self._now()
        expires_at = self._expiry(now, given.get("expiration"), given.get("expiration_ttl"))
        metadata_text: str | None = None
        if "metadata" in given:
            metadata_text = json.dumps(given["metadata"], separators=(",", ":"))
            size = len(metadata_text.encode("utf-8"))
            if size > MAX_METADATA_BYTES:
                raise InvalidValueError(
                    f"KV metadata is {size} bytes serialised; the maximum is {MAX_METADATA_BYTES}"
                )

        await self._backend.write(key, data, expires_at, metadata_text, now)

    def _expiry(self, now: float, expiration: object, ttl: object) -> float | None:
        if expiration is not None and ttl is not None:
            raise InvalidValueError("KV put() takes either expiration or expirationTtl, not both")
        if ttl is not None:
            seconds = _check_seconds("expirationTtl", ttl)
            if seconds < self._min_ttl or seconds <= 0:
                raise InvalidValueError(
                    f"KV expirationTtl must be at least {self._min_ttl:g} seconds "
                    f"(Cloudflare's minimum is {CLOUDFLARE_MIN_TTL_SECONDS}), got {ttl!r}"
                )
            return now + seconds
        if expiration is not None:
            at = _check_seconds("expiration", expiration)
            if at - now < self._min_ttl or at <= now:
                raise InvalidValueError(
                    f"KV expiration must be at least {self._min_ttl:g} seconds in the future, "
                    f"got {expiration!r} ({at - now:.0f} s from now)"
                )
            return at
        return None

    async def delete(self, key: str) -> None:
        """Removes a key; deleting a missing key is not an error."""
        _check_key(key)

        await self._backend.delete(key)

    async def list(
        self,
        prefix: str | Mapping[str, Any] | None = None,
        limit: int = MAX_LIST_LIMIT,
        cursor: str | None = None,
    ) -> KVListResult:
        """Lists live keys in lexicographic order, a page at a time.

        Also accepts Cloudflare's options object: ``list({"prefix": "user:", "limit": 10})``.

        Args:
            prefix: Only keys starting with this string (or an options dict).
            limit: Page size, 1-1000.
            cursor: The ``cursor`` of the previous page.

        Returns:
            ``{"keys": [{"name", "expiration", "metadata"}], "list_complete", "cursor"}``.

        Raises:
            ValueError: for a bad limit or cursor.
        """
        if isinstance(prefix, Mapping):
            options = dict(prefix)
            unknown = set(options) - {"prefix", "limit", "cursor"}
            if unknown:
                raise WrongTypeError(f"KV list() got unknown options {sorted(unknown)}")
            prefix = options.get("prefix")
            limit = options.get("limit", limit)
            cursor = options.get("cursor", cursor)
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 1000:
            raise InvalidValueError(f"KV list() limit must be an int from 1 to 1000, got {limit!r}")
        start = prefix or ""
        now = self._now()
        if isinstance(self._backend, _PagingBackend):
            # Cloudflare's API pages with cursors of its own.
            rows, next_cursor = await self._backend.page(start, limit, cursor)
            return {
                "keys": [_list_key(row) for row in rows],
                "list_complete": next_cursor is None,
                "cursor": next_cursor,
            }
        after = "" if cursor is None else _decode_cursor(cursor)

        rows = await self._backend.scan(start, after, limit + 1, now)
        complete = len(rows) <= limit
        page = rows[:limit]
        keys = [_list_key(row) for row in page]
        return {
            "keys": keys,
            "list_complete": complete,
            "cursor": None if complete else _encode_cursor(page[-1][0]),
        }

    def close(self) -> None:
        """Closes the underlying connections; the namespace cannot be used afterwards."""
        self._backend.close()

    async def aclose(self) -> None:
        """Closes the connections gracefully (the current event loop's Redis or HTTP client)."""
        await self._backend.aclose()

    def __repr__(self) -> str:
        return f"KVNamespace({self.path!r})"
