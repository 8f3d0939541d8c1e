"""D1 and KV on Cloudflare itself, through Cloudflare's public HTTP API (httpx).

For teams that keep their data on Cloudflare while their workflows move to Temporal:

* ``D1Database("cloudflare://<account_id>/d1/<database_id>")``: statements go to
  ``POST /accounts/<account>/d1/database/<database>/raw`` (``{"sql", "params"}``; ``batch`` as
  ``{"batch": [...]}``, which D1 runs as one transaction);
* ``KVNamespace("cloudflare://<account_id>/kv/<namespace_id>")``: ``/storage/kv/namespaces/<ns>``
  ``/values/<key>`` (GET, PUT as multipart with ``value`` and ``metadata``, DELETE),
  ``/metadata/<key>`` and ``/keys``.

Options: ``token_env`` (the environment variable holding the API token, default
``CLOUDFLARE_API_TOKEN``; the token itself never goes in the URL), ``api`` (the API's base URL,
default ``https://api.cloudflare.com/client/v4``; point it at a local stand-in in tests) and
``timeout`` (seconds, default 30).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import builtins
import json
import math
import os
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from .._shared.errors import InvalidValueError, TempflareError, WrongTypeError
from ._perloop import PerLoop
from ._urls import options
from .d1 import D1Error, D1Value, _Outcome

if TYPE_CHECKING:
    import httpx

_OPTIONS = ("token_env", "api", "timeout")
DEFAULT_API = "https://api.cloudflare.com/client/v4"


class CloudflareAPIError(TempflareError):
    """Cloudflare's API answered with an error; the message quotes its codes and messages.

    Attributes:
        status: The HTTP status.
        errors: Cloudflare's ``errors`` list (``{"code", "message"}``).
    """

    def __init__(self, message: str, *, status: int, errors: builtins.list[Any]) -> None:
        super().__init__(message)
        self.status = status
        self.errors = errors


class _API:
    """A resource of Cloudflare's API (one D1 database, one KV namespace) and its token."""

    def __init__(self, url: str, kind: str) -> None:
        opts = options(url, _OPTIONS, f"{kind.upper()} (Cloudflare)")
        parts = urlsplit(url)
        segments = [s for s in parts.path.split("/") if s]
        if not parts.hostname or len(segments) != 2 or segments[0] != kind:
            raise InvalidValueError(
                f"Cloudflare binding URL {url!r} must be cloudflare://<account_id>/{kind}/<id>"
            )
        self.location = url
        self._token_env = opts.get("token_env", "CLOUDFLARE_API_TOKEN")
        try:
            self._timeout = float(opts.get("timeout", "30"))
        except ValueError:
            raise InvalidValueError(
                f"Cloudflare binding URL {url!r}: timeout must be seconds"
            ) from None
        api = opts.get("api", DEFAULT_API).rstrip("/")
        resource = "d1/database" if kind == "d1" else "storage/kv/namespaces"
        self.base = f"{api}/accounts/{parts.hostname}/{resource}/{segments[1]}"
        self._clients: PerLoop[httpx.AsyncClient] = PerLoop(self._connect, url)

    async def _connect(self) -> httpx.AsyncClient:
        import httpx  # the [bindings] extra, which adapter.bindings needs anyway

        token = os.environ.get(self._token_env)
        if not token:
            raise InvalidValueError(
                f"{self.location}: set ${self._token_env} to a Cloudflare API token "
                "(or name another variable with ?token_env=NAME)"
            )
        return httpx.AsyncClient(
            base_url=self.base,
            headers={"Authorization": f"Bearer {token}"},
            timeout=self._timeout,
        )

    async def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        client = await self._clients.get()
        return await client.request(method, path, **kwargs)

    @staticmethod
    def failure(response: httpx.Response) -> CloudflareAPIError:
        try:
            errors = list(response.json().get("errors") or [])
        except (ValueError, AttributeError):
            errors = []
        text = "; ".join(
            f"{e.get('code')}: {e.get('message')}" for e in errors if isinstance(e, dict)
        )
        return CloudflareAPIError(
            f"Cloudflare API {response.request.method} {response.request.url.path} answered "
            f"{response.status_code}: {text or response.text[:500]}",
            status=response.status_code,
            errors=errors,
        )

    async def aclose(self) -> None:
        await self._clients.aclose(lambda client: client.aclose())

    def close(self) -> None:
        # httpx closes only from its own loop; sockets go with the client objects.
        self._clients.close(lambda client: None)


# -- D1 -----------------------------------------------------------------------------------------


def _param(value: D1Value) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, bytes):
        raise WrongTypeError(
            "Cloudflare's D1 HTTP API takes JSON parameters: bind blobs as hex text "
            "(and unhex(?) in SQL), not bytes"
        )
    return value


