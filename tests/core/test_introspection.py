"""The introspection toolkit (``adapter.testing``) on the real server, including the seeds'
vitest examples ported to pytest."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

import pytest

from adapter import NonRetryableError, WorkflowEntrypoint, WorkflowEvent, WorkflowStep
from adapter.testing import IntrospectionError, introspect_workflow, introspect_workflow_instance

from ..helpers import step_attempts, timers

pytestmark = pytest.mark.server

CALLS: dict[str, list[str]] = defaultdict(list)


class MyWorkflow(WorkflowEntrypoint[None, dict]):
    """Shaped like the seeds' MY_WORKFLOW: fetch, sleep, approval, an API call, human review."""

    async def run(self, event: WorkflowEvent[dict], step: WorkflowStep) -> Any:
        iid = event.instance_id

        def fetch_data() -> dict:
            CALLS[iid].append("fetch-data")
            return {"value": "real"}

        def api_call() -> dict:
            CALLS[iid].append("api-call")
            return {"status": "live"}

        data = await step.do("fetch-data", fetch_data)
        await step.sleep("cool down", "1 hour")
        approval = await step.wait_for_event("approval", type="approval", timeout="1 hour")
        api = await step.do(
            "api-call",
            {"retries": {"limit": 3, "delay": "1 hour", "backoff": "constant"}},
            api_call,
        )
        if event.payload.get("review"):
            await step.wait_for_event("human review", type="review", timeout="2 hours")
        return {"success": approval.payload["approved"], "data": data, "api": api}


async def test_complete_with_mocked_steps(tempflare_worker: Any) -> None:
    """003's 'should complete with mocked steps': disable sleeps, mock a step and the event."""
    async with tempflare_worker(MyWorkflow) as wf:
        async with introspect_workflow_instance(wf, "test-123") as instance:
            await instance.modify(
                lambda m: (
                    (
                        m.disable_sleeps(),
                        m.mock_step_result({"name": "fetch-data"}, {"value": "mocked"}),
                        m.mock_event(type="approval", payload={"approved": True}),
                        m.mock_step_result({"name": "api-call"}, {"status": "mocked"}),
                    )
                    and None
                )
            )
            await wf.create(id="test-123", params={"userId": "123"})
            await instance.wait_for_status("complete")
            output = await instance.get_output()
            assert output == {
                "success": True,
                "data": {"value": "mocked"},
                "api": {"status": "mocked"},
            }
            assert await instance.wait_for_step_result("fetch-data") == {"value": "mocked"}
            handle = instance.instance.handle
            assert await timers(handle) == []  # the one-hour sleep never ran
            assert CALLS["test-123"] == []  # no real callback ran


async def test_retry_then_succeed_with_mocked_errors(tempflare_worker: Any) -> None:
    async with tempflare_worker(MyWorkflow) as wf:
        async with introspect_workflow_instance(wf, "retry-then-ok") as instance:

            async def configure(m: Any) -> None:
                m.disable_sleeps()
                m.disable_retry_delays()
                m.mock_step_error({"name": "api-call"}, ConnectionError("flaky"), times=1)
                m.force_step_timeout({"name": "api-call"}, times=1)
                m.mock_event(type="approval", payload={"approved": True})

            await instance.modify(configure)
            await wf.create(id="retry-then-ok", params={})
            await instance.wait_for_status("complete")
            assert (await instance.get_output())["api"] == {"status": "live"}
            attempts = [
                a
                for a in await step_attempts(instance.instance.handle)
                if a.activity_type == "api-call"
            ]
            assert [a.failed for a in attempts] == [True, True, False]
            assert CALLS["retry-then-ok"] == ["fetch-data", "api-call"]
            # retry delays of one hour were disabled: no retry timer exists
            assert await timers(instance.instance.handle) == []


async def test_mock_non_retryable_error_and_get_error(tempflare_worker: Any) -> None:
    async with tempflare_worker(MyWorkflow) as wf:
        async with introspect_workflow_instance(wf, "mock-nre") as instance:
            await instance.modify(
                lambda m: m.mock_step_error({"name": "fetch-data"}, NonRetryableError("nope"))
            )
            await wf.create(id="mock-nre", params={})
            await instance.wait_for_status("errored")
            error = await instance.get_error()
            assert (error.name, error.message) == ("NonRetryableError", "nope")
            with pytest.raises(IntrospectionError, match='status "errored" but must be "complete"'):
                await instance.get_output()
            with pytest.raises(IntrospectionError, match="reached status 'errored'"):
                await instance.wait_for_status("complete")
            with pytest.raises(IntrospectionError, match="failed: nope"):
                await instance.wait_for_step_result("fetch-data")


