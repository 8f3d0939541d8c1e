"""Bad input through the public API, as a new user would hand it in.

Every case asserts the error's type (a ``TempflareError`` that keeps the standard ``ValueError``
or ``TypeError`` base where it fits) and that the message quotes the bad value or its size.
Cases inside ``run()`` assert that the instance ends ``errored`` within seconds with that error's
name and message and no workflow task left failing; the last case asserts that the same worker,
which saw all of them, still completes a healthy workflow.
"""

from __future__ import annotations

import asyncio
import functools
import math
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import pydantic
import pytest
import pytest_asyncio
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from adapter import (
    InstanceStatus,
    InvalidDurationError,
    InvalidEventTypeError,
    InvalidInstanceIdError,
    InvalidParamsError,
    InvalidValueError,
    StepConfigError,
    TempflareError,
    Workflow,
    WorkflowEntrypoint,
    WorkflowEvent,
    WorkflowStep,
    WrongTypeError,
    create_worker,
    parse_duration,
)
from adapter._shared.config import resolve_step_config
from adapter._shared.validation import validate_step_name

from ..helpers import eventually

pytestmark = pytest.mark.server

NO_RETRY = {"retries": {"limit": 0, "delay": 0}}
BIG = "x" * (2 * 1024 * 1024)


class Order(pydantic.BaseModel):
    amount: int


class Typed(WorkflowEntrypoint[None, Order]):
    async def run(self, event: WorkflowEvent[Order], step: WorkflowStep) -> int:
        return event.payload.amount


class Custom(BaseException):
    """A user's own BaseException subclass."""


class UserNotFound(Exception):
    """A user error whose ``name`` attribute holds data, not its name."""

    def __init__(self, name: str) -> None:
        super().__init__(f"user {name} not found")
        self.name = name


def raising(error: BaseException) -> Callable[[], Any]:
    def body() -> Any:
        raise error

    return body


def returning(value: Any) -> Callable[[], Any]:
    return lambda: value


async def async_raising(error: BaseException) -> Any:
    raise error


# --------------------------------------------------------------------------- inside run()

Action = Callable[[WorkflowStep], Awaitable[Any]]

