"""``@step.do(...)`` on the native WorkflowStep: Cloudflare's Python SDK decorator form.

Dependencies by parameter name (memoised: run once, awaited if running, reused if done), ``ctx``
as a dict, ``concurrent=True``, the legacy ``depends=[...]``, bad parameters, and a worker
restart in the middle of a run, all on the real dev server.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from typing import Any

import pytest
from pydantic import BaseModel
from temporalio.client import Client

from adapter import (
    StepConfigError,
    Workflow,
    WorkflowEntrypoint,
    WorkflowEvent,
    WorkflowStep,
    WorkflowStepError,
    WrongTypeError,
    create_worker,
)

from ..helpers import eventually, step_attempts

pytestmark = pytest.mark.server

#: Every callback run, per instance: what ran, in order (the external ledger).
RUNS: dict[str, list[str]] = defaultdict(list)
#: (start, end) of each callback run, per instance, from time.monotonic().
SPANS: dict[str, dict[str, tuple[float, float]]] = defaultdict(dict)


class Total(BaseModel):
    value: int


class Diamond(WorkflowEntrypoint[None, dict[str, Any]]):
    """fetch_user feeds two steps, and both feed report: fetch_user must run once."""

    async def run(self, event: WorkflowEvent[dict[str, Any]], step: WorkflowStep) -> Any:
        iid = event.instance_id

        @step.do()
        async def fetch_user() -> dict[str, Any]:
            RUNS[iid].append("fetch_user")
            await asyncio.sleep(0.2)
            return {"id": event.payload["userId"]}

        @step.do("charge card", config={"retries": {"limit": 2, "delay": "1 second"}})
        def charge(fetch_user: dict[str, Any], ctx: dict[str, Any]) -> dict[str, Any]:
            RUNS[iid].append("charge")
            return {"user": fetch_user["id"], "ctx": ctx}

        @step.do()
        async def email(fetch_user: dict[str, Any]) -> str:
            RUNS[iid].append("email")
            return f"mail to {fetch_user['id']}"

        @step.do(concurrent=True)
        async def report(ctx: dict[str, Any], email: str, fetch_user: Any) -> Total:
            RUNS[iid].append("report")
            return Total(value=len(email) + ctx["attempt"])

        # Both dependants of fetch_user start together: the second awaits the first's run.
        both = await asyncio.gather(charge(), email())
        total = await report()
        again = await report()  # memoised: no second step
        return {
            "charge": both[0],
            "email": both[1],
            "total_is_model": isinstance(total, Total),
            "total": total.value,
            "again": again.value,
            "name": report.step_name,
        }


async def test_a_shared_dependency_runs_once_and_ctx_is_a_dict(tempflare_worker: Any) -> None:
    async with tempflare_worker(Diamond) as wf:
        instance = await wf.create(params={"userId": "u7"})
        result = await instance.handle.result()
    assert RUNS[instance.id].count("fetch_user") == 1
    assert sorted(RUNS[instance.id]) == ["charge", "email", "fetch_user", "report"]
    assert result["charge"] == {
        "user": "u7",
        "ctx": {
            "attempt": 1,
            "step": {"name": "charge card", "count": 1},
            "config": {
                "retries": {"limit": 2, "delay": "1 second", "backoff": "exponential"},
                "timeout": "10 minutes",
            },
        },
    }
    assert result["email"] == "mail to u7"
    assert result["total_is_model"] is True and result["total"] == len("mail to u7") + 1
    assert result["again"] == result["total"] and result["name"] == "report"
    summaries = [a.summary for a in await step_attempts(instance.handle)]
    assert sorted(summaries) == ["charge card", "email", "fetch_user", "report"]


class Overlap(WorkflowEntrypoint[None, bool]):
    """Two slow dependencies, resolved together (``concurrent=True``) or one after the other."""

    async def run(self, event: WorkflowEvent[bool], step: WorkflowStep) -> Any:
        iid = event.instance_id

        async def slow(name: str) -> str:
            start = time.monotonic()
            await asyncio.sleep(1)
            SPANS[iid][name] = (start, time.monotonic())
            return name

        @step.do()
        async def left() -> str:
            return await slow("left")

        @step.do()
        async def right() -> str:
            return await slow("right")

        @step.do(concurrent=event.payload)
        async def joined(left: str, right: str) -> str:
            return f"{left}+{right}"

        return await joined()


@pytest.mark.parametrize("concurrent", [True, False])
async def test_concurrent_overlaps_dependencies_and_sequential_does_not(
    tempflare_worker: Any, concurrent: bool
) -> None:
    async with tempflare_worker(Overlap) as wf:
        instance = await wf.create(params=concurrent)
        assert await instance.handle.result() == "left+right"
    (l_start, l_end), (r_start, r_end) = SPANS[instance.id]["left"], SPANS[instance.id]["right"]
    if concurrent:
        # Each started before the other ended: they ran side by side.
        assert r_start < l_end and l_start < r_end, SPANS[instance.id]
        assert max(l_end, r_end) - min(l_start, r_start) < 1.9
    else:
        assert r_start >= l_end, SPANS[instance.id]


class BadParameters(WorkflowEntrypoint[None, bool]):
    """Bad declarations, caught in run(); with ``True`` params, one left uncaught."""

    async def run(self, event: WorkflowEvent[bool], step: WorkflowStep) -> Any:
        errors: dict[str, Any] = {}

        @step.do()
        async def known() -> int:
            return 1

        @step.do()
        async def typo(knwon: int) -> int:
            return knwon

        try:
            await typo()
        except TypeError as err:  # Cloudflare's docs catch TypeError; WrongTypeError is one
            errors["unknown"] = [type(err).__name__, str(err)]

        @step.do()
        async def loop_a(loop_b: int) -> int:
            return loop_b

        @step.do()
        async def loop_b(loop_a: int) -> int:
            return loop_a

        try:
            await loop_a()
        except WrongTypeError as err:
            errors["cycle"] = str(err)

        @step.do("legacy", depends=[known])
        async def legacy(a: int, b: int) -> int:
            return a + b

        try:
            await legacy()
        except WrongTypeError as err:
            errors["count"] = str(err)
        try:
            await step.do("no callback")
        except StepConfigError as err:
            errors["awaited decorator"] = str(err)
        try:
            step.do("x", depends=[lambda: 1])
        except WrongTypeError as err:
            errors["depends"] = str(err)
        errors["ran"] = await known()
        if event.payload:

            @step.do()
            async def uncaught(nope: int) -> int:
                return nope

            await uncaught()
        return errors


async def test_an_unknown_parameter_is_a_type_error_naming_it(tempflare_worker: Any) -> None:
    async with tempflare_worker(BadParameters) as wf:
        caught = await (await wf.create(params=False)).handle.result()
        instance = await wf.create(params=True)
        status = await eventually(instance.status, lambda s: s.status.is_final)
    name, message = caught["unknown"]
    assert name == "WrongTypeError"
    assert "unexpected parameter 'knwon'" in message and "declared: ['known']" in message
    assert "loop_a -> loop_b -> loop_a" in caught["cycle"]
    assert "declares 2 parameter(s) besides ctx" in caught["count"]
    assert "is a decorator, not a step" in caught["awaited decorator"]
    assert "not a function decorated with step.do" in caught["depends"]
    assert caught["ran"] == 1
    # Uncaught, it ends the instance with the error's name and message.
    assert status.status == "errored"
    assert status.error is not None and status.error.name == "WrongTypeError"
    assert "unexpected parameter 'nope'" in status.error.message


class Legacy(WorkflowEntrypoint[None, None]):
    """The SDK's legacy form: ``depends=[...]``, by keyword and by position, ctx anywhere."""

    async def run(self, event: WorkflowEvent[None], step: WorkflowStep) -> Any:
        @step.do("dependency a")
        async def step_a() -> int:
            return 10

        @step.do("dependency b")
        def step_b() -> int:
            return 20

        @step.do("my final step", depends=[step_a, step_b], concurrent=True)
        async def my_final_step(result_a: int = 0, ctx: Any = None, result_b: int = 0) -> Any:
            return [result_a + result_b, ctx["step"]["name"]]

        @step.do("positional", [my_final_step, step_a], False)
        def positional(final: Any, a: int) -> Any:
            return [final, a]

        @step.do
        async def bare() -> str:
            return "bare"

        @step.do()
        def keyword_only(*, bare: str, ctx: Any) -> Any:  # passed by name
            return [bare, ctx["step"]["name"]]

        return [await positional(), await bare(), bare.step_name, await keyword_only()]


async def test_the_legacy_depends_form(tempflare_worker: Any) -> None:
    async with tempflare_worker(Legacy) as wf:
        result = await (await wf.create()).handle.result()
    assert result == [[[30, "my final step"], 10], "bare", "bare", ["bare", "keyword_only"]]


class Retried(WorkflowEntrypoint[None, None]):
    """A failed step is not memoised: awaiting it again runs it again, as a new step."""

    async def run(self, event: WorkflowEvent[None], step: WorkflowStep) -> Any:
        iid = event.instance_id

        @step.do(config={"retries": {"limit": 0, "delay": 0}})
        def flaky() -> str:
            RUNS[iid].append("flaky")
            if len(RUNS[iid]) == 1:
                raise RuntimeError("first time")
            return "second time"

        try:
            await flaky()
        except RuntimeError as err:
            first = [type(err).__name__, str(err), isinstance(err, WorkflowStepError)]
        return [first, await flaky(), await flaky()]


async def test_a_failed_step_runs_again_when_awaited_again(tempflare_worker: Any) -> None:
    async with tempflare_worker(Retried) as wf:
        instance = await wf.create()
        result = await instance.handle.result()
    # A built-in exception comes back as itself (and as a WorkflowStepError), as in Cloudflare.
    assert result == [["RuntimeError", "first time", True], "second time", "second time"]
    assert RUNS[instance.id] == ["flaky", "flaky"]
    ids = [a.activity_id for a in await step_attempts(instance.handle)]
    assert ids == ["flaky#1@1", "flaky#2@1"]


