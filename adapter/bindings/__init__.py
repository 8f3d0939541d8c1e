"""Real implementations of the Cloudflare bindings a workflow's ``env`` holds.

The backend of D1, KV and R2 is chosen by one string per binding: a local path, or a URL
(``postgresql://``, ``redis://``/``valkey://``, ``s3://bucket?endpoint=...``,
``cloudflare://<account>/d1|kv/<id>``); the drivers are the extras ``[postgres]``, ``[redis]``
and ``[s3]``, imported only when such a URL is used.

========================  ==========================  =====================================
Cloudflare binding        tempflare class             backed by
========================  ==========================  =====================================
D1 (``env.DB``)           :class:`D1Database`         SQLite, PostgreSQL, Cloudflare's D1 API
KV (``env.KV``)           :class:`KVNamespace`        SQLite, Redis/Valkey, Cloudflare's KV API
R2 (``env.BUCKET``)       :class:`R2Bucket`           a directory, or any S3-compatible store
``fetch`` / services      :func:`fetch`, `Fetcher`    httpx
Workers AI (``env.AI``)   :class:`AI` protocol        :class:`OfflineAI`, :class:`AnthropicAI`
========================  ==========================  =====================================

Every method that does I/O is a coroutine, as in Workers, and no object holds state bound to
an event loop, so bindings work from async step bodies and from sync step bodies running in
worker threads. See ``docs/bindings.md`` for each backend's URL and differences.
"""

from ._cloudflare import CloudflareAPIError
from .ai import AI, AnthropicAI, OfflineAI, default_ai
from .d1 import D1Database, D1Error, D1ExecResult, D1PreparedStatement, D1Result, D1Value
from .http import Fetcher, FetchError, Response, fetch
from .kv import KVListKey, KVListResult, KVNamespace, KVPutOptions, KVValueWithMetadata
from .r2 import R2Bucket, R2KeyError, R2Object, R2ObjectBody, R2Objects

__all__ = [
    "AI",
    "AnthropicAI",
    "CloudflareAPIError",
    "D1Database",
    "D1Error",
    "D1ExecResult",
    "D1PreparedStatement",
    "D1Result",
    "D1Value",
    "FetchError",
    "Fetcher",
    "KVListKey",
    "KVListResult",
    "KVNamespace",
    "KVPutOptions",
    "KVValueWithMetadata",
    "OfflineAI",
    "R2Bucket",
    "R2KeyError",
    "R2Object",
    "R2ObjectBody",
    "R2Objects",
    "Response",
    "default_ai",
    "fetch",
]
