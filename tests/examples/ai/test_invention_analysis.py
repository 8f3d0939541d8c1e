"""End-to-end tests of workflows/ai/invention_analysis.py (seed 002, complete example)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from activities._demo.http import HTTPService, Reply, Request
from activities.ai.invention_analysis import (
    Extraction,
    InventionEnv,
    apply_schema,
    call_ai_with_schema,
    get_invention_by_id,
)
from adapter import InstanceStatus
from adapter.bindings import D1Database, OfflineAI
from tests.helpers import eventually, step_attempts
from workflows.ai.invention_analysis import (
    EXAMPLE_PARAMS,
    InventionAnalysisWorkflow,
    start_analysis,
)

pytestmark = pytest.mark.server

FAST_RETRIES = {"default_retry_delay": 0}
CONVERSATION = EXAMPLE_PARAMS["conversation"]


def patents_for(per_query: int) -> Any:
    """A patent search: ``per_query`` patents per query, the last one shared by all queries."""

    def route(req: Request) -> Any:
        q = req.arg("q") or ""
        tag = hashlib.sha256(q.encode()).hexdigest()[:6]
        own = [
            {"id": f"P-{tag}-{i}", "title": f"{q} #{i}", "abstract": f"On {q}"}
            for i in range(per_query - 1)
        ]
        return Reply(200, [*own, {"id": "P-COMMON", "title": "Common", "abstract": "Shared"}])

    return route


@pytest.fixture
def http() -> Iterator[HTTPService]:
    with HTTPService("stand-in") as server:
        server.route("GET", "/patents/search", patents_for(2))
        server.json_route("POST", "/slack", {"ok": True})
        yield server


@pytest.fixture
async def env(tmp_path: Path, http: HTTPService) -> AsyncIterator[InventionEnv]:
    db = D1Database(str(tmp_path / "db.sqlite"))
    await apply_schema(db)
    for invention_id in ("inv-1", "inv-2", "inv-3", "inv-4"):
        await (
            db.prepare("INSERT INTO inventions (id, user_id, conversation) VALUES (?, 'user-1', ?)")
            .bind(invention_id, json.dumps(CONVERSATION))
            .run()
        )
    yield InventionEnv(
        DATABASE=db,
        AI=OfflineAI(),
        PATENT_API_URL=f"{http.base_url}/patents",
        SLACK_WEBHOOK_URL=f"{http.base_url}/slack",
    )
    db.close()


async def expected_extraction() -> Extraction:
    return await call_ai_with_schema(
        OfflineAI(),
        model="claude-sonnet-4-5",
        system_prompt="Extract invention features from the conversation.",
        user_prompt=json.dumps(CONVERSATION),
        schema=Extraction,
        schema_name="InventionExtraction",
    )


async def analysis_row(env: InventionEnv, invention_id: str) -> Any:
    return (
        await env.DATABASE.prepare("SELECT * FROM analyses WHERE invention_id = ?")
        .bind(invention_id)
        .first()
    )


async def final_status(instance: Any) -> Any:
    async def status() -> Any:
        return await instance.status()

    return await eventually(status, lambda s: s.status.is_final)


def params(invention_id: str) -> dict[str, Any]:
    return {"inventionId": invention_id, "userId": "user-1", "conversation": CONVERSATION}


async def test_full_analysis_updates_db_and_notifies(
    tempflare_worker: Any, env: InventionEnv, http: HTTPService
) -> None:
    extraction = await expected_extraction()
    assert len(extraction.features) == 3
    async with tempflare_worker(InventionAnalysisWorkflow, env=env) as wf:
        instance = await wf.create(id="analysis-1", params=params("inv-1"))
        result = await instance.handle.result()

    # 3 features x (1 own + 1 shared patent), deduplicated: 4 patents
    report = (await analysis_row(env, "inv-1"))["final_report"]
    assert result == {
        "success": True,
        "inventionId": "inv-1",
        "featuresExtracted": 3,
        "patentsAnalyzed": 4,
        "reportLength": len(report),
        "notification": "sent",
    }
    searches = http.requests(path="/patents/search")
    assert sorted(r.arg("q") or "" for r in searches) == sorted(extraction.features)
    analysis = await analysis_row(env, "inv-1")
    assert analysis["status"] == "completed"
    assert json.loads(analysis["extracted_data"]) == extraction.model_dump()
    assert report.startswith("Offline response")
    invention = await get_invention_by_id(env.DATABASE, "inv-1")
    assert invention is not None
    assert (invention["status"], invention["analysis"]) == ("completed", report)
    [slack] = http.requests("POST", "/slack")
    assert slack.json() == {
        "text": f"Patent analysis report ready: {extraction.title}",
        "inventionId": "inv-1",
        "inventionTitle": extraction.title,
    }
    assert [a.summary for a in await step_attempts(instance.handle)] == [
        "extract-features",
        "search-prior-art",
        "analyze-patents",
        "generate-report",
        "send-notification",
    ]


async def test_trpc_start_analysis_marks_analyzing_then_completed(
    tempflare_worker: Any, env: InventionEnv
) -> None:
    async with tempflare_worker(InventionAnalysisWorkflow, env=env) as wf:
        started = await start_analysis(wf, env.DATABASE, "inv-2", "user-1")
        invention = await get_invention_by_id(env.DATABASE, "inv-2")
        assert invention is not None
        assert invention["workflow_instance_id"] == started["instanceId"]
        assert invention["status"] in ("analyzing", "completed")
        instance = await wf.get(started["instanceId"])
        await instance.handle.result()
    invention = await get_invention_by_id(env.DATABASE, "inv-2")
    assert invention is not None and invention["status"] == "completed"
    with pytest.raises(LookupError, match="Invention 'nope' not found"):
        await start_analysis(wf, env.DATABASE, "nope", "user-1")


async def test_without_slack_only_first_ten_patents_and_flaky_search_is_retried(
    tempflare_worker: Any, env: InventionEnv, http: HTTPService
) -> None:
    env.SLACK_WEBHOOK_URL = None
    # 6 patents per query (5 own + 1 shared) -> 16 unique; the search fails once first
    http.route("GET", "/patents/search", patents_for(6))
    http.fail_next(1, status=502, body="<html>bad gateway", path="/patents/search")
    async with tempflare_worker(InventionAnalysisWorkflow, env=env, **FAST_RETRIES) as wf:
        instance = await wf.create(id="analysis-3", params=params("inv-3"))
        result = await instance.handle.result()
    assert result["patentsAnalyzed"] == 10
    assert result["notification"] == "skipped: Slack not configured"
    assert http.requests(path="/slack") == []
    attempts = [(a.summary, a.failed) for a in await step_attempts(instance.handle)]
    assert attempts[1:3] == [("search-prior-art", True), ("search-prior-art", False)]


async def test_patent_api_down_marks_everything_failed(
    tempflare_worker: Any, env: InventionEnv, http: HTTPService
) -> None:
    http.route("GET", "/patents/search", lambda _req: Reply(500, "<html>Internal error</html>"))
    async with tempflare_worker(InventionAnalysisWorkflow, env=env, **FAST_RETRIES) as wf:
        instance = await wf.create(id="analysis-4", params=params("inv-4"))
        final = await final_status(instance)
    assert final.status == InstanceStatus.ERRORED
    assert final.error is not None
    assert final.error.name == "JSONDecodeError"
    assert "Expecting value" in final.error.message
    assert (await analysis_row(env, "inv-4"))["status"] == "failed"  # created by step 1
    invention = await get_invention_by_id(env.DATABASE, "inv-4")
    assert invention is not None and invention["status"] == "failed"
    names = [a.summary for a in await step_attempts(instance.handle)]
    assert names == ["extract-features", *["search-prior-art"] * 6, "mark-failed"]


async def test_failing_webhook_turns_a_finished_report_into_failed(
    tempflare_worker: Any, env: InventionEnv, http: HTTPService
) -> None:
    http.json_route("POST", "/slack", {"error": "invalid_token"}, status=403)
    async with tempflare_worker(InventionAnalysisWorkflow, env=env, **FAST_RETRIES) as wf:
        instance = await wf.create(id="analysis-1b", params=params("inv-1"))
        final = await final_status(instance)
    assert final.error is not None
    assert (final.error.name, final.error.message) == ("RuntimeError", "Slack webhook error: 403")
    assert len(http.requests(path="/slack")) == 6
    # as in the seed, the catch overwrites the completed status; the report itself stays
    analysis = await analysis_row(env, "inv-1")
    assert analysis["status"] == "failed" and analysis["final_report"]
    invention = await get_invention_by_id(env.DATABASE, "inv-1")
    assert invention is not None and invention["status"] == "failed" and invention["analysis"]