class Interrupted(WorkflowEntrypoint[None, None]):
    """Decorated steps, an event wait, then a step that needs the earlier ones."""

    async def run(self, event: WorkflowEvent[None], step: WorkflowStep) -> Any:
        iid = event.instance_id

        @step.do()
        async def first() -> int:
            RUNS[iid].append("first")
            return 1

        @step.do()
        def second(first: int) -> int:
            RUNS[iid].append("second")
            return first + 1

        @step.do(concurrent=True)
        async def last(first: int, second: int, ctx: Any) -> Any:
            RUNS[iid].append("last")
            return [first, second, ctx["attempt"]]

        await second()
        go = await step.wait_for_event("go", type="go", timeout="1 minute")
        return {"last": await last(), "event": go.payload}


async def test_completed_decorated_steps_never_rerun_across_a_worker_restart(
    tempflare_client: Client, task_queue: str
) -> None:
    def worker() -> Any:
        # No sticky cache: the second worker must rebuild the run from history.
        return create_worker(
            tempflare_client,
            task_queue=task_queue,
            workflows=[Interrupted],
            max_cached_workflows=0,
        )

    binding = Workflow(tempflare_client, Interrupted, task_queue=task_queue)
    async with worker():
        instance = await binding.create(id=f"decorated-restart-{task_queue}")
        await eventually(instance.status, lambda s: s.status == "waiting")
    assert RUNS[instance.id] == ["first", "second"]
    await instance.send_event("go", {"ok": True})
    async with worker():
        result = await instance.handle.result()
    assert result == {"last": [1, 2, 1], "event": {"ok": True}}
    assert RUNS[instance.id] == ["first", "second", "last"]
