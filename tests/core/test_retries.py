"""step.do retries, backoff, delay functions, NonRetryableError and timeouts on the real server."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from typing import Any

import pytest
from temporalio.client import WorkflowFailureError

from adapter import (
    NonRetryableError,
    WorkflowEntrypoint,
    WorkflowEvent,
    WorkflowFatalError,
    WorkflowStep,
    WorkflowStepError,
    WorkflowTimeoutError,
)

from ..helpers import step_attempts, timers

pytestmark = pytest.mark.server

#: Wall-clock times of each attempt, per instance id.
ATTEMPTS: dict[str, list[float]] = defaultdict(list)


class Flaky(WorkflowEntrypoint[None, dict]):
    """Fails ``fail_times`` times, then succeeds; config comes from params."""

    async def run(self, event: WorkflowEvent[dict], step: WorkflowStep) -> Any:
        p = event.payload
        iid = event.instance_id

        def body(ctx: Any) -> dict:
            ATTEMPTS[iid].append(time.monotonic())
            if ctx.attempt <= p["fail_times"]:
                raise ConnectionError(f"attempt {ctx.attempt} failed")
            return {"attempt": ctx.attempt, "config": dict(ctx.config)}

        try:
            return await step.do("flaky call", p["config"], body)
        except WorkflowStepError as err:
            if p.get("catch"):
                return {"caught": err.name, "message": err.message, "attempts": err.attempts}
            raise


async def run_flaky(binding: Any, iid: str, **params: Any) -> Any:
    instance = await binding.create(id=iid, params=params)
    return instance, await instance.handle.result()


@pytest.mark.parametrize(
    ("backoff", "expected"),
    [("constant", [0.2, 0.2, 0.2]), ("linear", [0.2, 0.4, 0.6]), ("exponential", [0.2, 0.4, 0.8])],
)
async def test_backoff_delays_and_attempt_count(
    tempflare_worker: Any, backoff: str, expected: list[float]
) -> None:
    iid = f"flaky-{backoff}"
    config = {"retries": {"limit": 3, "delay": 200, "backoff": backoff}}
    async with tempflare_worker(Flaky) as wf:
        instance, result = await run_flaky(wf, iid, fail_times=3, config=config)
    # limit 3 -> 4 attempts, the last one succeeds
    assert result["attempt"] == 4
    assert len(ATTEMPTS[iid]) == 4
    retry_timers = await timers(instance.handle)
    assert [t.seconds for t in retry_timers] == expected
    assert all(t.summary.startswith("flaky call: retry") for t in retry_timers)
    gaps = [b - a for a, b in zip(ATTEMPTS[iid], ATTEMPTS[iid][1:], strict=False)]
    assert all(gap >= want for gap, want in zip(gaps, expected, strict=True)), gaps
    attempts = await step_attempts(instance.handle)
    assert [a.activity_id for a in attempts] == [f"flaky call#1@{n}" for n in range(1, 5)]
    assert [a.failed for a in attempts] == [True, True, True, False]


async def test_exhausted_retries_raise_in_run_and_can_be_caught(tempflare_worker: Any) -> None:
    config = {"retries": {"limit": 2, "delay": 10, "backoff": "constant"}}
    async with tempflare_worker(Flaky) as wf:
        _, result = await run_flaky(wf, "flaky-caught", fail_times=99, config=config, catch=True)
    assert result == {"caught": "ConnectionError", "message": "attempt 3 failed", "attempts": 3}
    assert len(ATTEMPTS["flaky-caught"]) == 3


async def test_exhausted_retries_uncaught_errors_the_instance(tempflare_worker: Any) -> None:
    config = {"retries": {"limit": 1, "delay": 10}}
    async with tempflare_worker(Flaky) as wf:
        instance = await wf.create(id="flaky-uncaught", params={"fail_times": 99, "config": config})
        with pytest.raises(WorkflowFailureError):
            await instance.handle.result()
        status = await instance.status()
    assert status.status == "errored"
    assert status.error is not None
    assert (status.error.name, status.error.message) == ("ConnectionError", "attempt 2 failed")
    assert len(ATTEMPTS["flaky-uncaught"]) == 2


async def test_retries_without_backoff_are_exponential(tempflare_worker: Any) -> None:
    config = {"retries": {"limit": 2, "delay": 150}}
    async with tempflare_worker(Flaky) as wf:
        instance, result = await run_flaky(wf, "flaky-no-backoff", fail_times=2, config=config)
    assert result["config"]["retries"] == {"limit": 2, "delay": 150, "backoff": "exponential"}
    assert [t.seconds for t in await timers(instance.handle)] == [0.15, 0.3]


async def test_default_config_is_5_retries_10s_exponential_10min(tempflare_worker: Any) -> None:
    async with tempflare_worker(Flaky) as wf:
        instance = await wf.create(id="flaky-defaults", params={"fail_times": 99, "config": None})

        async def first_timer() -> list[Any]:
            return await timers(instance.handle)

        from ..helpers import eventually

        found = await eventually(first_timer, bool)
        await instance.terminate()
    # the first retry waits the documented 10 s default delay
    assert found[0].seconds == 10.0
    assert found[0].summary == "flaky call: retry 1 of 5 after 10000ms"


class ConfigEcho(WorkflowEntrypoint[None, None]):
    async def run(self, event: WorkflowEvent[None], step: WorkflowStep) -> Any:
        return await step.do(
            "echo",
            lambda ctx: {
                "config": ctx.config,
                "attempt": ctx.attempt,
                "name": ctx.step.name,
                "count": ctx.step.count,
            },
        )


async def test_step_context_shows_resolved_defaults(tempflare_worker: Any) -> None:
    async with tempflare_worker(ConfigEcho) as wf:
        result = await (await wf.create()).handle.result()
    assert result == {
        "config": {
            "retries": {"limit": 5, "delay": "10 seconds", "backoff": "exponential"},
            "timeout": "10 minutes",
        },
        "attempt": 1,
        "name": "echo",
        "count": 1,
    }


class DelayFn(WorkflowEntrypoint[None, dict]):
    async def run(self, event: WorkflowEvent[dict], step: WorkflowStep) -> Any:
        iid = event.instance_id
        seen: list[Any] = []

        def delay(ctx: Any, error: Exception) -> Any:
            seen.append([ctx.attempt, type(error).__name__, str(error)])
            if event.payload.get("explode"):
                raise RuntimeError("no delay for you")
            return ["100ms", 300, "0.5 seconds"][ctx.attempt - 1]

        def body() -> str:
            ATTEMPTS[iid].append(time.monotonic())
            if len(ATTEMPTS[iid]) <= 3:
                raise ValueError("not yet")
            return "ok"

        try:
            value = await step.do("with delay fn", {"retries": {"limit": 5, "delay": delay}}, body)
        except WorkflowFatalError as err:
            return {"fatal": err.message, "seen": seen}
        return {"value": value, "seen": seen}


async def test_delay_function_result_is_the_literal_wait(tempflare_worker: Any) -> None:
    async with tempflare_worker(DelayFn) as wf:
        instance = await wf.create(id="delay-fn", params={})
        result = await instance.handle.result()
    assert result["value"] == "ok"
    # ctx.attempt is the attempt that just failed; the error is the step's error
    assert result["seen"] == [[n, "WorkflowStepError", "not yet"] for n in (1, 2, 3)]
    assert [t.seconds for t in await timers(instance.handle)] == [0.1, 0.3, 0.5]


async def test_delay_function_that_raises_fails_the_step_without_retries(
    tempflare_worker: Any,
) -> None:
    async with tempflare_worker(DelayFn) as wf:
        result = await (
            await wf.create(id="delay-fn-raises", params={"explode": True})
        ).handle.result()
    assert result["fatal"] == (
        'The delay function for step "with delay fn-1" threw an error: no delay for you'
    )
    assert len(ATTEMPTS["delay-fn-raises"]) == 1


class NonRetry(WorkflowEntrypoint[None, dict]):
    async def run(self, event: WorkflowEvent[dict], step: WorkflowStep) -> Any:
        iid = event.instance_id

        def body() -> None:
            ATTEMPTS[iid].append(time.monotonic())
            raise NonRetryableError("card declined", *event.payload.get("name", []))

        if event.payload.get("catch"):
            try:
                await step.do("charge", {"retries": {"limit": 5, "delay": 10}}, body)
            except NonRetryableError as err:
                return {"name": err.name, "message": err.message}
        await step.do("charge", {"retries": {"limit": 5, "delay": 10}}, body)
        return {}


async def test_non_retryable_error_runs_once_and_can_be_caught(tempflare_worker: Any) -> None:
    async with tempflare_worker(NonRetry) as wf:
        result = await (await wf.create(id="nre-caught", params={"catch": True})).handle.result()
    assert result == {"name": "NonRetryableError", "message": "card declined"}
    assert len(ATTEMPTS["nre-caught"]) == 1


@pytest.mark.parametrize(
    ("iid", "args", "name"),
    [
        ("nre-uncaught", [], "NonRetryableError"),
        ("nre-named", ["PaymentDeclined"], "PaymentDeclined"),
    ],
)
async def test_uncaught_non_retryable_error_errors_with_its_name(
    tempflare_worker: Any, iid: str, args: list[str], name: str
) -> None:
    async with tempflare_worker(NonRetry) as wf:
        instance = await wf.create(id=iid, params={"name": args})
        with pytest.raises(WorkflowFailureError):
            await instance.handle.result()
        status = await instance.status()
    assert status.status == "errored"
    assert status.error is not None
    assert (status.error.name, status.error.message) == (name, "card declined")
    assert len(ATTEMPTS[iid]) == 1


class Slow(WorkflowEntrypoint[None, dict]):
    async def run(self, event: WorkflowEvent[dict], step: WorkflowStep) -> Any:
        iid = event.instance_id

        async def body(ctx: Any) -> str:
            ATTEMPTS[iid].append(time.monotonic())
            if ctx.attempt <= event.payload["slow_attempts"]:
                await asyncio.sleep(3)
            return f"done on attempt {ctx.attempt}"

        config = {
            "retries": {"limit": event.payload["limit"], "delay": 50, "backoff": "constant"},
            "timeout": "400ms",
        }
        try:
            return {"value": await step.do("slow", config, body)}
        except WorkflowTimeoutError as err:
            return {"timeout": err.message, "name": err.name}


async def test_timeout_is_per_attempt_and_retried(tempflare_worker: Any) -> None:
    async with tempflare_worker(Slow) as wf:
        result = await (
            await wf.create(id="slow-retried", params={"slow_attempts": 2, "limit": 3})
        ).handle.result()
    assert result == {"value": "done on attempt 3"}
    assert len(ATTEMPTS["slow-retried"]) == 3


async def test_timeout_on_last_attempt_raises_workflow_timeout_error(tempflare_worker: Any) -> None:
    async with tempflare_worker(Slow) as wf:
        result = await (
            await wf.create(id="slow-exhausted", params={"slow_attempts": 9, "limit": 1})
        ).handle.result()
    assert result == {"timeout": "Execution timed out after 400ms", "name": "WorkflowTimeoutError"}
    assert len(ATTEMPTS["slow-exhausted"]) == 2
