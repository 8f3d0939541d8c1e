"""Local, real implementations of the Cloudflare bindings a workflow's ``env`` holds.

========================  ==========================  =====================================
Cloudflare binding        tempflare class             backed by
========================  ==========================  =====================================
D1 (``env.DB``)           :class:`D1Database`         a SQLite file
KV (``env.KV``)           :class:`KVNamespace`        SQLite (file or memory), with TTLs
R2 (``env.BUCKET``)       :class:`R2Bucket`           a directory of files + JSON sidecars
``fetch`` / services      :func:`fetch`, `Fetcher`    httpx
Workers AI (``env.AI``)   :class:`AI` protocol        :class:`OfflineAI`, :class:`AnthropicAI`
========================  ==========================  =====================================

Every method that does I/O is a coroutine, as in Workers, and no object holds state bound to
an event loop, so bindings work from async step bodies and from sync step bodies running in
worker threads. See ``docs/bindings.md`` for swapping in PostgreSQL, Redis, S3 or another AI.
"""

from .ai import AI, AnthropicAI, OfflineAI, default_ai
from .d1 import D1Database, D1Error, D1ExecResult, D1PreparedStatement, D1Result, D1Value
from .http import Fetcher, FetchError, Response, fetch
from .kv import KVListKey, KVListResult, KVNamespace, KVPutOptions, KVValueWithMetadata
from .r2 import R2Bucket, R2KeyError, R2Object, R2ObjectBody, R2Objects

__all__ = [
    "AI",
    "AnthropicAI",
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
