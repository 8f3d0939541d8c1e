"""KV on Redis or Valkey, through ``redis.asyncio`` (``pip install 'tempflare[redis]'``).

``KVNamespace("redis://:password@host:6379/0?prefix=orders:")``; ``rediss://`` for TLS,
``valkey://`` and ``valkeys://`` are accepted as their Redis equivalents.

Layout, under the optional ``prefix`` (which lets several namespaces share a database):

* ``<prefix>v:<key>``: a hash with ``value`` (bytes), ``metadata`` (JSON) and ``expiration``
  (epoch seconds); the server expires it at ``expiration`` (``PEXPIREAT``);
* ``<prefix>idx``: a sorted set of every key name (all scores 0), so ``list()`` pages in
  UTF-8 byte order with ``ZRANGE ... BYLEX``; names whose hash has expired are dropped from
  it as ``list()`` meets them.

Writes and deletes change the hash and the index in one ``MULTI`` transaction.
"""

from __future__ import annotations

import builtins
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

try:
    import redis.asyncio as aioredis
except ImportError as exc:  # pragma: no cover - depends on the installed extras
    raise ImportError("KV on Redis or Valkey needs redis: pip install 'tempflare[redis]'") from exc

from ._perloop import PerLoop
from ._urls import redact

_OWN_OPTIONS = ("prefix",)
_Row = tuple[str, float | None, str | None]
_DROP_GONE = """
for i = 2, #ARGV do
  if redis.call('EXISTS', ARGV[1] .. ARGV[i]) == 0 then redis.call('ZREM', KEYS[1], ARGV[i]) end
end
"""


class RedisKVBackend:
    """KV on Redis/Valkey: one ``redis.asyncio`` client per event loop."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        query = parse_qsl(parts.query, keep_blank_values=True)
        own = {k: v for k, v in query if k in _OWN_OPTIONS}
        rest = [(k, v) for k, v in query if k not in _OWN_OPTIONS]
        scheme = {"valkey": "redis", "valkeys": "rediss"}.get(parts.scheme, parts.scheme)
        self._url = urlunsplit((scheme, parts.netloc, parts.path, urlencode(rest), ""))
        self._prefix = own.get("prefix", "").encode("utf-8")
        self._index = self._prefix + b"idx"
        self.location = redact(url)
        # Fails now, not at first use, on options redis-py does not know.
        aioredis.Redis.from_url(self._url)
        self._clients: PerLoop[Any] = PerLoop(self._connect, f"KV namespace {self.location!r}")

    async def _connect(self) -> Any:
        return aioredis.Redis.from_url(self._url)

    def _key(self, key: str) -> bytes:
        return self._prefix + b"v:" + key.encode("utf-8")

    async def read(self, key: str, now: float) -> tuple[bytes, str | None] | None:
        client = await self._clients.get()
        value, metadata, expiration = await client.hmget(
            self._key(key), ["value", "metadata", "expiration"]
        )
        if value is None:
            return None
        if expiration is not None and float(expiration) <= now:
            return None
        return bytes(value), None if metadata is None else metadata.decode("utf-8")

    async def write(
        self, key: str, data: bytes, expires_at: float | None, metadata: str | None, now: float
    ) -> None:
        client = await self._clients.get()
        name = self._key(key)
        fields: dict[str, bytes | str] = {"value": data}
        if metadata is not None:
            fields["metadata"] = metadata
        if expires_at is not None:
            fields["expiration"] = repr(expires_at)
        async with client.pipeline(transaction=True) as pipe:
            pipe.delete(name)
            pipe.hset(name, mapping=fields)
            if expires_at is not None:
                pipe.pexpireat(name, int(expires_at * 1000))
            pipe.zadd(self._index, {key.encode("utf-8"): 0})
            await pipe.execute()

    async def delete(self, key: str) -> None:
        client = await self._clients.get()
        async with client.pipeline(transaction=True) as pipe:
            pipe.delete(self._key(key))
            pipe.zrem(self._index, key.encode("utf-8"))
            await pipe.execute()

    async def scan(self, prefix: str, after: str, count: int, now: float) -> builtins.list[_Row]:
        client = await self._clients.get()
        low_key = max(after.encode("utf-8"), prefix.encode("utf-8"))
        exclusive = bool(after) and low_key == after.encode("utf-8")
        low = (b"(" if exclusive else b"[") + low_key if low_key else b"-"
        # No UTF-8 text holds the byte 0xff, so every key starting with prefix sorts below this.
        high = b"[" + prefix.encode("utf-8") + b"\xff" if prefix else b"+"
        rows: builtins.list[_Row] = []
        while len(rows) < count:
            names = await client.zrangebylex(self._index, low, high, start=0, num=count)
            if not names:
                break
            async with client.pipeline(transaction=False) as pipe:
                for name in names:
                    pipe.hmget(self._prefix + b"v:" + name, ["expiration", "metadata", "value"])
                found = await pipe.execute()
            gone = []
            for name, (expiration, metadata, value) in zip(names, found, strict=True):
                if value is None:
                    gone.append(name)
                    continue
                expires = None if expiration is None else float(expiration)
                if expires is not None and expires <= now:
                    continue
                meta = None if metadata is None else metadata.decode("utf-8")
                rows.append((name.decode("utf-8"), expires, meta))
                if len(rows) == count:
                    break
            if gone:
                # Only names whose hash is still missing: a concurrent put may have re-added one.
                await client.eval(_DROP_GONE, 1, self._index, self._prefix + b"v:", *gone)
            low = b"(" + names[-1]
        return rows

    async def aclose(self) -> None:
        await self._clients.aclose(lambda client: client.aclose())

    def close(self) -> None:
        # redis.asyncio closes only from its own loop; sockets go with the client objects.
        self._clients.close(lambda client: None)