#: case -> (what run() does, error name the instance ends with, text its message must hold)
IN_WORKFLOW: dict[str, tuple[Action, str, str]] = {
    "sleep 10**20 ms": (
        lambda s: s.sleep("nap", 10**20),
        "InvalidDurationError",
        "100000000000000000000",
    ),
    "sleep a trillion years": (
        lambda s: s.sleep("nap", "1000000000000 years"),
        "InvalidDurationError",
        "1000000000000 years",
    ),
    "sleep 400 days": (lambda s: s.sleep("nap", "400 days"), "InvalidDurationError", "400 days"),
    "sleep negative": (lambda s: s.sleep("nap", -5), "InvalidDurationError", "-5"),
    "sleep nonsense": (lambda s: s.sleep("nap", "soon"), "InvalidDurationError", "'soon'"),
    "sleep bool": (lambda s: s.sleep("nap", True), "InvalidDurationError", "True"),
    "sleep nan": (lambda s: s.sleep("nap", math.nan), "InvalidDurationError", "nan"),
    "sleep unnamed": (lambda s: s.sleep("", 10), "StepConfigError", "''"),
    "sleep_until 10**20": (
        lambda s: s.sleep_until("t", 10**20),
        "InvalidDurationError",
        "100000000000000000000",
    ),
    "sleep_until naive": (
        lambda s: s.sleep_until("t", datetime(2030, 1, 1)),
        "InvalidDurationError",
        "datetime.datetime(2030, 1, 1, 0, 0)",
    ),
    "sleep_until words": (
        lambda s: s.sleep_until("t", "tomorrow"),  # type: ignore[arg-type]
        "InvalidDurationError",
        "'tomorrow'",
    ),
    "event type newline": (
        lambda s: s.wait_for_event("w", type="approval\n"),
        "InvalidEventTypeError",
        "'approval\\n'",
    ),
    "event type dot": (
        lambda s: s.wait_for_event("w", type="tempflare.pause"),
        "InvalidEventTypeError",
        "'tempflare.pause'",
    ),
    "event type missing": (
        lambda s: s.wait_for_event("w"),
        "InvalidEventTypeError",
        "None",
    ),
    "event timeout 400 days": (
        lambda s: s.wait_for_event("w", type="go", timeout="400 days"),
        "InvalidDurationError",
        "400 days",
    ),
    "event options typo": (
        lambda s: s.wait_for_event("w", {"typ": "go"}),
        "StepConfigError",
        "['typ']",
    ),
    "event options wrong kind": (
        lambda s: s.wait_for_event("w", 5),  # type: ignore[arg-type]
        "StepConfigError",
        "5",
    ),
    "event two types": (
        lambda s: s.wait_for_event("w", "go", type="stop"),
        "StepConfigError",
        "'stop'",
    ),
    "step name too long": (
        lambda s: s.do("x" * 257, lambda: 1),
        "StepConfigError",
        "got 257",
    ),
    "step name newline": (lambda s: s.do("a\nb", lambda: 1), "StepConfigError", "'a\\nb'"),
    "step without callback": (
        lambda s: s.do("s", "not a function"),  # type: ignore[call-overload]
        "StepConfigError",
        "'not a function'",
    ),
    "step config not a dict": (
        lambda s: s.do("s", "fast", lambda: 1),  # type: ignore[call-overload]
        "StepConfigError",
        "'fast'",
    ),
    "step retries not a dict": (
        lambda s: s.do("s", {"retries": 5}, lambda: 1),
        "StepConfigError",
        "5",
    ),
    "step too many arguments": (
        lambda s: s.do("s", {}, lambda: 1, lambda: 2),  # type: ignore[call-overload]
        "StepConfigError",
        "got 3 arguments",
    ),
    "step result set": (
        lambda s: s.do("s", NO_RETRY, returning({"ids": {1, 2}})),
        "WorkflowFatalError",
        "set at result['ids']",
    ),
    "step result datetime, unannotated": (
        lambda s: s.do("s", NO_RETRY, returning(datetime(2030, 1, 1))),
        "WorkflowFatalError",
        "datetime",
    ),
    "step result tuple": (
        lambda s: s.do("s", NO_RETRY, returning((1, 2))),
        "WorkflowFatalError",
        "tuple",
    ),
    "step result int keys": (
        lambda s: s.do("s", NO_RETRY, returning({1: "a"})),
        "WorkflowFatalError",
        "[1]",
    ),
    "step result nan": (
        lambda s: s.do("s", NO_RETRY, returning(math.nan)),
        "WorkflowFatalError",
        "nan",
    ),
    "step result model, unannotated": (
        lambda s: s.do("s", NO_RETRY, returning(Order(amount=1))),
        "WorkflowFatalError",
        "Order",
    ),
    "step result object": (
        lambda s: s.do("s", NO_RETRY, returning(object())),
        "WorkflowFatalError",
        "object",
    ),
    "step result 2 MiB": (
        lambda s: s.do("s", NO_RETRY, returning(BIG)),
        "WorkflowFatalError",
        "2097154 bytes",
    ),
    "output object": (lambda s: asyncio.sleep(0, object()), "WorkflowFatalError", "object"),
    "output 3 MiB": (
        lambda s: asyncio.sleep(0, "x" * (3 * 1024 * 1024)),
        "WorkflowFatalError",
        "3145730 bytes",
    ),
    "KeyboardInterrupt in run()": (
        lambda s: async_raising(KeyboardInterrupt("stop")),
        "KeyboardInterrupt",
        "stop",
    ),
    "SystemExit in run()": (lambda s: async_raising(SystemExit("bye")), "SystemExit", "bye"),
    "custom BaseException in run()": (
        lambda s: async_raising(Custom("mine")),
        "Custom",
        "mine",
    ),
    "KeyboardInterrupt in a sync step": (
        lambda s: s.do("s", NO_RETRY, raising(KeyboardInterrupt("sync stop"))),
        "KeyboardInterrupt",
        "sync stop",
    ),
    "KeyboardInterrupt in an async step": (
        lambda s: s.do(
            "s", NO_RETRY, functools.partial(async_raising, KeyboardInterrupt("async stop"))
        ),
        "KeyboardInterrupt",
        "async stop",
    ),
    "SystemExit in a step": (
        lambda s: s.do("s", NO_RETRY, raising(SystemExit("step bye"))),
        "SystemExit",
        "step bye",
    ),
    "custom BaseException in a step": (
        lambda s: s.do("s", NO_RETRY, raising(Custom("step mine"))),
        "Custom",
        "step mine",
    ),
    "error name from its class": (
        lambda s: s.do("s", NO_RETRY, raising(UserNotFound("alice"))),
        "UserNotFound",
        "user alice not found",
    ),
}


class BadInputs(WorkflowEntrypoint[None, dict]):
    """Runs one case of :data:`IN_WORKFLOW`."""

    async def run(self, event: WorkflowEvent[dict], step: WorkflowStep) -> Any:
        if event.payload["case"] == "healthy":
            await step.sleep("nap", "10ms")
            return await step.do("fine", lambda: "fine")
        return await IN_WORKFLOW[event.payload["case"]][0](step)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def bad_runs(tempflare_env: WorkflowEnvironment) -> AsyncIterator[dict[str, Any]]:
    """One worker for every in-workflow case, each started as its own instance."""
    client = tempflare_env.client
    queue = f"bad-{uuid.uuid4().hex[:8]}"
    worker = create_worker(client, task_queue=queue, workflows=[BadInputs])
    async with worker:
        binding = Workflow(client, BadInputs, task_queue=queue)
        instances = {
            case: await binding.create(id=f"bad-{n}-{queue}", params={"case": case})
            for n, case in enumerate(IN_WORKFLOW)
        }
        yield {"binding": binding, "instances": instances, "worker": worker}


@pytest.mark.parametrize("case", list(IN_WORKFLOW))
async def test_bad_input_inside_run_ends_the_instance_errored(
    bad_runs: dict[str, Any], case: str
) -> None:
    _, name, quoted = IN_WORKFLOW[case]
    instance = bad_runs["instances"][case]
    deadline = time.monotonic() + 20
    while (status := await instance.status()).status != InstanceStatus.ERRORED:
        assert status.status in ("queued", "running"), status
        assert time.monotonic() < deadline, f"{case}: still {status.status}"
        await asyncio.sleep(0.05)
    assert status.error is not None
    assert status.error.name == name, status.error
    assert quoted in status.error.message, status.error.message
    history = await instance.handle.fetch_history()
    failed_tasks = [
        e for e in history.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
    ]
    assert not failed_tasks, failed_tasks


async def test_the_worker_that_saw_every_bad_case_still_runs_a_healthy_workflow(
    bad_runs: dict[str, Any],
) -> None:
    for instance in bad_runs["instances"].values():  # every bad case has ended
        await eventually(instance.status, lambda s: s.status.is_final, timeout=20)
    assert bad_runs["worker"].is_running
    healthy = await bad_runs["binding"].create(params={"case": "healthy"})
    assert await asyncio.wait_for(healthy.handle.result(), 20) == "fine"


# ------------------------------------------------------------------------------ client side

ClientCall = Callable[[Workflow[Any], Any], Awaitable[Any]]

#: case -> (call, error type, text its message must hold)
CLIENT_CASES: dict[str, tuple[ClientCall, type[Exception], str]] = {}


def client_case(case: str, call: ClientCall, error: type[Exception], quoted: str) -> None:
    CLIENT_CASES[case] = (call, error, quoted)


for bad_id, shown in [
    ("", "''"),
    ("-leading-hyphen", "'-leading-hyphen'"),
    ("has space", "'has space'"),
    ("x" * 101, "'xxxxxxxx"),
    ("order-1\n", "'order-1\\n'"),
    ("\norder", "'\\norder'"),
    ("dot.ted", "'dot.ted'"),
    ("slash/ed", "'slash/ed'"),
    ("é", "'é'"),
    ("tab\there", "'tab\\there'"),
    (123, "123"),
    (b"bytes", "b'bytes'"),
    (["list"], "['list']"),
]:
    client_case(
        f"create id {shown[:20]}",
        lambda b, i, bad_id=bad_id: b.create(id=bad_id),
        InvalidInstanceIdError,
        shown,
    )

for bad_type, shown in [
    ("", "''"),
    ("approval\n", "'approval\\n'"),
    ("-x", "'-x'"),
    ("a.b", "'a.b'"),
    ("x" * 101, "'xxxxxxxx"),
    ("has space", "'has space'"),
    (5, "5"),
    (None, "None"),
    ("ünïcode", "'ünïcode'"),
]:
    client_case(
        f"send_event type {shown[:20]}",
        lambda b, i, bad_type=bad_type: i.send_event(bad_type, {}),
        InvalidEventTypeError,
        shown,
    )

client_case(
    "send_event payload 2 MiB",
    lambda b, i: i.send_event("go", BIG),
    InvalidParamsError,
    "2097154 bytes",
)
client_case(
    "send_event payload object",
    lambda b, i: i.send_event("go", object()),
    InvalidParamsError,
    "object",
)
client_case(
    "create params 2 MiB",
    lambda b, i: b.create(params={"blob": BIG}),
    InvalidParamsError,
    "2097163 bytes",
)
client_case(
    "create params object", lambda b, i: b.create(params=object()), InvalidParamsError, "object"
)
client_case(
    "create params not matching the model",
    lambda b, i: Workflow(b.client, Typed, task_queue=b.task_queue).create(params={"amount": "x"}),
    InvalidParamsError,
    "amount",
)
client_case(
    "create params of the wrong kind for the model",
    lambda b, i: Workflow(b.client, Typed, task_queue=b.task_queue).create(params=[1, 2]),
    InvalidParamsError,
    "Order",
)

for items, error, shown in [
    ([123], WrongTypeError, "123"),
    (["id-1"], WrongTypeError, "'id-1'"),
    ([None], WrongTypeError, "None"),
    ({"id": "x", "params": {}}, InvalidValueError, "{'id': 'x', 'params': {}} looks like one"),
    ("abc", WrongTypeError, "'abc'"),
    (None, WrongTypeError, "None"),
    (5, WrongTypeError, "5"),
    ([], InvalidValueError, "got 0"),
    ([{}] * 101, InvalidValueError, "got 101"),
    ([{"idd": "x"}], InvalidValueError, "['idd']"),
    ([{"id": "bad id"}], InvalidInstanceIdError, "'bad id'"),
    ([{"params": {"blob": BIG}}], InvalidParamsError, "2097163 bytes"),
]:
    client_case(
        f"create_batch {str(items)[:30]}",
        lambda b, i, items=items: b.create_batch(items),
        error,
        shown,
    )

for from_step, error, shown in [
    ("first", WrongTypeError, "'first'"),
    (5, WrongTypeError, "5"),
    (["first"], WrongTypeError, "['first']"),
    ({"name": "x", "count": True}, InvalidValueError, "True"),
    ({"name": "x", "count": 0}, InvalidValueError, "'count': 0"),
    ({"name": "x", "count": "1"}, InvalidValueError, "'1'"),
    ({"name": "", "count": 1}, InvalidValueError, "''"),
    ({"name": 5}, InvalidValueError, "5"),
    ({"name": "x", "type": "sleepy"}, InvalidValueError, "'sleepy'"),
    ({"nme": "x"}, InvalidValueError, "'nme'"),
]:
    client_case(
        f"restart from_step {str(from_step)[:30]}",
        lambda b, i, from_step=from_step: i.restart(from_step=from_step),
        error,
        shown,
    )

for bad_id, shown in [("", "''"), (5, "5"), (None, "None"), ("x" * 1001, "'xxxxxxxx")]:
    client_case(
        f"get {shown[:20]}",
        lambda b, i, bad_id=bad_id: b.get(bad_id),
        InvalidInstanceIdError,
        shown,
    )


async def construct(client: Client, workflow: Any, task_queue: Any) -> Workflow[Any]:
    return Workflow(client, workflow, task_queue=task_queue)


for workflow, queue, error, shown in [
    (dict, "q", WrongTypeError, "<class 'dict'>"),
    (5, "q", WrongTypeError, "5"),
    (Typed(None), "q", WrongTypeError, "Typed object"),
    ("", "q", InvalidValueError, "''"),
    (Typed, "", InvalidValueError, "''"),
    (Typed, "   ", InvalidValueError, "'   '"),
    (Typed, "a\nb", InvalidValueError, "'a\\nb'"),
    (Typed, "x" * 1001, InvalidValueError, "'xxxxxxxx"),
    (Typed, 5, WrongTypeError, "5"),
    (Typed, None, WrongTypeError, "None"),
]:
    client_case(
        f"Workflow({str(workflow)[:20]}, task_queue={str(queue)[:10]})",
        lambda b, i, workflow=workflow, queue=queue: construct(b.client, workflow, queue),
        error,
        shown,
    )
client_case(
    "Workflow with no client",
    lambda b, i: construct("localhost:7233", Typed, "q"),  # type: ignore[arg-type]
    WrongTypeError,
    "'localhost:7233'",
)


async def worker_with(client: Client, **options: Any) -> None:
    create_worker(client, **{"task_queue": "q", "workflows": [Typed], **options})


