"""Real HTTP servers on 127.0.0.1 standing in for the seeds' external services.

Used by the ``test_seed00[123]_*`` tests for the image host, e-mail API, data source, patent
search, Slack-style webhook and the starter's "call api" endpoint. A :class:`ServiceServer` is
a stdlib ``ThreadingHTTPServer`` on an ephemeral port, in a daemon thread, so that it answers
whatever the worker's event loop is doing. Routes are plain functions; every request is
recorded so that tests can assert what the workflow sent.

    with ServiceServer() as http:
        http.route("GET", "/search", lambda req: reply(200, [{"id": "P1"}]))
        ... http.url ... http.calls("/search")
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Request:
    """One request a service received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)

    def arg(self, name: str) -> str | None:
        """The first value of a query parameter."""
        values = self.query.get(name)
        return values[0] if values else None


@dataclass(frozen=True)
class Reply:
    """What a route answers."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"


def reply(status: int = 200, payload: Any = None) -> Reply:
    """A JSON reply (``null`` when ``payload`` is None)."""
    return Reply(status, json.dumps(payload).encode("utf-8"))


def raw(status: int, body: bytes | str, content_type: str = "text/plain") -> Reply:
    """A non-JSON reply, e.g. an HTML error page."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    return Reply(status, data, content_type)


Route = Callable[[Request], Reply]


@dataclass
class ServiceServer:
    """An HTTP server with routes keyed by ``(method, path)`` that records every request."""

    requests: list[Request] = field(default_factory=list)
    _routes: dict[tuple[str, str], Route] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    def route(self, method: str, path: str, handler: Route) -> None:
        """Answers ``method path`` (query string ignored) with ``handler(request)``."""
        self._routes[(method.upper(), path)] = handler

    def json_route(self, method: str, path: str, payload: Any, status: int = 200) -> None:
        """Answers ``method path`` with a fixed JSON payload."""
        self.route(method, path, lambda _req: reply(status, payload))

    def calls(self, path: str, method: str | None = None) -> list[Request]:
        """The requests received on ``path`` (optionally of one method), oldest first."""
        with self._lock:
            return [
                r
                for r in self.requests
                if r.path == path and (method is None or r.method == method.upper())
            ]

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>`` of the running server."""
        assert self._server is not None, "server not started"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("content-length") or 0)
        body = handler.rfile.read(length) if length else b""
        request = Request(
            method=handler.command,
            path=parts.path,
            query=parse_qs(parts.query),
            headers={k.lower(): v for k, v in handler.headers.items()},
            body=body,
        )
        with self._lock:
            self.requests.append(request)
        route = self._routes.get((handler.command, parts.path))
        try:
            answer = route(request) if route else reply(404, {"error": "no route"})
        except Exception as err:  # a broken route is a 500, visible in the test's assertions
            answer = reply(500, {"error": f"{type(err).__name__}: {err}"})
        handler.send_response(answer.status)
        handler.send_header("Content-Type", answer.content_type)
        handler.send_header("Content-Length", str(len(answer.body)))
        handler.end_headers()
        handler.wfile.write(answer.body)

    def start(self) -> ServiceServer:
        """Starts serving on an ephemeral port of 127.0.0.1."""
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                service._handle(self)

            do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stops the server and its thread."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> ServiceServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def fail_times(times: int, then: Route, failure: Reply | None = None) -> Route:
    """A route that fails ``times`` times (a 500 by default), then answers with ``then``."""
    counter = {"n": 0}
    lock = threading.Lock()

    def route(request: Request) -> Reply:
        with lock:
            counter["n"] += 1
            n = counter["n"]
        if n <= times:
            return failure or reply(500, {"error": f"failure {n}"})
        return then(request)

    return route
