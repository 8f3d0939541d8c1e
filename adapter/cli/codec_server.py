"""``tempflare codec-server``: Temporal's remote codec protocol over HTTP, for the Web UI and
the ``temporal`` CLI (``--codec-endpoint``).

``POST /encode`` and ``POST /decode`` take and return ``{"payloads": [...]}`` in protobuf JSON
(base64 ``metadata`` values and ``data``), the format the Web UI sends. CORS answers the UI's
origins (``--origin``; ``*`` by default) with the ``Content-Type``, ``X-Namespace`` and
``Authorization`` headers it uses. Standard library only: one thread per request.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads
from temporalio.converter import PayloadCodec


class CodecServer:
    """An HTTP codec server for one :class:`~temporalio.converter.PayloadCodec`.

    Args:
        codec: What ``/encode`` and ``/decode`` apply.
        port: TCP port; ``0`` picks a free one (read :attr:`port` after :meth:`start`).
        host: Address to bind.
        origins: Origins allowed by CORS (the Web UI's, e.g. ``http://localhost:8233``); ``*``
            allows any.
    """

    def __init__(
        self,
        codec: PayloadCodec,
        *,
        port: int = 8081,
        host: str = "127.0.0.1",
        origins: Sequence[str] = ("*",),
    ) -> None:
        self.codec = codec
        self.origins = list(origins)
        self._server = ThreadingHTTPServer((host, port), self._handler())
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port."""
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """``http://<host>:<port>``, for ``--ui-codec-endpoint``."""
        host = str(self._server.server_address[0])
        return f"http://{'localhost' if host in ('127.0.0.1', '0.0.0.0') else host}:{self.port}"

    def start(self) -> CodecServer:
        """Serve on a daemon thread."""
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve on the calling thread until interrupted."""
        self._server.serve_forever()

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()

    def _allow_origin(self, origin: str | None) -> str | None:
        if "*" in self.origins:
            return origin or "*"
        return origin if origin in self.origins else None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: the UI polls

            def _cors(self) -> None:
                origin = server._allow_origin(self.headers.get("Origin"))
                if origin:
                    self.send_header("Access-Control-Allow-Origin", origin)
                    self.send_header("Access-Control-Allow-Credentials", "true")
                    self.send_header("Vary", "Origin")
                self.send_header(
                    "Access-Control-Allow-Headers", "Content-Type, X-Namespace, Authorization"
                )
                self.send_header("Access-Control-Allow-Methods", "POST, OPTIONS")

            def do_OPTIONS(self) -> None:
                self.send_response(200)
                self._cors()
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self) -> None:
                path = self.path.split("?")[0].rstrip("/")
                if path not in ("/encode", "/decode"):
                    self._reply(404, {"error": f"unknown path {path}; use /encode or /decode"})
                    return
                try:
                    body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                    payloads = json_format.Parse(body or b"{}", Payloads())
                    apply = server.codec.encode if path == "/encode" else server.codec.decode
                    result = asyncio.run(apply(list(payloads.payloads)))
                except Exception as err:
                    self._reply(400, {"error": f"{type(err).__name__}: {err}"})
                    return
                self._reply(200, json_format.MessageToDict(Payloads(payloads=result)))

            def _reply(self, code: int, document: dict[str, Any]) -> None:
                data = json.dumps(document).encode()
                self.send_response(code)
                self._cors()
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler
