"""End-to-end tests of workflows/getting_started/front_door.py (seed 003, the Worker's fetch
handler)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from activities._demo.http import HTTPService
from activities.getting_started.starter import StarterEnv
from adapter import Workflow
from adapter.bindings import R2Bucket
from tests.helpers import eventually
from workflows.getting_started.front_door import serve, server_url
from workflows.getting_started.starter import MyWorkflow

pytestmark = pytest.mark.server


@pytest.fixture
def http() -> Iterator[HTTPService]:
    with HTTPService("stand-in") as server:
        server.json_route("GET", "/client/v4/ips", {"result": {"ipv4_cidrs": []}, "success": True})
        yield server


@pytest.fixture
def env(tmp_path: Path, http: HTTPService) -> StarterEnv:
    return StarterEnv(
        BUCKET=R2Bucket(tmp_path / "bucket"), IPS_URL=f"{http.base_url}/client/v4/ips"
    )


@pytest.fixture
async def front_door(tempflare_worker: Any, env: StarterEnv) -> AsyncIterator[httpx.AsyncClient]:
    async with tempflare_worker(MyWorkflow, env=env) as wf:
        binding: Workflow[Any] = wf
        server = await serve(binding, port=0)
        async with server, httpx.AsyncClient(base_url=server_url(server)) as client:
            yield client


async def test_post_creates_an_instance_and_get_reports_its_status(
    front_door: httpx.AsyncClient,
) -> None:
    params = {"email": "x@example.com", "wait_seconds": 0.1, "failure_rate": 0.0}
    created = await front_door.post("/", json=params)
    assert created.status_code == 200
    assert created.headers["content-type"] == "application/json"
    body = created.json()
    assert set(body) == {"id", "details"}
    assert len(body["id"]) == 36  # crypto.randomUUID()
    assert body["details"]["status"] in ("queued", "running", "waiting")

    async def status() -> Any:
        return (await front_door.get("/", params={"instanceId": body["id"]})).json()

    final = await eventually(status, lambda s: s["status"]["status"] == "complete")
    output = final["status"]["output"]
    assert output["email"] == "x@example.com"
    assert output["written"] == f"files/{body['id']}.json"
    assert "error" not in final["status"]


async def test_errored_instance_reports_its_error(front_door: httpx.AsyncClient) -> None:
    params = {
        "email": "y@example.com",
        "wait_seconds": 0,
        "fail_attempts": 99,
        "retry_delay_seconds": 0,
    }
    created = (await front_door.post("/", json=params)).json()

    async def status() -> Any:
        return (await front_door.get(f"/?instanceId={created['id']}")).json()

    final = await eventually(status, lambda s: s["status"]["status"] == "errored")
    assert final["status"]["error"] == {
        "name": "RuntimeError",
        "message": "Simulated failure - will retry",
    }


async def test_favicon_unknown_instance_and_bad_requests(front_door: httpx.AsyncClient) -> None:
    favicon = await front_door.get("/favicon.ico")
    assert (favicon.status_code, favicon.json()) == (404, {})

    unknown = await front_door.get("/?instanceId=no-such-instance")
    assert unknown.status_code == 404
    assert "no-such-instance" in unknown.json()["error"]

    # get() accepts any id Temporal could have made (schedules put ':' in ids): not found
    odd_id = await front_door.get("/?instanceId=bad:id")
    assert odd_id.status_code == 404
    assert "bad:id" in odd_id.json()["error"]

    not_json = await front_door.post("/", content=b"{not json")
    assert not_json.status_code == 400
    assert not_json.json()["error"].startswith("Request body is not JSON")

    invalid = await front_door.post("/", json={"metadata": {}})  # no email
    assert invalid.status_code == 400
    assert "email" in invalid.json()["error"]