client_case(
    "create_worker empty task queue",
    lambda b, i: worker_with(b.client, task_queue=""),
    InvalidValueError,
    "''",
)
client_case(
    "create_worker durability",
    lambda b, i: worker_with(b.client, durability="fast"),
    ValueError,
    "'fast'",
)
client_case(
    "create_worker a class that is no workflow",
    lambda b, i: worker_with(b.client, workflows=[dict]),
    TypeError,
    "dict",
)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def queued(tempflare_env: WorkflowEnvironment) -> tuple[Workflow[Any], Any]:
    """A binding, and an instance no worker runs (it stays queued)."""
    binding = Workflow(tempflare_env.client, BadInputs, task_queue=f"idle-{uuid.uuid4().hex}")
    return binding, await binding.create(params={"case": "healthy"})


@pytest.mark.parametrize("case", list(CLIENT_CASES))
async def test_bad_input_through_the_client_raises_a_typed_error_quoting_it(
    queued: tuple[Workflow[Any], Any], case: str
) -> None:
    call, error, quoted = CLIENT_CASES[case]
    binding, instance = queued
    with pytest.raises(error) as info:
        await call(binding, instance)
    assert isinstance(info.value, TempflareError), type(info.value).__mro__
    assert quoted in str(info.value), str(info.value)


# ----------------------------------------------------------------------- pure checks, no server

PURE_CASES: list[tuple[Callable[[], Any], type[Exception], str]] = [
    (lambda: parse_duration(10**20), InvalidDurationError, "100000000000000000000"),
    (lambda: parse_duration("1000000000000 years"), InvalidDurationError, "years"),
    (lambda: parse_duration(-1), InvalidDurationError, "-1"),
    (lambda: parse_duration("abc"), InvalidDurationError, "'abc'"),
    (lambda: parse_duration("5 parsecs"), InvalidDurationError, "'5 parsecs'"),
    (lambda: parse_duration("5 minutes later"), InvalidDurationError, "'5 minutes later'"),
    (lambda: parse_duration("-5s"), InvalidDurationError, "'-5s'"),
    (lambda: parse_duration(True), InvalidDurationError, "True"),
    (lambda: parse_duration(None), InvalidDurationError, "None"),  # type: ignore[arg-type]
    (lambda: parse_duration([]), InvalidDurationError, "[]"),  # type: ignore[arg-type]
    (lambda: parse_duration(math.inf), InvalidDurationError, "inf"),
    (lambda: parse_duration(timedelta(seconds=-1)), InvalidDurationError, "-1"),
    (lambda: validate_step_name(""), StepConfigError, "''"),
    (lambda: validate_step_name("x" * 257), StepConfigError, "got 257"),
    (lambda: validate_step_name("a\nb"), StepConfigError, "'a\\nb'"),
    (lambda: validate_step_name(5), StepConfigError, "5"),
    (lambda: validate_step_name(None), StepConfigError, "None"),
    (
        lambda: resolve_step_config("s", {"retries": {"limit": -1, "delay": 1}}),
        StepConfigError,
        "-1",
    ),
    (
        lambda: resolve_step_config("s", {"retries": {"limit": 1.5, "delay": 1}}),
        StepConfigError,
        "1.5",
    ),
    (
        lambda: resolve_step_config("s", {"retries": {"limit": True, "delay": 1}}),
        StepConfigError,
        "True",
    ),
    (lambda: resolve_step_config("s", {"timeout": 0}), StepConfigError, "0"),
    (lambda: resolve_step_config("s", {"timeout": "forever"}), StepConfigError, "'forever'"),
    (
        lambda: resolve_step_config("s", {"retries": {"limit": 1, "delay": 1, "backoff": "cubic"}}),
        StepConfigError,
        "'cubic'",
    ),
    (lambda: resolve_step_config("s", {"retry": {}}), StepConfigError, "['retry']"),
    (lambda: resolve_step_config("s", "fast"), StepConfigError, "'fast'"),  # type: ignore[arg-type]
    (lambda: resolve_step_config("s", {"sensitive": "input"}), StepConfigError, "'input'"),
    (lambda: resolve_step_config("s", {"durability": "x"}), StepConfigError, "'x'"),
    (
        lambda: resolve_step_config("s", {"retries": {"limit": 1}}),
        StepConfigError,
        "['delay']",
    ),
]


@pytest.mark.parametrize("n", range(len(PURE_CASES)))
def test_bad_value_is_refused_by_the_validation_layer(n: int) -> None:
    call, error, quoted = PURE_CASES[n]
    with pytest.raises(error) as info:
        call()
    assert isinstance(info.value, TempflareError) and isinstance(info.value, ValueError)
    assert quoted in str(info.value), str(info.value)
