"""Helpers shared by the ports of seeds 001-003."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any, Final, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from adapter import Duration
from adapter.bindings import D1Database, KVNamespace, R2Bucket

T = TypeVar("T")


def shortened(seconds: float | None, default: Duration) -> Duration:
    """The seed's duration ``default``, or ``seconds`` when params shorten it for a demo or test.

    Long sleeps, event timeouts and retry delays of the seeds ("7 days", "24h", "30s") stay
    visible at the call site; a workflow's params carry an optional ``*_seconds`` override.
    """
    return default if seconds is None else timedelta(seconds=seconds)


def run_blocking(coro: Coroutine[Any, Any, T]) -> T:
    """Runs a coroutine to completion from sync code, even inside a running event loop.

    ``make_env`` is synchronous but the bindings are async; the coroutine runs on a fresh event
    loop in a helper thread (no binding holds state tied to a loop).
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


#: The environment variables that move the examples' bindings off local files: one URL per
#: binding kind (``postgresql://...``, ``redis://...``, ``s3://bucket?endpoint=...``...).
BINDING_URL_VARIABLES: Final = {
    "d1": "TEMPFLARE_D1_URL",
    "kv": "TEMPFLARE_KV_URL",
    "r2": "TEMPFLARE_R2_URL",
}


def binding_target(kind: str, data_dir: str | Path, name: str) -> str:
    """Where example ``name`` keeps its ``kind`` binding (``d1``, ``kv`` or ``r2``).

    Without ``$TEMPFLARE_<KIND>_URL``: a SQLite file (``<data_dir>/<name>.sqlite``) or a folder
    (``<data_dir>/<name>``). With it, each example gets its own corner of the one server, so
    examples whose tables share a name do not meet: a PostgreSQL schema (``?schema=<name>``),
    a Redis key prefix (``?prefix=<name>:``), an S3 key prefix (``s3://bucket/<name>/``), or a
    file in a ``sqlite:///`` or ``file:///`` folder. Cloudflare URLs are used as they are.
    """
    url = os.environ.get(BINDING_URL_VARIABLES[kind], "").strip()
    if not url:
        suffix = "" if kind == "r2" else ".sqlite"
        return str(Path(data_dir) / f"{name}{suffix}")
    safe = re.sub(r"[^A-Za-z0-9_]", "_", name).lower()
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    path = parts.path
    if parts.scheme in ("postgres", "postgresql"):
        query = [(k, v) for k, v in query if k != "schema"] + [("schema", safe)]
    elif parts.scheme in ("redis", "rediss", "valkey", "valkeys", "unix"):
        prefix = dict(query).get("prefix", "")
        query = [(k, v) for k, v in query if k != "prefix"] + [("prefix", f"{prefix}{safe}:")]
    elif parts.scheme == "s3":
        path = f"{path.rstrip('/')}/{safe}/"
    elif parts.scheme in ("sqlite", "file"):
        # A folder: the example's file (or directory) inside it. Built by hand, since
        # urlunsplit would fold sqlite://// (an absolute path) into sqlite://.
        base = url.split("?", 1)[0].rstrip("/")
        return f"{base}/{safe}" + ("" if kind == "r2" else ".sqlite")
    return urlunsplit((parts.scheme, parts.netloc, path, urlencode(query), parts.fragment))


def d1_database(data_dir: str | Path, name: str) -> D1Database:
    """Example ``name``'s D1 (:func:`binding_target`)."""
    return D1Database(binding_target("d1", data_dir, name))


def kv_namespace(data_dir: str | Path, name: str, **options: Any) -> KVNamespace:
    """Example ``name``'s KV namespace (:func:`binding_target`)."""
    return KVNamespace(binding_target("kv", data_dir, name), **options)


def r2_bucket(data_dir: str | Path, name: str) -> R2Bucket:
    """Example ``name``'s R2 bucket (:func:`binding_target`)."""
    return R2Bucket(binding_target("r2", data_dir, name))
