"""A local stand-in for Cloudflare's D1 and Workers KV HTTP APIs (there is no network in CI).

It speaks the parts of ``https://api.cloudflare.com/client/v4`` that tempflare's
``cloudflare://`` backends call, with Cloudflare's envelopes (``{"result", "success", "errors",
"messages"}``), bearer-token auth, status codes and limits (``/keys`` takes a limit from 10 to
1000), and keeps the data in tempflare's own SQLite D1 and KV::

    with CloudflareAPIStandIn(tmp_path, token="t") as api:
        db = D1Database(f"cloudflare://acc/d1/db1?api={api.base_url}")   # $CLOUDFLARE_API_TOKEN=t
"""

from __future__ import annotations

import asyncio
import email.policy
import json
import threading
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from adapter.bindings import D1Database, D1Error, KVNamespace


class CloudflareAPIStandIn:
    """D1 and KV HTTP APIs on 127.0.0.1; databases and namespaces appear on first use."""

    def __init__(self, root: Path, *, token: str, min_ttl_seconds: float = 60) -> None:
        self.root = root
        self.token = token
        self.min_ttl_seconds = min_ttl_seconds
        self._d1: dict[str, D1Database] = {}
        self._kv: dict[str, KVNamespace] = {}
        self._lock = threading.Lock()
        self.requests: list[tuple[str, str]] = []
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                stand_in._handle(self, "GET")

            def do_POST(self) -> None:
                stand_in._handle(self, "POST")

            def do_PUT(self) -> None:
                stand_in._handle(self, "PUT")

            def do_DELETE(self) -> None:
                stand_in._handle(self, "DELETE")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/client/v4"

    def __enter__(self) -> CloudflareAPIStandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        for db in self._d1.values():
            db.close()
        for kv in self._kv.values():
            kv.close()

    # -- plumbing --------------------------------------------------------------------------

    def _db(self, name: str) -> D1Database:
        with self._lock:
            if name not in self._d1:
                self._d1[name] = D1Database(self.root / f"d1-{name}.sqlite")
            return self._d1[name]

    def _namespace(self, name: str) -> KVNamespace:
        with self._lock:
            if name not in self._kv:
                self._kv[name] = KVNamespace(
                    self.root / f"kv-{name}.sqlite", min_ttl_seconds=self.min_ttl_seconds
                )
            return self._kv[name]

    @staticmethod
    def _send(
        handler: BaseHTTPRequestHandler, status: int, body: Any, content_type: str = "json"
    ) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header(
            "Content-Type",
            "application/json" if content_type == "json" else "application/octet-stream",
        )
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    @staticmethod
    def _envelope(result: Any, **extra: Any) -> dict[str, Any]:
        return {"result": result, "success": True, "errors": [], "messages": [], **extra}

    @staticmethod
    def _error(code: int, message: str) -> dict[str, Any]:
        return {
            "result": None,
            "success": False,
            "errors": [{"code": code, "message": message}],
            "messages": [],
        }

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        url = urlsplit(handler.path)
        self.requests.append((method, url.path))
        if handler.headers.get("Authorization") != f"Bearer {self.token}":
            self._send(handler, 403, self._error(10000, "Authentication error"))
            return
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        parts = url.path.split("/")
        # ['', 'client', 'v4', 'accounts', <account>, ...]
        try:
            if parts[5:7] == ["d1", "database"] and parts[8:] == ["raw"] and method == "POST":
                status, reply = self._d1_raw(parts[7], json.loads(body))
            elif parts[5:8] == ["storage", "kv", "namespaces"]:
                status, reply = self._kv_call(
                    method, parts[8], parts[9:], parse_qs(url.query), handler, body
                )
            else:
                status, reply = 404, self._error(7003, f"No route for {method} {url.path}")
        except Exception as exc:
            status, reply = 500, self._error(10001, f"{type(exc).__name__}: {exc}")
        self._send(handler, status, reply, "json" if not isinstance(reply, bytes) else "bytes")

    # -- D1 --------------------------------------------------------------------------------

    def _d1_raw(self, name: str, body: dict[str, Any]) -> tuple[int, Any]:
        db = self._db(name)
        if "batch" in body:
            statements = [(q["sql"], tuple(q.get("params") or [])) for q in body["batch"]]
        else:
            statements = [(body["sql"], tuple(body.get("params") or []))]

        def result(outcome: Any) -> dict[str, Any]:
            return {
                "results": {"columns": outcome.columns, "rows": [list(r) for r in outcome.rows]},
                "success": True,
                "meta": {**outcome.meta, "rows_read": len(outcome.rows), "rows_written": 0},
            }

        try:
            if len(statements) == 1:
                outcomes = [asyncio.run(db._run_statement(*statements[0]))]
            else:
                outcomes = asyncio.run(db._backend.batch(statements))
        except D1Error as exc:
            return 400, self._error(7500, str(exc))
        return 200, self._envelope([result(o) for o in outcomes])

    # -- KV --------------------------------------------------------------------------------

    def _kv_call(
        self,
        method: str,
        name: str,
        rest: list[str],
        query: dict[str, list[str]],
        handler: BaseHTTPRequestHandler,
        body: bytes,
    ) -> tuple[int, Any]:
        kv = self._namespace(name)
        if rest == ["keys"] and method == "GET":
            limit = int(query.get("limit", ["1000"])[0])
            if not 10 <= limit <= 1000:
                return 400, self._error(10022, f"Invalid key limit: {limit}; must be 10-1000")
            page = asyncio.run(
                kv.list(
                    prefix=query.get("prefix", [None])[0],
                    limit=limit,
                    cursor=query.get("cursor", [None])[0],
                )
            )
            info = {"count": len(page["keys"]), "cursor": page["cursor"] or ""}
            return 200, self._envelope(page["keys"], result_info=info)
        if len(rest) != 2 or rest[0] not in ("values", "metadata"):
            return 404, self._error(7003, "No route")
        key = unquote(rest[1])
        not_found = 404, self._error(10009, "get: 'key not found'")
        if rest[0] == "metadata" and method == "GET":
            found = asyncio.run(kv.get_with_metadata(key, "bytes"))
            return not_found if found["value"] is None else (200, self._envelope(found["metadata"]))
        if method == "GET":
            value = asyncio.run(kv.get(key, "bytes"))
            return not_found if value is None else (200, value)
        if method == "DELETE":
            asyncio.run(kv.delete(key))
            return 200, self._envelope(None)
        if method == "PUT":
            fields = self._form(handler.headers.get("Content-Type", ""), body)
            options: dict[str, Any] = {}
            if "expiration" in query:
                options["expiration"] = int(query["expiration"][0])
            if "expiration_ttl" in query:
                options["expirationTtl"] = int(query["expiration_ttl"][0])
            if "metadata" in fields:
                options["metadata"] = json.loads(fields["metadata"])
            try:
                asyncio.run(kv.put(key, fields.get("value", b""), options))
            except ValueError as exc:
                return 400, self._error(10033, str(exc))
            return 200, self._envelope(None)
        return 405, self._error(10000, f"{method} not allowed")

    @staticmethod
    def _form(content_type: str, body: bytes) -> dict[str, bytes]:
        message = BytesParser(policy=email.policy.default).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body
        )
        fields: dict[str, bytes] = {}
        for part in message.iter_parts() if message.is_multipart() else []:
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if isinstance(name, str) and isinstance(payload, bytes):
                fields[name] = payload
        return fields
