"""The workflows the benchmarks run: each tempflare workflow with its native twin.

Every step returns its index, so a workflow of ``n`` steps returns
``{"total": n·(n-1)/2, "steps": n}``, which the benchmarks check. Native workflows are
unsandboxed, as tempflare's are, so that the comparison measures tempflare's own overhead
rather than the sandbox's.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import activity, workflow

from adapter import WorkflowEntrypoint, WorkflowEvent, WorkflowStep

STEP_TIMEOUT = timedelta(seconds=30)
SLEEP_SECONDS = 3600

#: Sleeper instances that reached their sleep in this process (first execution, not replay):
#: the memory benchmark's worker reports it to tell when every instance is asleep.
reached_sleep = 0


def _note_sleeping() -> None:
    global reached_sleep
    if not workflow.unsafe.is_replaying():
        reached_sleep += 1


# --------------------------------------------------------------------------------- tempflare


class TfSteps(WorkflowEntrypoint[None, dict[str, Any]]):
    """``steps`` trivial steps, with async callbacks (or sync lambdas when ``sync``)."""

    async def run(self, event: WorkflowEvent[dict[str, Any]], step: WorkflowStep) -> Any:
        steps, sync = int(event.payload["steps"]), bool(event.payload.get("sync"))
        total = 0
        for n in range(steps):
            if sync:
                total += await step.do(f"step {n}", lambda n=n: n)
            else:

                async def callback(n: int = n) -> int:
                    return n

                total += await step.do(f"step {n}", callback)
        return {"total": total, "steps": steps}


class TfSleeper(WorkflowEntrypoint[None, dict[str, Any]]):
    """One trivial step, then a one-hour sleep."""

    async def run(self, event: WorkflowEvent[dict[str, Any]], step: WorkflowStep) -> Any:
        async def callback() -> int:
            return 0

        await step.do("step 0", callback)
        _note_sleeping()
        await step.sleep("nap", "1 hour")
        return {"total": 0, "steps": 1}


# ------------------------------------------------------------------------------------ native


@activity.defn(name="bench_step")
async def bench_step(n: int) -> int:
    """The native step: an async activity returning its argument."""
    return n


@workflow.defn(name="NativeActivities", sandboxed=False)
class NativeActivities:
    """``steps`` regular activities (eager-dispatched to the same worker), one after another."""

    @workflow.run
    async def run(self, params: dict[str, Any]) -> dict[str, Any]:
        steps, total = int(params["steps"]), 0
        for n in range(steps):
            total += await workflow.execute_activity(
                bench_step, n, start_to_close_timeout=STEP_TIMEOUT
            )
        return {"total": total, "steps": steps}


@workflow.defn(name="NativeLocalActivities", sandboxed=False)
class NativeLocalActivities:
    """``steps`` local activities, one after another."""

    @workflow.run
    async def run(self, params: dict[str, Any]) -> dict[str, Any]:
        steps, total = int(params["steps"]), 0
        for n in range(steps):
            total += await workflow.execute_local_activity(
                bench_step, n, start_to_close_timeout=STEP_TIMEOUT
            )
        return {"total": total, "steps": steps}


@workflow.defn(name="NativeSleeper", sandboxed=False)
class NativeSleeper:
    """One activity (a local one when ``params["local"]``), then a one-hour sleep."""

    @workflow.run
    async def run(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("local"):
            await workflow.execute_local_activity(
                bench_step, 0, start_to_close_timeout=STEP_TIMEOUT
            )
        else:
            await workflow.execute_activity(bench_step, 0, start_to_close_timeout=STEP_TIMEOUT)
        _note_sleeping()
        await workflow.sleep(SLEEP_SECONDS)
        return {"total": 0, "steps": 1}


NATIVE_ACTIVITIES = [bench_step]
