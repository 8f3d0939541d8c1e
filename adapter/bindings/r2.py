"""A local, on-disk implementation of Cloudflare's R2 bucket binding (``env.BUCKET``).

Mirrors the R2 Workers API::

    await env.BUCKET.put(f"processed/{ts}.json", json.dumps(rows))
    obj = await env.BUCKET.get(key)          # R2ObjectBody | None
    data = await obj.json()                  # or .text(), .bytes(), .array_buffer()
    page = await env.BUCKET.list(prefix="processed/", delimiter="/")

Layout under ``root``: each object is a data file plus a JSON sidecar holding its key and
metadata, under ``objects/<h[:2]>/<h>`` where ``h`` is the SHA-256 of the key. Hashing keeps any
key (``a`` next to ``a/b``, ``A`` next to ``a`` on case-insensitive disks, very long keys) safe
to store. Writes go to a temporary file that is renamed into place, and the sidecar rename is the
commit point, so readers never see a half-written object.

Errors::

    ValueError
     └── R2KeyError       a key that is empty, too long, absolute or contains '..' segments
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import builtins
import hashlib
import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias, TypedDict, cast

from .._shared.errors import InvalidValueError, WrongTypeError
from ._urls import redact
from ._urls import scheme as _scheme

if TYPE_CHECKING:
    from ._r2_s3 import S3R2Backend

MAX_KEY_BYTES = 1024
MAX_LIST_LIMIT = 1000
MAX_DELETE_KEYS = 1000

#: The HTTP metadata fields R2 stores (Cloudflare's spelling).
HTTP_METADATA_FIELDS = frozenset(
    {
        "contentType",
        "contentLanguage",
        "contentDisposition",
        "contentEncoding",
        "cacheControl",
        "cacheExpiry",
    }
)

#: What :meth:`R2Bucket.put` stores: text (UTF-8), bytes, or None for an empty object.
R2Value: TypeAlias = str | bytes | bytearray | memoryview | None


class R2KeyError(InvalidValueError):
    """An object key that cannot be used; the message says why.

    Attributes:
        key: The rejected key.
    """

    def __init__(self, key: object, reason: str) -> None:
        super().__init__(f"R2 key {key!r} is not allowed: {reason}")
        self.key = key


@dataclass(frozen=True, slots=True)
class R2Object:
    """An object's metadata, as returned by :meth:`R2Bucket.put`, ``head`` and ``list``.

    Attributes:
        key: The object key.
        version: A unique id for this upload.
        size: Size in bytes.
        etag: MD5 of the content, hex.
        http_etag: ``etag`` quoted for an HTTP ``ETag`` header.
        uploaded: When the object was written (UTC).
        http_metadata: ``contentType``, ``cacheControl`` etc., as given to ``put``.
        custom_metadata: The user's string-to-string metadata.
        storage_class: Always ``"Standard"``.
    """

    key: str
    version: str
    size: int
    etag: str
    http_etag: str
    uploaded: datetime
    http_metadata: dict[str, str] = field(default_factory=dict)
    custom_metadata: dict[str, str] = field(default_factory=dict)
    storage_class: str = "Standard"


@dataclass(frozen=True, slots=True)
class R2ObjectBody(R2Object):
    """An object with its content, as returned by :meth:`R2Bucket.get`.

    The content is read when ``get`` returns, so the body methods may be called any number of
    times.
    """

    body: builtins.bytes = field(default=b"", repr=False, compare=False)

    async def bytes(self) -> builtins.bytes:
        """Returns the content as bytes."""
        return self.body

    async def array_buffer(self) -> builtins.bytes:
        """Returns the content as bytes (Cloudflare's ``arrayBuffer()``)."""
        return self.body

    async def arrayBuffer(self) -> builtins.bytes:
        """Alias of :meth:`array_buffer`, so ported code keeps Cloudflare's name."""
        return self.body

    async def text(self) -> str:
        """Returns the content decoded as UTF-8."""
        return self.body.decode("utf-8")

    async def json(self) -> Any:
        """Returns the content parsed as JSON.

        Raises:
            json.JSONDecodeError: if the content is not JSON.
        """
        return json.loads(self.body.decode("utf-8"))


class R2Objects(TypedDict):
    """The result of :meth:`R2Bucket.list`.

    Attributes:
        objects: Objects in key order (UTF-8 byte order).
        truncated: True when more results follow; pass ``cursor`` to get them.
        cursor: The continuation cursor, or None when not truncated.
        delimited_prefixes: With a ``delimiter``, the common prefixes rolled up in this page.
    """

    objects: builtins.list[R2Object]
    truncated: bool
    cursor: str | None
    delimited_prefixes: builtins.list[str]


def _check_key(key: object) -> str:
    """Validates an R2 key, rejecting ones that could escape a directory if used as a path.

    Args:
        key: The candidate key.

    Returns:
        The key.

    Raises:
        R2KeyError: if the key is not a non-empty str of at most 1024 UTF-8 bytes, starts with
            ``/`` or ``\\`` (absolute), looks like a drive path, contains a NUL, or has a
            ``..`` path segment.
    """
    if not isinstance(key, str):
        raise R2KeyError(key, f"keys must be str, got {type(key).__name__}")
    if not key:
        raise R2KeyError(key, "keys must not be empty")
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise R2KeyError(key, f"keys are limited to {MAX_KEY_BYTES} bytes of UTF-8")
    if "\x00" in key:
        raise R2KeyError(key, "keys must not contain NUL characters")
    if key.startswith(("/", "\\")) or (len(key) > 1 and key[1] == ":" and key[0].isalpha()):
        raise R2KeyError(key, "absolute paths are not allowed; use a relative key like 'a/b.txt'")
    if ".." in key.replace("\\", "/").split("/"):
        raise R2KeyError(key, "'..' path segments are not allowed (path traversal)")
    return key


def _json_default(value: object) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise WrongTypeError(f"{type(value).__name__} is not JSON serialisable")


def _check_string_map(name: str, value: object, allowed: frozenset[str] | None) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise WrongTypeError(f"R2 {name} must be a dict of str to str, got {type(value).__name__}")
    result: dict[str, str] = {}
    for k, v in value.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise WrongTypeError(f"R2 {name} must map str to str, got {k!r}: {v!r}")
        if allowed is not None and k not in allowed:
            raise InvalidValueError(
                f"R2 {name} has unknown field {k!r}; allowed: {sorted(allowed)}"
            )
        result[k] = v
    return result


class R2Bucket:
    """An R2 bucket: a local directory, or any S3-compatible store (Cloudflare R2 included).

    The backend is chosen by ``root``:

    * a directory path (``"data/bucket"``) or ``file:///abs/path``: objects on disk;
    * ``s3://[access_key:secret@]bucket[/key/prefix]?endpoint=...&region=...``: an S3
      bucket through boto3 (``pip install 'tempflare[s3]'``), with multipart upload for large
      objects; ``endpoint=https://<account_id>.r2.cloudflarestorage.com&region=auto`` reaches
      Cloudflare R2 itself.

    Safe to share between coroutines, threads and event loops: I/O runs in a worker thread. On
    disk, writes within a process are serialised by a lock; several processes may share
    ``root``, and a reader racing a writer retries rather than reading a mix of old and new.

    Args:
        root: Where the bucket lives, as above.
        now: Clock returning seconds since the epoch, used for ``uploaded`` on disk.
    """

    def __init__(
        self, root: str | os.PathLike[str], *, now: Callable[[], float] = time.time
    ) -> None:
        text = os.fspath(root)
        kind = _scheme(text)
        self._remote: S3R2Backend | None = None
        if kind == "s3":
            from ._r2_s3 import S3R2Backend

            self._remote = S3R2Backend(text)
        elif kind == "file":
            text = text.split("://", 1)[1]
        elif kind is not None:
            raise InvalidValueError(
                f"R2 binding URL {redact(text)!r} has an unknown scheme {kind!r}; use a "
                "directory, file:///path or s3://bucket?endpoint=..."
            )
        self._root = Path(text)
        self._objects = self._root / "objects"
        self._now = now
        self._lock = threading.Lock()

    @property
    def root(self) -> Path:
        """The bucket's directory (on disk; for an S3 bucket, its URL as a path)."""
        return self._root

    @property
    def location(self) -> str:
        """Where the bucket lives: its directory, or its URL (secret hidden)."""
        return str(self._root) if self._remote is None else self._remote.location

    # -- layout ----------------------------------------------------------------------------

    def _paths(self, key: str) -> tuple[Path, str]:
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
        directory = self._objects / digest[:2]
        return directory, digest

    @staticmethod
    def _write_atomic(directory: Path, name: str, data: builtins.bytes) -> None:
        tmp = directory / f".{name}.{uuid.uuid4().hex}.tmp"
        try:
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, directory / name)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    @staticmethod
    def _object_from(meta: Mapping[str, Any], body: builtins.bytes | None = None) -> R2Object:
        fields: dict[str, Any] = {
            "key": meta["key"],
            "version": meta["version"],
            "size": meta["size"],
            "etag": meta["etag"],
            "http_etag": f'"{meta["etag"]}"',
            "uploaded": datetime.fromisoformat(meta["uploaded"]),
            "http_metadata": dict(meta.get("http_metadata", {})),
            "custom_metadata": dict(meta.get("custom_metadata", {})),
        }
        if body is None:
            return R2Object(**fields)
        return R2ObjectBody(**fields, body=body)

    def _read_meta(self, key: str) -> dict[str, Any] | None:
        directory, digest = self._paths(key)
        try:
            meta: dict[str, Any] = json.loads((directory / f"{digest}.json").read_text("utf-8"))
        except FileNotFoundError:
            return None
        return meta if meta.get("key") == key else None

    # -- blocking operations (run in a thread) ---------------------------------------------

    def _put_sync(
        self,
        key: str,
        data: builtins.bytes,
        http_metadata: dict[str, str],
        custom_metadata: dict[str, str],
    ) -> R2Object:
        directory, digest = self._paths(key)
        version = uuid.uuid4().hex
        meta = {
            "key": key,
            "version": version,
            "size": len(data),
            "etag": hashlib.md5(data, usedforsecurity=False).hexdigest(),
            "uploaded": datetime.fromtimestamp(self._now(), tz=UTC).isoformat(),
            "http_metadata": http_metadata,
            "custom_metadata": custom_metadata,
        }
        with self._lock:
            directory.mkdir(parents=True, exist_ok=True)
            previous = self._read_meta(key)
            self._write_atomic(directory, f"{digest}.{version}.data", data)
            # The sidecar rename commits the new version.
            self._write_atomic(
                directory, f"{digest}.json", json.dumps(meta, default=_json_default).encode()
            )
            if previous is not None:
                (directory / f"{digest}.{previous['version']}.data").unlink(missing_ok=True)
        return self._object_from(meta)

    def _get_sync(self, key: str, with_body: bool) -> R2Object | None:
        directory, digest = self._paths(key)
        for _ in range(10):
            meta = self._read_meta(key)
            if meta is None:
                return None
            if not with_body:
                return self._object_from(meta)
            try:
                body = (directory / f"{digest}.{meta['version']}.data").read_bytes()
            except FileNotFoundError:
                # Replaced or deleted between reading the sidecar and the data: read again.
                time.sleep(0.005)
                continue
            return self._object_from(meta, body)
        raise OSError(f"R2 object {key!r} kept changing while being read; try again")

    def _delete_sync(self, keys: Sequence[str]) -> None:
        with self._lock:
            for key in keys:
                directory, digest = self._paths(key)
                meta = self._read_meta(key)
                if meta is None:
                    continue
                (directory / f"{digest}.json").unlink(missing_ok=True)
                (directory / f"{digest}.{meta['version']}.data").unlink(missing_ok=True)

    def _all_meta_sync(self, prefix: str) -> builtins.list[dict[str, Any]]:
        metas: builtins.list[dict[str, Any]] = []
        if not self._objects.is_dir():
            return metas
        for sidecar in self._objects.glob("*/*.json"):
            try:
                meta = json.loads(sidecar.read_text("utf-8"))
            except FileNotFoundError:
                continue  # deleted while listing
            if isinstance(meta, dict) and str(meta.get("key", "")).startswith(prefix):
                metas.append(meta)
        metas.sort(key=lambda m: str(m["key"]).encode("utf-8"))
        return metas

    # -- public API ------------------------------------------------------------------------

    async def put(
        self,
        key: str,
        value: R2Value,
        options: Mapping[str, Any] | None = None,
        *,
        http_metadata: Mapping[str, str] | None = None,
        custom_metadata: Mapping[str, str] | None = None,
    ) -> R2Object:
        """Stores an object, replacing any existing one atomically.

        Args:
            key: The object key; may contain ``/``.
            value: Text (stored as UTF-8), bytes, or None for an empty object. Serialise
                objects with ``json.dumps`` (as ``JSON.stringify`` in a Worker).
            options: Cloudflare's options object, ``{"httpMetadata": {...},
                "customMetadata": {...}}``.
            http_metadata: ``contentType``, ``cacheControl`` etc. (overrides ``options``).
            custom_metadata: String-to-string user metadata (overrides ``options``).

        Returns:
            The stored object's metadata.

        Raises:
            R2KeyError: for an unusable key.
            TypeError: for a value that is not str/bytes/None, or malformed metadata.
            ValueError: for unknown options or HTTP metadata fields.
        """
        _check_key(key)
        opts = dict(options or {})
        unknown = set(opts) - {"httpMetadata", "customMetadata"}
        if unknown:
            raise InvalidValueError(
                f"R2 put() got unknown options {sorted(unknown)}; "
                "supported: httpMetadata, customMetadata"
            )
        http = _check_string_map(
            "httpMetadata",
            http_metadata if http_metadata is not None else opts.get("httpMetadata"),
            HTTP_METADATA_FIELDS,
        )
        custom = _check_string_map(
            "customMetadata",
            custom_metadata if custom_metadata is not None else opts.get("customMetadata"),
            None,
        )
        if value is None:
            data = b""
        elif isinstance(value, str):
            data = value.encode("utf-8")
        elif isinstance(value, builtins.bytes | bytearray | memoryview):
            data = builtins.bytes(value)
        else:
            raise WrongTypeError(
                f"R2 values must be str, bytes or None, got {type(value).__name__}; "
                "serialise objects with json.dumps(...) as you would JSON.stringify(...)"
            )
        if self._remote is not None:
            return await self._remote.put(key, data, http, custom)
        return await asyncio.to_thread(self._put_sync, key, data, http, custom)

    async def get(self, key: str) -> R2ObjectBody | None:
        """Reads an object and its content.

        Returns:
            The object with its body, or None if there is no such key.

        Raises:
            R2KeyError: for an unusable key.
        """
        _check_key(key)
        if self._remote is not None:
            return cast(R2ObjectBody | None, await self._remote.get(key, True))
        return cast(R2ObjectBody | None, await asyncio.to_thread(self._get_sync, key, True))

    async def head(self, key: str) -> R2Object | None:
        """Reads an object's metadata without its content.

        Returns:
            The object's metadata, or None if there is no such key.

        Raises:
            R2KeyError: for an unusable key.
        """
        _check_key(key)
        if self._remote is not None:
            return await self._remote.get(key, False)
        return await asyncio.to_thread(self._get_sync, key, False)

    async def delete(self, keys: str | Sequence[str]) -> None:
        """Deletes one key or a list of up to 1000 keys; missing keys are ignored.

        Raises:
            R2KeyError: for an unusable key (nothing is deleted).
            ValueError: for more than 1000 keys.
        """
        batch = [keys] if isinstance(keys, str) else list(keys)
        if len(batch) > MAX_DELETE_KEYS:
            raise InvalidValueError(
                f"R2 delete() takes at most {MAX_DELETE_KEYS} keys, got {len(batch)}"
            )
        for key in batch:
            _check_key(key)
        if self._remote is not None:
            await self._remote.delete(batch)
            return
        await asyncio.to_thread(self._delete_sync, batch)

    async def list(
        self,
        prefix: str | Mapping[str, Any] | None = None,
        limit: int = MAX_LIST_LIMIT,
        cursor: str | None = None,
        delimiter: str | None = None,
        include: Sequence[str] | None = None,
    ) -> R2Objects:
        """Lists objects in key order, a page at a time.

        Also accepts Cloudflare's options object: ``list({"prefix": "a/", "delimiter": "/"})``.
        Each object and each delimited prefix counts towards ``limit``.

        Args:
            prefix: Only keys starting with this string (or an options dict).
            limit: Page size, 1-1000.
            cursor: The ``cursor`` of the previous page.
            delimiter: Roll keys up to the first ``delimiter`` after the prefix into
                ``delimited_prefixes`` (e.g. ``"/"`` to list one "directory" level).
            include: ``["httpMetadata", "customMetadata"]`` to have each object's metadata
                (always there on disk; on S3 it costs one HEAD request per object).

        Returns:
            ``{"objects", "truncated", "cursor", "delimited_prefixes"}``.

        Raises:
            ValueError: for a bad limit, cursor, delimiter or unknown option.
        """
        if isinstance(prefix, Mapping):
            options = dict(prefix)
            unknown = set(options) - {"prefix", "limit", "cursor", "delimiter", "include"}
            if unknown:
                raise InvalidValueError(f"R2 list() got unknown options {sorted(unknown)}")
            prefix = options.get("prefix")
            limit = options.get("limit", limit)
            cursor = options.get("cursor", cursor)
            delimiter = options.get("delimiter", delimiter)
            include = options.get("include", include)
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 1000:
            raise InvalidValueError(f"R2 list() limit must be an int from 1 to 1000, got {limit!r}")
        if delimiter is not None and (not isinstance(delimiter, str) or not delimiter):
            raise InvalidValueError(
                f"R2 list() delimiter must be a non-empty str, got {delimiter!r}"
            )
        start = prefix or ""
        if self._remote is not None:
            return await self._remote.list(start, limit, cursor, delimiter, bool(include))
        after, after_is_prefix = _decode_cursor(cursor) if cursor else ("", False)

        metas = await asyncio.to_thread(self._all_meta_sync, start)
        objects: builtins.list[R2Object] = []
        prefixes: builtins.list[str] = []
        last: tuple[str, bool] | None = None
        truncated = False
        after_bytes = after.encode("utf-8")
        for meta in metas:
            key = str(meta["key"])
            if cursor:
                if key.encode("utf-8") <= after_bytes:
                    continue
                if after_is_prefix and key.startswith(after):
                    continue
            rolled: str | None = None
            if delimiter is not None:
                cut = key.find(delimiter, len(start))
                if cut != -1:
                    rolled = key[: cut + len(delimiter)]
            if rolled is not None and prefixes and prefixes[-1] == rolled:
                continue
            if len(objects) + len(prefixes) >= limit:
                truncated = True
                break
            if rolled is not None:
                prefixes.append(rolled)
                last = (rolled, True)
            else:
                objects.append(self._object_from(meta))
                last = (key, False)
        return {
            "objects": objects,
            "truncated": truncated,
            "cursor": _encode_cursor(*last) if truncated and last is not None else None,
            "delimited_prefixes": prefixes,
        }

    def __repr__(self) -> str:
        return f"R2Bucket({self.location!r})"


def _encode_cursor(after: str, is_prefix: bool) -> str:
    raw = json.dumps({"after": after, "prefix": is_prefix}).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii")


def _decode_cursor(cursor: str) -> tuple[str, bool]:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii")))
        return str(data["after"]), bool(data["prefix"])
    except (binascii.Error, UnicodeError, ValueError, KeyError, TypeError) as exc:
        raise InvalidValueError(
            f"R2 list cursor {cursor!r} is not a cursor returned by list()"
        ) from exc
