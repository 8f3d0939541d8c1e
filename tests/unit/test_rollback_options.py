"""Parsing of step.do's rollback options: Cloudflare's trailing options dict, the keywords, and the
typed errors for a bad handler or config."""

from __future__ import annotations

import pytest

from adapter import RetryConfig, StepConfig, StepConfigError
from adapter._workflow.rollback import CompletedStep, rollback_callback, split_rollback_options


def handler(output: object) -> object:
    return output


def cb() -> int:
    return 1


def test_trailing_options_dict_is_taken_off() -> None:
    args, fn, cfg = split_rollback_options(
        "s",
        ({"timeout": 5}, cb, {"rollback": handler, "rollbackConfig": {"timeout": 9}}),
        None,
        None,
        None,
    )
    assert args == ({"timeout": 5}, cb) and fn is handler and cfg == {"timeout": 9}


def test_keywords_and_typed_config() -> None:
    args, fn, cfg = split_rollback_options(
        "s", (cb,), handler, None, StepConfig(retries=RetryConfig(limit=1, delay=5))
    )
    assert args == (cb,) and fn is handler
    assert cfg == {"retries": {"limit": 1, "delay": 5, "backoff": "exponential"}}


@pytest.mark.parametrize(
    ("args", "rollback", "config", "message"),
    [
        ((cb, {"rollbak": handler}), None, None, "unknown rollback option"),
        ((cb,), "not callable", None, "must be a function"),
        ((cb,), None, {"timeout": 1}, "no rollback handler"),
        ((cb,), handler, {"sensitive": "output"}, "retries and timeout only"),
        ((cb, {"rollback": handler}), handler, None, "two rollback handlers"),
    ],
)
def test_bad_rollback_options_name_the_step(
    args: tuple[object, ...], rollback: object, config: object, message: str
) -> None:
    with pytest.raises(StepConfigError, match=message) as err:
        split_rollback_options("pay", args, rollback, config, None)  # type: ignore[arg-type]
    assert '"pay"' in str(err.value)


def test_handler_gets_only_the_arguments_it_names() -> None:
    done = CompletedStep(1, "s", 1, "out", lambda error, **rest: (error, rest), None)
    assert rollback_callback(done, ValueError("x"))("CTX")[1] == {"ctx": "CTX", "output": "out"}
    only = CompletedStep(1, "s", 1, "out", handler, None)
    assert rollback_callback(only, ValueError("x"))("CTX") == "out"
