"""Unit tests for step config validation, defaults and the retry formula (no server)."""

from datetime import timedelta

import pytest

from adapter import RetryConfig, StepConfig, StepConfigError
from adapter._shared.config import resolve_step_config, retry_delay


def test_defaults_are_cloudflare_production_defaults() -> None:
    cfg = resolve_step_config("s", None)
    assert (cfg.limit, cfg.delay, cfg.backoff, cfg.timeout) == (
        5,
        timedelta(seconds=10),
        "exponential",
        timedelta(minutes=10),
    )
    assert cfg.max_attempts == 6
    assert cfg.as_dict == {
        "retries": {"limit": 5, "delay": "10 seconds", "backoff": "exponential"},
        "timeout": "10 minutes",
    }


def test_local_emulation_default_delay() -> None:
    assert resolve_step_config("s", {}, default_delay="1 second").delay == timedelta(seconds=1)


def test_retries_without_backoff_get_exponential() -> None:
    cfg = resolve_step_config("s", {"retries": {"limit": 2, "delay": 50}})
    assert cfg.backoff == "exponential"
    assert cfg.delay == timedelta(milliseconds=50)


def test_typed_config_matches_dict_config() -> None:
    typed = resolve_step_config(
        "s",
        StepConfig(
            retries=RetryConfig(limit=3, delay="2 seconds", backoff="linear"), timeout="30s"
        ),
    )
    plain = resolve_step_config(
        "s", {"retries": {"limit": 3, "delay": "2 seconds", "backoff": "linear"}, "timeout": "30s"}
    )
    assert typed == plain


def test_delay_function_is_omitted_from_ctx_config() -> None:
    cfg = resolve_step_config("s", {"retries": {"limit": 1, "delay": lambda ctx, err: 5}})
    assert cfg.delay is None and cfg.delay_fn is not None
    assert "delay" not in cfg.as_dict["retries"]


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ({"retry": {}}, "unknown key(s) ['retry']"),
        ({"retries": {"limit": 1}}, "missing ['delay']"),
        ({"retries": {"delay": 50}}, "missing ['limit']"),
        ({"retries": {"limit": 1, "delay": 5, "jitter": True}}, "unknown key(s) in retries"),
        ({"retries": {"limit": -1, "delay": 5}}, "between 0 and 10000"),
        ({"retries": {"limit": 1.5, "delay": 5}}, "whole number"),
        ({"retries": {"limit": 1, "delay": 5, "backoff": "fibonacci"}}, "'fibonacci'"),
        ({"retries": {"limit": 1, "delay": "soon"}}, "'soon'"),
        ({"timeout": 0}, "greater than 0"),
        ({"timeout": "forever"}, "'forever'"),
        ({"sensitive": "input"}, "'input'"),
        ("10 seconds", "not a dict"),
    ],
)
def test_invalid_configs_name_the_step(config: object, fragment: str) -> None:
    with pytest.raises(StepConfigError) as info:
        resolve_step_config("charge card", config)  # type: ignore[arg-type]
    assert '"charge card"' in str(info.value)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("backoff", "waits"),
    [
        ("constant", [100, 100, 100, 100]),
        ("linear", [100, 200, 300, 400]),
        ("exponential", [100, 200, 400, 800]),
    ],
)
def test_retry_delay_formula(backoff: str, waits: list[int]) -> None:
    base = timedelta(milliseconds=100)
    got = [retry_delay(backoff, base, n) for n in range(1, 5)]  # type: ignore[arg-type]
    assert got == [timedelta(milliseconds=w) for w in waits]


def test_documented_default_chain() -> None:
    chain = [
        retry_delay("exponential", timedelta(seconds=10), n).total_seconds() for n in range(1, 6)
    ]
    assert chain == [10, 20, 40, 80, 160]
