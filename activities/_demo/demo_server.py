"""Stand-in external services for the demo runs of the seed 001-003 ports.

The seeds call services that do not exist here (an e-mail API, a data source, a patent search
API, a Slack webhook, Cloudflare's ``/client/v4/ips``). For a demo run, :func:`ensure_demo_services`
starts a small stdlib HTTP server on ``127.0.0.1:$TEMPFLARE_DEMO_PORT`` (default 18787) in a
daemon thread, once per process, answering with deterministic data. The module-level
``EXAMPLE_PARAMS`` of the workflows point at :data:`DEMO_BASE_URL`. Tests do not use this
module; they run their own servers (``tests/seed_services_b.py``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

#: A 1x1 PNG, base64-encoded.
DEMO_PNG: Final = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP438AAAAQBAYDFKhhdAAAAAElFTkSuQmCC"
)
DEMO_PORT: Final = int(os.environ.get("TEMPFLARE_DEMO_PORT", "18787"))
DEMO_BASE_URL: Final = f"http://127.0.0.1:{DEMO_PORT}"

_started: ThreadingHTTPServer | None = None
_lock = threading.Lock()


def demo_records(count: int = 250) -> list[dict[str, Any]]:
    """The data source's records: ``{"id", "Name", "Email"}``, messy on purpose."""
    return [
        {"id": f"r{i:04d}", "Name": f"  User {i} ", "Email": f"USER{i}@Example.COM"}
        for i in range(count)
    ]


def demo_patents(query: str) -> list[dict[str, Any]]:
    """Two patents per query; one of them is shared by every query (tests deduplication)."""
    digest = hashlib.sha256(query.encode("utf-8")).hexdigest()[:6]
    return [
        {"id": f"US-{digest}", "title": f"Prior art for {query}", "abstract": f"About {query}."},
        {"id": "US-COMMON", "title": "A common patent", "abstract": "Cited by everything."},
    ]


def _answer(method: str, path: str, query: dict[str, list[str]]) -> tuple[int, Any]:
    if method == "GET" and path == "/records.json":
        return 200, demo_records()
    if method == "GET" and path == "/patents/search":
        return 200, demo_patents((query.get("q") or [""])[0])
    if method == "GET" and path == "/client/v4/ips":
        return 200, {
            "result": {"ipv4_cidrs": ["173.245.48.0/20"], "ipv6_cidrs": ["2400:cb00::/32"]},
            "success": True,
        }
    if method == "GET" and path.startswith("/approvals/"):
        return 200, {"approved": True}
    if method == "POST" and (path in ("/email", "/webhook", "/admin") or path.endswith("/done")):
        return 200, {"ok": True}
    if method == "GET" and path.startswith("/items/"):
        item = path.removeprefix("/items/")
        return 200, {"id": item, "value": 10 * len(item)}
    if method == "GET" and path.startswith("/reports/"):
        return 200, {"sections": [{"title": f"Section {i}", "value": i * 10} for i in range(5)]}
    return 404, {"error": f"no demo route {method} {path}"}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        if self.command == "GET" and parts.path.startswith("/images/"):
            status, body, kind = 200, base64.b64decode(DEMO_PNG), "image/png"
        else:
            status, payload = _answer(self.command, parts.path, parse_qs(parts.query))
            body, kind = json.dumps(payload).encode("utf-8"), "application/json"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        pass


def ensure_demo_services() -> str:
    """Starts the demo services once per process; returns their base URL.

    They listen on :data:`DEMO_PORT`. If another process holds that port (a second demo or test
    run), this process starts its own server on a free port instead of borrowing one that may
    stop under it; only ``EXAMPLE_PARAMS`` that embed :data:`DEMO_BASE_URL` still point there.
    """
    global _started
    with _lock:
        if _started is None:
            try:
                server = ThreadingHTTPServer(("127.0.0.1", DEMO_PORT), _Handler)
            except OSError:
                server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, daemon=True).start()
            _started = server
        return f"http://127.0.0.1:{_started.server_address[1]}"
