"""One stand-in server with canned answers, for the demo runs of the examples that do not use the
shared env (:mod:`workflows._shared_env`).

Those examples call services that do not exist here (an e-mail API, a data source, a patent search
API, a Slack webhook, an approval system, an image host, Cloudflare's ``/client/v4/ips``). For a
demo run, :func:`ensure_demo_services` starts one :class:`~activities._demo.http.HTTPService` on
``127.0.0.1:$TEMPFLARE_DEMO_PORT`` (default 18787), once per process, answering with
deterministic data. The module-level ``EXAMPLE_PARAMS`` of the workflows point at
:data:`DEMO_BASE_URL`. The example tests build their own :class:`HTTPService` with the routes
each test needs.
"""

from __future__ import annotations

import base64
import hashlib
import os
import threading
from typing import Any, Final

from .http import HTTPService, Reply, Request

#: A 1x1 PNG, base64-encoded.
DEMO_PNG: Final = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP438AAAAQBAYDFKhhdAAAAAElFTkSuQmCC"
)
DEMO_PORT: Final = int(os.environ.get("TEMPFLARE_DEMO_PORT", "18787"))
DEMO_BASE_URL: Final = f"http://127.0.0.1:{DEMO_PORT}"

_started: HTTPService | None = None
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


def add_demo_routes(service: HTTPService) -> HTTPService:
    """Routes every canned answer of the demo services on ``service``."""
    ok = {"ok": True}
    service.route("GET", "/records.json", lambda _req: demo_records())
    service.route("GET", "/patents/search", lambda req: demo_patents(req.arg("q") or ""))
    service.json_route(
        "GET",
        "/client/v4/ips",
        {
            "result": {"ipv4_cidrs": ["173.245.48.0/20"], "ipv6_cidrs": ["2400:cb00::/32"]},
            "success": True,
        },
    )
    service.json_route("GET", "/approvals/{request_id}", {"approved": True})
    service.json_route("POST", "/approvals/{request_id}/done", ok)
    for path in ("/email", "/webhook", "/admin"):
        service.json_route("POST", path, ok)
    service.route("GET", "/items/{item}", _item)
    service.route(
        "GET",
        "/reports/{report_id}",
        lambda _req: {"sections": [{"title": f"Section {i}", "value": i * 10} for i in range(5)]},
    )
    png = base64.b64decode(DEMO_PNG)
    service.route(
        "GET", "/images/{name}", lambda _req: Reply(200, png, {"Content-Type": "image/png"})
    )
    return service


def _item(request: Request) -> dict[str, Any]:
    item = request.params["item"]
    return {"id": item, "value": 10 * len(item)}


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
                server = add_demo_routes(HTTPService("demo", port=DEMO_PORT)).start()
            except OSError:
                server = add_demo_routes(HTTPService("demo")).start()
            _started = server
        return _started.base_url
