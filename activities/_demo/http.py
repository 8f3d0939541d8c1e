"""The one HTTP stand-in server of the examples: real servers on 127.0.0.1 for external services.

The main job's demo runs (``main.py``: :mod:`activities._demo.services`,
:mod:`activities._demo.demo_server`) and the example tests (``tests/examples/``) all use it; a
production worker never starts one (``worker.py`` builds no demo env).

:class:`HTTPService` is a threaded ``http.server`` on a free port (or a given one) with
programmable routes, a log of every request, and fault injection (fail, delay or drop the next N
matching requests). It is a real server, reached by the bindings over real sockets: nothing in
the client is patched.

Example::

    with HTTPService("gateway") as gw:
        gw.route("POST", "/charge", lambda req: Reply(200, {"transactionId": "TXN-1"}))
        gw.fail_next(2, status=503)             # the next two requests get a 503
        env = Env(GATEWAY=Fetcher(gw.base_url))
        ...
        assert gw.count("POST", "/charge") == 3

A handler takes a :class:`Request` and returns a :class:`Reply`, or any JSON value (sent with
status 200). Path patterns may hold ``{name}`` segments, found in ``request.params``; routing a
method and pattern again replaces the earlier handler. A request no route matches gets a 404.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

__all__ = ["Fault", "HTTPService", "Reply", "Request"]


@dataclass(frozen=True)
class Request:
    """One request the service received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    params: dict[str, str] = field(default_factory=dict)
    at: float = 0.0  # time.monotonic() when it arrived

    def json(self) -> Any:
        """The body parsed as JSON (``None`` when empty)."""
        return json.loads(self.body) if self.body else None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def arg(self, name: str) -> str | None:
        """A query parameter (the last one, when repeated)."""
        return self.query.get(name)


@dataclass
class Reply:
    """A response: ``body`` is sent as JSON unless it is ``str`` or ``bytes``."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering


@dataclass
class Fault:
    """Applies to the next ``times`` requests matching ``method``/``path`` (``None`` = any).

    ``drop`` closes the connection without answering (a network error for the client);
    otherwise ``reply`` is sent, after ``delay`` seconds. With ``reply=None`` and no ``drop``
    the route answers normally after the delay.
    """

    times: int
    reply: Reply | None = None
    drop: bool = False
    delay: float = 0.0
    method: str | None = None
    path: str | None = None

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and (
            self.path is None or self.path == path
        )


Handler = Callable[[Request], Any]


class HTTPService:
    """A threaded HTTP server on ``127.0.0.1`` with routes, a request log and fault injection.

    Args:
        name: For thread names and error messages.
        port: The port to listen on; ``0`` (the default) picks a free one.
    """

    def __init__(self, name: str = "service", *, port: int = 0) -> None:
        self.name = name
        self.port = port
        self.calls: list[Request] = []
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ configuration

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        """Answers ``method pattern`` with ``handler``; ``{name}`` segments become params.

        Routing the same method and pattern again replaces the handler.
        """
        regex = re.compile(
            "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(pattern)) + "$"
        )
        with self._lock:
            self._routes = [
                r for r in self._routes if (r[0], r[1].pattern) != (method.upper(), regex.pattern)
            ]
            self._routes.append((method.upper(), regex, handler))

    def json_route(self, method: str, pattern: str, body: Any, status: int = 200) -> None:
        """Answers ``method pattern`` with a fixed JSON ``body``."""
        self.route(method, pattern, lambda _request: Reply(status, body))

    def fail_next(
        self,
        times: int = 1,
        *,
        status: int = 503,
        body: Any = "Service Unavailable",
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        """The next ``times`` matching requests get ``status`` with ``body``."""
        self.add_fault(Fault(times, Reply(status, body), method=method, path=path))

    def drop_next(
        self, times: int = 1, *, method: str | None = None, path: str | None = None
    ) -> None:
        """The next ``times`` matching requests get no response: the connection is closed."""
        self.add_fault(Fault(times, drop=True, method=method, path=path))

    def delay_next(
        self, times: int, seconds: float, *, method: str | None = None, path: str | None = None
    ) -> None:
        """The next ``times`` matching requests are answered normally, ``seconds`` late."""
        self.add_fault(Fault(times, delay=seconds, method=method, path=path))

    def add_fault(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    # ------------------------------------------------------------------ inspection

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError(f"{self.name} is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def requests(self, method: str | None = None, path: str | None = None) -> list[Request]:
        """The requests received so far, optionally filtered (``path`` without query)."""
        with self._lock:
            return [
                r
                for r in self.calls
                if (method is None or r.method == method) and (path is None or r.path == path)
            ]

    def count(self, method: str | None = None, path: str | None = None) -> int:
        return len(self.requests(method, path))

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> HTTPService:
        service = self

        class _Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                service._serve(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name=f"http-{self.name}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> HTTPService:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ serving

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        length = int(h.headers.get("content-length") or 0)
        body = h.rfile.read(length) if length else b""
        method = h.command.upper()
        handler: Handler | None = None
        params: dict[str, str] = {}
        with self._lock:
            for route_method, regex, route_handler in self._routes:
                match = regex.match(parts.path)
                if route_method == method and match:
                    handler, params = route_handler, match.groupdict()
                    break
            request = Request(
                method=method,
                path=parts.path,
                query=dict(parse_qsl(parts.query)),
                headers={k.lower(): v for k, v in h.headers.items()},
                body=body,
                params=params,
                at=time.monotonic(),
            )
            self.calls.append(request)
            fault = next((f for f in self._faults if f.matches(method, parts.path)), None)
            if fault is not None:
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)

        if fault is not None and fault.delay:
            time.sleep(fault.delay)
        if fault is not None and fault.drop:
            h.close_connection = True
            return
        if fault is not None and fault.reply is not None:
            reply = fault.reply
        elif handler is None:
            reply = Reply(404, {"error": f"no route for {method} {parts.path}"})
        else:
            try:
                result = handler(request)
            except Exception as err:  # a bug in a test handler: answer 500, visibly
                result = Reply(500, {"error": f"{type(err).__name__}: {err}"})
            reply = result if isinstance(result, Reply) else Reply(200, result)
        if reply.delay:
            time.sleep(reply.delay)
        self._write(h, reply)

    @staticmethod
    def _write(h: BaseHTTPRequestHandler, reply: Reply) -> None:
        headers = dict(reply.headers)
        if isinstance(reply.body, bytes):
            data = reply.body
        elif isinstance(reply.body, str):
            data = reply.body.encode()
            headers.setdefault("Content-Type", "text/plain; charset=utf-8")
        elif reply.body is None:
            data = b""
        else:
            data = json.dumps(reply.body).encode()
            headers.setdefault("Content-Type", "application/json")
        try:
            h.send_response(reply.status)
            for name, value in headers.items():
                h.send_header(name, value)
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            if h.command != "HEAD":
                h.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (e.g. a step timed out): nothing to answer
