"""Cloudflare's options-dict forms (``create({...})``, ``send_event({...})``, ``restart({"from":
...})``) and the replay-safe logger, on the real server."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import structlog
from structlog.testing import capture_logs
from temporalio.client import Client

from adapter import (
    InvalidValueError,
    Workflow,
    WorkflowEntrypoint,
    WorkflowEvent,
    WorkflowStep,
    WrongTypeError,
    create_worker,
    get_logger,
)

pytestmark = pytest.mark.server

log = get_logger("forms-test")
RUNS: dict[str, int] = {}


class Forms(WorkflowEntrypoint[None, dict]):
    """A step, an event wait, a last step; logs through both loggers."""

    async def run(self, event: WorkflowEvent[dict], step: WorkflowStep) -> Any:
        log.info("started", greeting=event.payload.get("greeting"))
        structlog.get_logger("plain").info("plain started")  # not replay-safe, for contrast

        def first() -> str:
            RUNS[event.instance_id] = RUNS.get(event.instance_id, 0) + 1
            log.info("in first step")
            return "first"

        done = await step.do("first", first)
        got = await step.wait_for_event("approval", type="approve", timeout="1 minute")
        log.info("approved", by=got.payload)
        return {"done": done, "by": got.payload, "greeting": event.payload.get("greeting")}


async def test_create_and_send_event_take_cloudflare_dicts(
    tempflare_client: Client, task_queue: str
) -> None:
    async with create_worker(tempflare_client, task_queue=task_queue, workflows=[Forms]):
        binding = Workflow(tempflare_client, Forms, task_queue=task_queue)
        instance = await binding.create({"id": f"dict-{task_queue}", "params": {"greeting": "hi"}})
        assert instance.id == f"dict-{task_queue}"
        await instance.sendEvent({"type": "approve", "payload": "ops"})
        assert await instance.handle.result() == {"done": "first", "by": "ops", "greeting": "hi"}
        # neither key is required, as in Cloudflare
        anonymous = await binding.create({})
        assert len(anonymous.id) == 36
        await anonymous.send_event({"type": "approve"})
        assert (await anonymous.handle.result())["by"] is None
        # restart({"from": {...}}): only the steps from there run again
        await instance.restart({"from": {"name": "first", "count": 1, "type": "do"}})
        await instance.send_event({"type": "approve", "payload": "again"})
        assert (await instance.handle.result())["by"] in ("ops", "again")
        assert RUNS[instance.id] == 2  # "first" ran again


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        ("create_unknown", InvalidValueError, r"create options .*unknown key\(s\) \['retention'\]"),
        ("create_both", InvalidValueError, "either a dict .* not both"),
        ("event_unknown", InvalidValueError, r"send_event options .*unknown key\(s\) \['data'\]"),
        ("event_both", InvalidValueError, "either a dict .* not both"),
        ("restart_from_type", WrongTypeError, "from_step must be a dict"),
        ("restart_extra", InvalidValueError, r"restart options .*unknown key\(s\) \['to'\]"),
    ],
)
async def test_bad_options_dicts_are_named(
    tempflare_client: Client, task_queue: str, call: str, error: type[Exception], message: str
) -> None:
    binding = Workflow(tempflare_client, Forms, task_queue=task_queue)
    instance = await binding.create(id=f"bad-{call}-{task_queue}")
    calls = {
        "create_unknown": lambda: binding.create({"id": "x", "retention": "1 day"}),
        "create_both": lambda: binding.create({"id": "x"}, {"a": 1}),
        "event_unknown": lambda: instance.send_event({"type": "approve", "data": 1}),
        "event_both": lambda: instance.send_event({"type": "approve"}, "payload"),
        "restart_from_type": lambda: instance.restart({"from": "approval"}),
        "restart_extra": lambda: instance.restart({"from": {"name": "first"}, "to": 1}),
    }
    with pytest.raises(error, match=message):
        await calls[call]()
    await instance.terminate()


async def test_the_workflow_logger_is_silent_during_replay(
    tempflare_client: Client, task_queue: str
) -> None:
    """A new worker replays the run from its history: the plain logger repeats its line, the
    workflow logger does not; both bind the instance, the step line names the step attempt."""
    binding = Workflow(tempflare_client, Forms, task_queue=task_queue)
    instance_id = f"log-{task_queue}"
    with capture_logs() as logs:
        async with create_worker(tempflare_client, task_queue=task_queue, workflows=[Forms]):
            instance = await binding.create(id=instance_id, params={"greeting": "hello"})
            for _ in range(100):
                if (await instance.status()).status == "waiting":
                    break
                await asyncio.sleep(0.1)
        # a fresh worker has no cached run: it replays the history up to the wait
        async with create_worker(tempflare_client, task_queue=task_queue, workflows=[Forms]):
            await instance.send_event("approve", "ops")
            await instance.handle.result()
    mine = [entry for entry in logs if entry.get("instance_id") == instance_id]
    events = [entry["event"] for entry in mine]
    assert events.count("started") == 1
    assert events.count("in first step") == 1
    assert events.count("approved") == 1
    assert sum(1 for entry in logs if entry["event"] == "plain started") == 2  # replayed
    started = next(entry for entry in mine if entry["event"] == "started")
    assert started["workflow_name"] == "Forms" and started["greeting"] == "hello"
    step_line = next(entry for entry in mine if entry["event"] == "in first step")
    assert (step_line["step"], step_line["count"], step_line["attempt"]) == ("first", 1, 1)


def test_the_logger_outside_temporal_logs_plainly() -> None:
    with capture_logs() as logs:
        get_logger("x", service="billing").bind(region="eu").warning("hello", n=1)
    assert logs == [
        {"event": "hello", "service": "billing", "region": "eu", "n": 1, "log_level": "warning"}
    ]
