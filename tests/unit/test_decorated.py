"""Which ``step.do(...)`` calls are Cloudflare's Python decorator form, and the checks made when
a step is declared (no server: nothing here runs a step)."""

from __future__ import annotations

from typing import Any

import pytest

from adapter import StepConfigError, WrongTypeError
from adapter._shared.types import StepContext, StepInfo
from adapter._workflow.decorated import (
    DecoratedStep,
    StepDecorator,
    context_dict,
    declared_steps,
    is_decorator_call,
    step_decorator,
)


class FakeStep:
    """Stands in for a WorkflowStep: declaring steps never touches it."""


@pytest.mark.parametrize(
    ("args", "kwargs", "decorator"),
    [
        ((), {}, True),  # @step.do()
        (("name",), {}, True),  # @step.do("name")
        ((), {"concurrent": True}, True),
        (("name",), {"config": {"retries": {"limit": 1, "delay": 0}}}, True),
        (("name",), {"depends": []}, True),
        (("name", [1, 2]), {}, True),  # legacy positional depends
        ((print,), {}, True),  # bare @step.do
        (("name", print), {}, False),  # step.do(name, callback)
        (("name", {"retries": {}}, print), {}, False),  # step.do(name, config, callback)
        (("name", None), {}, False),  # a missing callback: the native form reports it
    ],
)
def test_the_decorator_form_is_a_call_without_a_callback(
    args: tuple[Any, ...], kwargs: dict[str, Any], decorator: bool
) -> None:
    assert is_decorator_call(args, kwargs) is decorator


def test_declaring_a_step_names_it_and_registers_it_by_name() -> None:
    step: Any = FakeStep()

    async def fetch_user() -> None: ...

    default = step_decorator(step)(fetch_user)
    named = step_decorator(step, "fetch the user")(fetch_user)
    bare = step_decorator(step, fetch_user)
    assert isinstance(default, DecoratedStep) and default.step_name == "fetch_user"
    assert named.step_name == "fetch the user" and bare.step_name == "fetch_user"
    assert declared_steps(step) == {"fetch_user": bare, "fetch the user": named}
    assert isinstance(step_decorator(step, "x", [default], True, None), StepDecorator)


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"),
    [
        (("",), {}, StepConfigError, "non-empty"),
        (("x",), {"concurrent": "yes"}, WrongTypeError, "takes True or False"),
        (("x",), {"depends": "a"}, WrongTypeError, "takes a list"),
        (("x",), {"depends": [print]}, WrongTypeError, "not a function decorated"),
        (("x", [], False), {"concurrent": True}, StepConfigError, "both by position"),
        (("x", [], False, None, "extra"), {}, StepConfigError, "at most 4 positional"),
    ],
)
def test_bad_declarations_are_refused_at_once(
    args: tuple[Any, ...], kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        step_decorator(FakeStep(), *args, **kwargs)  # type: ignore[arg-type]


def test_decorating_something_that_is_not_a_function_is_refused() -> None:
    with pytest.raises(WrongTypeError, match="decorates a function"):
        step_decorator(FakeStep(), "x")("not a function")  # type: ignore[arg-type]


def test_ctx_is_cloudflares_dict() -> None:
    ctx = StepContext(2, StepInfo("charge", 3), {"timeout": "1 minute"})
    assert context_dict(ctx) == {
        "attempt": 2,
        "step": {"name": "charge", "count": 3},
        "config": {"timeout": "1 minute"},
    }