async def test_force_human_review_timeout(tempflare_worker: Any) -> None:
    async with tempflare_worker(MyWorkflow) as wf:
        async with introspect_workflow_instance(wf, "review-timeout") as instance:
            await instance.modify(
                lambda m: (
                    (
                        m.disable_sleeps(),
                        m.mock_event(type="approval", payload={"approved": True}),
                        m.force_event_timeout({"name": "human review"}),
                    )
                    and None
                )
            )
            await wf.create(id="review-timeout", params={"review": True})
            await instance.wait_for_status("errored")
            error = await instance.get_error()
            assert error.name == "WorkflowTimeoutError"
            assert "Execution timed out" in error.message


async def test_modifier_misuse_is_an_error(tempflare_worker: Any) -> None:
    async with tempflare_worker(MyWorkflow) as wf:
        async with introspect_workflow_instance(wf, "misuse") as instance:
            await instance.modify(lambda m: m.mock_step_result({"name": "fetch-data"}, 1))
            with pytest.raises(IntrospectionError, match="mock step 'fetch-data' multiple"):
                await instance.modify(lambda m: m.mock_step_result({"name": "fetch-data"}, 2))
            with pytest.raises(IntrospectionError, match="after mocking its result"):
                await instance.modify(
                    lambda m: m.mock_step_error({"name": "fetch-data"}, ValueError("x"))
                )
            with pytest.raises(IntrospectionError, match="Invalid step selector"):
                await instance.modify(lambda m: m.disable_sleeps([{"name": "x", "index": 0}]))
            with pytest.raises(IntrospectionError, match="Invalid status 'done'"):
                await instance.wait_for_status("done")
            await instance.wait_for_status("queued")  # resolves at once
            await wf.create(id="misuse", params={})
            with pytest.raises(IntrospectionError, match="before instance 'misuse' is created"):
                await instance.modify(lambda m: m.disable_sleeps())
            with pytest.raises(IntrospectionError, match='must be "complete"'):
                await instance.get_output()
            with pytest.raises(IntrospectionError, match='must be "errored"'):
                await instance.get_error()


async def test_mocks_do_not_leak_between_instances_running_at_once(tempflare_worker: Any) -> None:
    async with tempflare_worker(MyWorkflow) as wf:
        async with (
            introspect_workflow_instance(wf, "leak-a") as a,
            introspect_workflow_instance(wf, "leak-b") as b,
        ):
            await a.modify(
                lambda m: (
                    (
                        m.disable_sleeps(),
                        m.mock_step_result({"name": "fetch-data"}, {"value": "A"}),
                        m.mock_event(type="approval", payload={"approved": True}),
                    )
                    and None
                )
            )
            await b.modify(lambda m: m.mock_step_result({"name": "fetch-data"}, {"value": "B"}))
            await asyncio.gather(
                wf.create(id="leak-a", params={}), wf.create(id="leak-b", params={})
            )
            await a.wait_for_status("complete")
            assert (await a.get_output())["data"] == {"value": "A"}
            assert await b.wait_for_step_result("fetch-data") == {"value": "B"}
            # b's sleep was not disabled and it got no mocked event: it is still sleeping
            await b.wait_for_status("waiting")
            found = await timers(b.instance.handle)
            assert [(t.summary, t.seconds) for t in found] == [("cool down", 3600.0)]
        # disposing of b, still sleeping, terminated it (its deletion follows on the server)
        assert (await b.instance.status()).status in ("terminated",)
        plain = await wf.create(id="leak-none", params={})
        await asyncio.sleep(1)
        assert CALLS["leak-none"] == ["fetch-data"]  # real callback, nothing mocked
        await plain.terminate()


async def test_introspect_workflow_covers_every_new_instance(tempflare_worker: Any) -> None:
    async with tempflare_worker(MyWorkflow) as wf:
        async with introspect_workflow(wf) as session:
            await session.modify_all(
                lambda m: (
                    (
                        m.disable_sleeps(),
                        m.mock_event(type="approval", payload={"approved": False}),
                    )
                    and None
                )
            )
            await wf.create(id="all-1", params={})
            await wf.create_batch([{"id": "all-2"}, {"id": "all-3"}])
            instances = session.get()
            assert [i.instance_id for i in instances] == ["all-1", "all-2", "all-3"]
            for instance in instances:
                await instance.wait_for_status("complete")
                assert (await instance.get_output())["success"] is False
            with pytest.raises(IntrospectionError, match="already has an active"):
                async with introspect_workflow(wf):
                    pass
