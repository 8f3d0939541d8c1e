"""End-to-end tests of workflows/resilience/report_with_partial_failures.py (seed 002, report
generation)."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from activities._demo.http import HTTPService, Reply, Request
from activities.resilience.report_with_partial_failures import ReportEnv, apply_schema
from adapter import InstanceStatus
from adapter.bindings import D1Database, OfflineAI
from tests.helpers import eventually, step_attempts
from workflows.resilience.report_with_partial_failures import ReportGenerationWorkflow

pytestmark = pytest.mark.server


def item_route(req: Request) -> Reply:
    item = req.path.rsplit("/", 1)[-1]
    if item.startswith("missing"):
        return Reply(404, {"error": "not found"})
    if item.startswith("broken"):
        return Reply(200, {"id": item})  # no "value"
    return Reply(200, {"id": item, "value": len(item)})


@pytest.fixture
def http() -> Iterator[HTTPService]:
    with HTTPService("stand-in") as server:
        server.json_route("GET", "/reports/r-1", {"title": "Weekly", "period": "2025-W01"})
        for name in ("alpha", "beta", "gamma", "missing-1", "broken-1", "missing-2"):
            server.route("GET", f"/items/{name}", item_route)
        server.json_route("POST", "/admin", {"ok": True})
        yield server


@pytest.fixture
async def env(tmp_path: Path, http: HTTPService) -> AsyncIterator[ReportEnv]:
    db = D1Database(str(tmp_path / "db.sqlite"))
    await apply_schema(db)
    yield ReportEnv(
        DATABASE=db,
        AI=OfflineAI(),
        DATA_API_URL=http.base_url,
        ADMIN_WEBHOOK_URL=f"{http.base_url}/admin",
    )
    db.close()


async def report_row(env: ReportEnv, report_id: str) -> Any:
    return await env.DATABASE.prepare("SELECT * FROM reports WHERE id = ?").bind(report_id).first()


async def steps(instance: Any) -> list[str]:
    return [a.summary for a in await step_attempts(instance.handle)]


async def test_report_with_all_items(tempflare_worker: Any, env: ReportEnv) -> None:
    params = {"reportId": "r-1", "userId": "u-1", "items": ["alpha", "beta", "gamma"]}
    async with tempflare_worker(ReportGenerationWorkflow, env=env) as wf:
        instance = await wf.create(id="report-all", params=params)
        result = await instance.handle.result()
    row = await report_row(env, "r-1")
    data = json.loads(row["data"])
    assert result["success"] is True
    assert result["summary"] == {
        "reportId": "r-1",
        "itemsProcessed": 3,
        "itemsFailed": 0,
        "failures": [],
        "reportLength": len(data["report"]),
    }
    assert (row["status"], row["user_id"], row["error_message"]) == ("completed", "u-1", None)
    assert data["report"].startswith("Offline response")
    assert result["timing"]["completedAt"] == row["updated_at"]
    started = datetime.fromisoformat(result["timing"]["startedAt"])
    assert started <= datetime.fromisoformat(row["updated_at"])
    assert await steps(instance) == [
        "update-status",
        "fetch-report-data",
        "process-batch",
        "generate-report",
        "save-result",
    ]


async def test_partial_failures_are_reported_and_saving_is_idempotent(
    tempflare_worker: Any, env: ReportEnv
) -> None:
    params = {"reportId": "r-1", "userId": "u-1", "items": ["alpha", "missing-1", "broken-1"]}
    async with tempflare_worker(ReportGenerationWorkflow, env=env) as wf:
        first = await (await wf.create(id="report-partial", params=params)).handle.result()
        # the same report again: the upsert leaves one row
        params["items"] = ["beta"]
        second = await (await wf.create(id="report-again", params=params)).handle.result()
    assert first["summary"]["itemsProcessed"] == 1
    assert first["summary"]["failures"] == [
        {"item": "missing-1", "error": "item missing-1: HTTP 404"},
        {"item": "broken-1", "error": "'value'"},
    ]
    assert second["summary"]["itemsFailed"] == 0
    count = await env.DATABASE.prepare("SELECT COUNT(*) AS n FROM reports").first("n")
    assert count == 1
    row = await report_row(env, "r-1")
    assert row["status"] == "completed" and json.loads(row["data"])["failures"] == []


@pytest.mark.parametrize("api", ["error-status", "unreachable", "no-admin-webhook"])
async def test_report_data_failure_is_handled_gracefully(
    tempflare_worker: Any, env: ReportEnv, http: HTTPService, api: str
) -> None:
    expected_error = "API error: 404"  # no route for /reports/r-404
    if api == "unreachable":
        with socket.socket() as sock:  # a port nobody listens on
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        env.DATA_API_URL = f"http://127.0.0.1:{port}"
        expected_error = f"fetch GET http://127.0.0.1:{port}/reports/r-404 failed: ConnectError"
    if api == "no-admin-webhook":
        env.ADMIN_WEBHOOK_URL = None
    params = {"reportId": "r-404", "userId": "u-1", "items": ["alpha"]}
    async with tempflare_worker(ReportGenerationWorkflow, env=env) as wf:
        instance = await wf.create(id=f"report-no-data-{api}", params=params)
        result = await instance.handle.result()
        status = await instance.status()
    assert status.status == InstanceStatus.COMPLETE
    assert result["success"] is False
    assert result["error"].startswith(expected_error)
    assert result["adminNotified"] is (api != "no-admin-webhook")
    admin = http.requests("POST", "/admin")
    if api == "no-admin-webhook":
        assert admin == []
    else:
        assert [r.json() for r in admin] == [{"reportId": "r-404", "error": result["error"]}]
    row = await report_row(env, "r-404")
    assert (row["status"], row["error_message"]) == ("failed", result["error"])
    assert await steps(instance) == ["update-status", "fetch-report-data", "handle-failure"]
    assert http.requests(path="/items/alpha") == []


async def test_no_processable_item_errors_and_marks_failed(
    tempflare_worker: Any, env: ReportEnv
) -> None:
    params = {"reportId": "r-1", "userId": "u-1", "items": ["missing-1", "missing-2"]}
    async with tempflare_worker(ReportGenerationWorkflow, env=env) as wf:
        instance = await wf.create(id="report-nothing", params=params)

        async def status() -> Any:
            return await instance.status()

        final = await eventually(status, lambda s: s.status.is_final)
    assert final.status == InstanceStatus.ERRORED
    assert final.error is not None
    assert (final.error.name, final.error.message) == (
        "NoDataError",
        "none of the 2 items could be processed",
    )
    row = await report_row(env, "r-1")
    assert (row["status"], row["error_message"]) == (
        "failed",
        "none of the 2 items could be processed",
    )
    assert await steps(instance) == [
        "update-status",
        "fetch-report-data",
        "process-batch",
        "mark-failed",
    ]
