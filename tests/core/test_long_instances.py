"""Long instances on the real server: a run whose history passes the threshold continues as new,
invisibly. Results, caught errors, sleeps, events, sensitive outputs and rollbacks carry over;
status(), steps() and restart from a step in an earlier run keep working."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from adapter import WorkflowEntrypoint, WorkflowEvent, WorkflowStep, WorkflowStepError
from adapter._client.history import run_chain

from ..helpers import eventually

pytestmark = pytest.mark.server

RUNS: Counter[tuple[str, str]] = Counter()
SECRET = "very-secret-value-77"


class Long(WorkflowEntrypoint[None, dict]):
    """``n`` numbered steps with a caught failure, a sleep, an event wait and a sensitive step
    along the way; fails at the end when asked (then the rollback of step 1 runs)."""

    async def run(self, event: WorkflowEvent[dict], step: WorkflowStep) -> Any:
        iid, n = event.instance_id, event.payload["n"]
        total = 0
        caught = None
        secret = ""
        got: Any = None

        def work(i: int) -> Any:
            def callback() -> int:
                RUNS[(iid, f"s-{i}")] += 1
                return i

            return callback

        def undo(output: int) -> None:
            RUNS[(iid, f"undo-{output}")] += 1

        for i in range(1, n + 1):
            total += await step.do(f"s-{i}", work(i), rollback=undo if i == 1 else None)
            if i == n // 4:
                try:

                    def boom() -> None:
                        RUNS[(iid, "boom")] += 1
                        raise ValueError("no")

                    await step.do("boom", {"retries": {"limit": 0, "delay": 0}}, boom)
                except WorkflowStepError as err:
                    caught = err.name
                await step.sleep("nap", 50)
                secret = await step.do("secret", {"sensitive": "output"}, lambda: SECRET)
            if i == n // 2:
                got = (await step.wait_for_event("go", type="go", timeout="1 minute")).payload
        if event.payload.get("fail"):
            raise RuntimeError("the end fails")
        return {"total": total, "caught": caught, "secret": len(secret), "event": got}


@pytest.mark.parametrize(("durability", "n", "after"), [("durable", 60, 60), ("batched", 60, 20)])
async def test_a_long_instance_continues_as_new_invisibly(
    tempflare_worker: Any, durability: str, n: int, after: int
) -> None:
    iid = f"long-{durability}"
    async with tempflare_worker(
        Long, durability=durability, continue_as_new_after=after
    ) as binding:
        instance = await binding.create(id=iid, params={"n": n})
        await eventually(lambda: instance.status(), lambda s: s.status == "waiting")
        await instance.send_event("go", {"x": 1})
        await eventually(lambda: instance.status(), lambda s: s.status.is_final, timeout=60)
        status = await instance.status()
        steps = await instance.steps()
    expected = {"total": n * (n + 1) // 2, "caught": "ValueError", "secret": len(SECRET)}
    assert status.status == "complete", status
    assert status.output == {**expected, "event": {"x": 1}}
    chain = await run_chain(instance._client, iid)
    assert len(chain) >= (3 if durability == "durable" else 2), "it must span several runs"
    # every callback ran once, whatever the number of runs
    assert {k: v for k, v in RUNS.items() if k[0] == iid and v != 1} == {}
    assert sum(1 for k in RUNS if k[0] == iid) == n + 1
    # steps(): each step once, across the runs, in order; the secret redacted
    names = [(s.type, s.name) for s in steps]
    assert len(names) == len(set(names)) == n + 4
    assert names[0] == ("do", "s-1") and names[-1] == ("do", f"s-{n}")
    assert ("sleep", "nap") in names and ("waitForEvent", "go") in names
    secret = next(s for s in steps if s.name == "secret")
    assert secret.output_redacted and secret.output is None
    for run in chain:
        assert all(SECRET.encode() not in e.SerializeToString() for e in run.events)


async def test_restart_from_a_step_of_an_earlier_run(tempflare_worker: Any) -> None:
    iid = "long-restart"
    async with tempflare_worker(Long, continue_as_new_after=60) as binding:
        instance = await binding.create(id=iid, params={"n": 40})
        await instance.send_event("go", {"x": 2})
        await eventually(lambda: instance.status(), lambda s: s.status == "complete", timeout=60)
        assert len(await run_chain(instance._client, iid)) >= 2
        await instance.restart(from_step={"name": "s-3"})
        await eventually(lambda: instance.status(), lambda s: s.status == "complete", timeout=60)
        status = await instance.status()
    assert status.output == {
        "total": 820,
        "caught": "ValueError",
        "secret": len(SECRET),
        "event": {"x": 2},
    }
    assert RUNS[(iid, "s-1")] == RUNS[(iid, "s-2")] == 1  # before the step: kept
    assert RUNS[(iid, "s-3")] == RUNS[(iid, "s-40")] == 2  # from it on: run again


async def test_rollbacks_of_steps_from_earlier_runs(tempflare_worker: Any) -> None:
    iid = "long-rollback"
    async with tempflare_worker(Long, continue_as_new_after=60) as binding:
        instance = await binding.create(id=iid, params={"n": 40, "fail": True})
        await instance.send_event("go", {"x": 3})
        await eventually(lambda: instance.status(), lambda s: s.status == "errored", timeout=60)
        status = await instance.status()
    assert status.error is not None and status.error.message == "the end fails"
    assert len(await run_chain(instance._client, iid)) >= 2
    assert RUNS[(iid, "undo-1")] == 1
