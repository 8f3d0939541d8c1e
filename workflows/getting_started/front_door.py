"""An HTTP front door that creates workflow instances and reports their status.

Ports seed 003, "Basic Workflow Example", the Worker's ``fetch`` handler.

TypeScript::

    async fetch(req: Request, env: Env): Promise<Response> {
      let url = new URL(req.url);
      if (url.pathname.startsWith('/favicon')) return Response.json({}, { status: 404 });
      let id = url.searchParams.get('instanceId');
      if (id) { let instance = await env.MY_WORKFLOW.get(id);
                return Response.json({ status: await instance.status() }); }
      const data = await req.json();
      let instance = await env.MY_WORKFLOW.create({ id: crypto.randomUUID(), params: data });
      return Response.json({ id: instance.id, details: await instance.status() });
    }

A small HTTP front door on ``asyncio.start_server`` with minimal HTTP/1.1 parsing (stdlib
only): :func:`handle` is the handler above, :func:`serve` puts it on a socket, and
``python -m workflows.getting_started.front_door`` runs it against a Temporal server.

Differences: the status JSON is tempflare's ``InstanceStatusDetails`` without null fields
(as ``JSON.stringify`` drops ``undefined``). Where the Worker would throw (an unknown id, a
body that is not JSON, params that fail validation) the front door answers a JSON error
(404, 400) instead of Cloudflare's generic 500 page. Requests are served one per connection
(``Connection: close``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

from adapter import (
    InstanceNotFoundError,
    InvalidInstanceIdError,
    InvalidParamsError,
    Workflow,
    connect,
)

MAX_BODY: Final = 1024 * 1024 + 4096
_REASONS: Final = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    500: "Internal Server Error",
}

Handler = Callable[[str, str, bytes], Awaitable[tuple[int, Any]]]


async def handle(binding: Workflow[Any], method: str, target: str, body: bytes) -> tuple[int, Any]:
    """The Worker's ``fetch``: returns ``(status, JSON body)``.

    Args:
        binding: ``env.MY_WORKFLOW``.
        method: The HTTP method.
        target: The request target (path and query string).
        body: The request body.
    """
    url = urlsplit(target)
    if url.path.startswith("/favicon"):
        return 404, {}

    # Get status of existing instance
    instance_id = (parse_qs(url.query).get("instanceId") or [""])[0]
    if instance_id:
        try:
            instance = await binding.get(instance_id)
        except (InstanceNotFoundError, InvalidInstanceIdError) as err:
            return (404 if isinstance(err, InstanceNotFoundError) else 400), {"error": str(err)}
        return 200, {"status": await _status(instance)}

    try:
        data = json.loads(body) if body.strip() else None
    except ValueError as err:
        return 400, {"error": f"Request body is not JSON: {err}"}

    # Create new workflow instance
    try:
        instance = await binding.create(id=str(uuid.uuid4()), params=data)
    except InvalidParamsError as err:
        return 400, {"error": str(err)}
    return 200, {"id": instance.id, "details": await _status(instance)}


async def _status(instance: Any) -> dict[str, Any]:
    details = await instance.status()
    result: dict[str, Any] = details.model_dump(mode="json", exclude_none=True)
    return result


def _response(status: int, payload: Any) -> bytes:
    body = json.dumps(payload).encode("utf-8")
    head = (
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


async def _serve_connection(
    handler: Handler, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    try:
        request_line = (await reader.readline()).decode("latin-1").strip()
        parts = request_line.split()
        if len(parts) != 3:
            writer.write(_response(400, {"error": "Malformed request line"}))
            return
        method, target, _version = parts
        headers: dict[str, str] = {}
        while True:
            line = (await reader.readline()).decode("latin-1")
            if line in ("\r\n", "\n", ""):
                break
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length") or 0)
        if length > MAX_BODY:
            writer.write(_response(413, {"error": "Request body too large"}))
            return
        body = await reader.readexactly(length) if length else b""
        try:
            status, payload = await handler(method.upper(), target, body)
        except Exception as err:  # the Worker's uncaught exception: a 500
            status, payload = 500, {"error": f"{type(err).__name__}: {err}"}
        writer.write(_response(status, payload))
    except (asyncio.IncompleteReadError, ConnectionError, ValueError):
        with contextlib.suppress(ConnectionError):
            writer.write(_response(400, {"error": "Malformed request"}))
    finally:
        with contextlib.suppress(ConnectionError):
            await writer.drain()
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


async def serve(
    binding: Workflow[Any], host: str = "127.0.0.1", port: int = 8787
) -> asyncio.Server:
    """Starts the front door; ``port=0`` picks a free port (see ``server.sockets``).

    Returns:
        The started ``asyncio.Server``; close it with ``server.close()``.
    """

    async def handler(method: str, target: str, body: bytes) -> tuple[int, Any]:
        return await handle(binding, method, target, body)

    return await asyncio.start_server(
        lambda r, w: _serve_connection(handler, r, w), host=host, port=port
    )


def server_url(server: asyncio.Server) -> str:
    """``http://host:port`` of a started front door."""
    host, port = server.sockets[0].getsockname()[:2]
    return f"http://{host}:{port}"


async def main(argv: list[str] | None = None) -> None:
    """Runs the front door for ``MyWorkflow`` (``workflows-starter``) until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--address", default=None, help="Temporal host:port")
    parser.add_argument("--task-queue", default="tempflare")
    parser.add_argument("--workflow", default="workflows-starter", help="workflow name to create")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8787)
    args = parser.parse_args(argv)
    client = await connect(args.address)
    binding: Workflow[Any] = Workflow(client, args.workflow, task_queue=args.task_queue)
    server = await serve(binding, args.host, args.port)
    print(f"front door for {args.workflow} on {server_url(server)}")
    async with server:
        await server.serve_forever()


# ------------------------------------------------------------------------------ demo run
# The front door is not a workflow; it creates ``MyWorkflow`` instances
# (workflows/getting_started/starter.py).

EXAMPLE_PARAMS: Final[dict[str, Any]] = {
    "email": "demo@example.com",
    "metadata": {"via": "front-door"},
    "wait_seconds": 1,
    "failure_rate": 0.0,
}
EXPECTED_STATUS: Final = "complete"
EVENTS: Final[list[tuple[float, str, object]]] = []


if __name__ == "__main__":
    asyncio.run(main())