class CloudflareD1Backend:
    """D1 through Cloudflare's D1 HTTP API."""

    def __init__(self, url: str) -> None:
        self._api = _API(url, "d1")
        self.location = url

    async def _post(self, body: dict[str, Any], sql: str) -> builtins.list[dict[str, Any]]:
        response = await self._api.call("POST", "/raw", json=body)
        if response.status_code >= 400:
            raise D1Error(f"D1_ERROR: {_API.failure(response)}: SQL: {sql.strip()}", sql=sql)
        result: builtins.list[dict[str, Any]] = response.json()["result"]
        return result

    @staticmethod
    def _outcome(item: dict[str, Any]) -> _Outcome:
        results = item.get("results") or {}
        meta = dict(item.get("meta") or {})
        meta.setdefault("changes", 0)
        meta.setdefault("last_row_id", 0)
        meta.setdefault("changed_db", bool(meta["changes"]))
        meta.setdefault("duration", 0.0)
        rows = [tuple(row) for row in results.get("rows") or []]
        return _Outcome(list(results.get("columns") or []), rows, meta)

    async def run(self, sql: str, params: tuple[D1Value, ...]) -> _Outcome:
        body = {"sql": sql, "params": [_param(p) for p in params]}
        (item,) = await self._post(body, sql)
        return self._outcome(item)

    async def batch(
        self, statements: builtins.list[tuple[str, tuple[D1Value, ...]]]
    ) -> builtins.list[_Outcome]:
        body = {"batch": [{"sql": s, "params": [_param(p) for p in ps]} for s, ps in statements]}
        text = "; ".join(s for s, _ in statements)
        try:
            items = await self._post(body, text)
        except D1Error as exc:
            raise D1Error(f"D1_ERROR: batch failed, rolled back: {exc}", sql=text) from exc
        return [self._outcome(item) for item in items]

    async def exec(self, statements: builtins.list[str]) -> None:
        for statement in statements:
            await self._post({"sql": statement, "params": []}, statement)

    async def aclose(self) -> None:
        await self._api.aclose()

    def close(self) -> None:
        self._api.close()


# -- KV -----------------------------------------------------------------------------------------

_Row = tuple[str, float | None, str | None]
#: Cloudflare's ``/keys`` takes a limit from 10 to 1000.
_MIN_PAGE = 10


def _encode_cursor(cursor: str, skip: int) -> str:
    return base64.urlsafe_b64encode(json.dumps([cursor, skip]).encode()).decode("ascii")


def _decode_cursor(cursor: str) -> tuple[str, int]:
    try:
        upstream, skip = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii")))
        return str(upstream), int(skip)
    except (binascii.Error, UnicodeError, ValueError, TypeError) as exc:
        raise InvalidValueError(
            f"KV list cursor {cursor!r} is not a cursor returned by list()"
        ) from exc


class CloudflareKVBackend:
    """KV through Cloudflare's Workers KV HTTP API (expiry is Cloudflare's)."""

    def __init__(self, url: str) -> None:
        self._api = _API(url, "kv")
        self.location = url

    @staticmethod
    def _key(key: str) -> str:
        return quote(key, safe="")

    async def read(self, key: str, now: float) -> tuple[bytes, str | None] | None:
        value, meta = await asyncio.gather(
            self._api.call("GET", f"/values/{self._key(key)}"),
            self._api.call("GET", f"/metadata/{self._key(key)}"),
        )
        if value.status_code == 404:
            return None
        if value.status_code >= 400:
            raise _API.failure(value)
        metadata = None
        if meta.status_code < 400:
            result = meta.json().get("result")
            metadata = None if result is None else json.dumps(result, separators=(",", ":"))
        return value.content, metadata

    async def write(
        self, key: str, data: bytes, expires_at: float | None, metadata: str | None, now: float
    ) -> None:
        query: dict[str, int] = {}
        if expires_at is not None:
            query["expiration"] = math.ceil(expires_at)
        files: dict[str, Any] = {"value": ("value", data, "application/octet-stream")}
        if metadata is not None:
            files["metadata"] = (None, metadata)
        response = await self._api.call(
            "PUT", f"/values/{self._key(key)}", params=query, files=files
        )
        if response.status_code >= 400:
            raise _API.failure(response)

    async def delete(self, key: str) -> None:
        response = await self._api.call("DELETE", f"/values/{self._key(key)}")
        if response.status_code >= 400 and response.status_code != 404:
            raise _API.failure(response)

    async def scan(self, prefix: str, after: str, count: int, now: float) -> builtins.list[_Row]:
        # Never called: KVNamespace.list() uses page() on backends that have it.
        raise TypeError("Cloudflare's KV API pages with its own cursors")

    async def page(
        self, prefix: str, limit: int, cursor: str | None
    ) -> tuple[builtins.list[_Row], str | None]:
        """One page of ``/keys``; the cursor carries Cloudflare's and how many keys of that
        page were already returned (Cloudflare's pages hold at least 10 keys)."""
        upstream, skip = _decode_cursor(cursor) if cursor else ("", 0)
        query: dict[str, Any] = {"limit": min(max(skip + limit, _MIN_PAGE), 1000)}
        if prefix:
            query["prefix"] = prefix
        if upstream:
            query["cursor"] = upstream
        response = await self._api.call("GET", "/keys", params=query)
        if response.status_code >= 400:
            raise _API.failure(response)
        body = response.json()
        items = body.get("result") or []
        following = (body.get("result_info") or {}).get("cursor") or None
        rows: builtins.list[_Row] = [
            (
                str(item["name"]),
                item.get("expiration"),
                None if item.get("metadata") is None else json.dumps(item["metadata"]),
            )
            for item in items[skip : skip + limit]
        ]
        used = skip + len(rows)
        if used < len(items):
            return rows, _encode_cursor(upstream, used)
        return rows, None if following is None else _encode_cursor(following, 0)

    async def aclose(self) -> None:
        await self._api.aclose()

    def close(self) -> None:
        self._api.close()
