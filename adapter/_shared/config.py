"""Step configuration: validation, Cloudflare defaults and the retry-delay formula.

Pure logic with no Temporal import. A config is given either as the TypeScript-shaped dict::

    {"retries": {"limit": 5, "delay": "10 seconds", "backoff": "exponential"},
     "timeout": "10 minutes"}

or as the typed :class:`StepConfig` / :class:`RetryConfig`. Both resolve to a
:class:`ResolvedStepConfig` with Cloudflare's production defaults merged in.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final, Literal, TypeAlias, cast

from .durations import Duration, parse_duration, to_millis
from .errors import StepConfigError

if TYPE_CHECKING:
    from .types import StepContext

Backoff: TypeAlias = Literal["constant", "linear", "exponential"]
#: When a step's result reaches the history: ``"durable"`` before the next step starts (the
#: default), ``"batched"`` with the other steps of the same workflow task (faster; a worker crash
#: runs the batch's completed steps again). See docs/step-engine.md.
Durability: TypeAlias = Literal["durable", "batched"]
#: ``delay(ctx, error)`` returns the literal wait before the next attempt.
DelayFunction: TypeAlias = "Callable[[StepContext, BaseException], Duration]"

BACKOFFS: Final = ("constant", "linear", "exponential")
DURABILITIES: Final = ("durable", "batched")
DEFAULT_DURABILITY: Final[Durability] = "durable"
MAX_RETRY_LIMIT: Final = 10_000
DOCS_URL: Final = "https://developers.cloudflare.com/workflows/build/sleeping-and-retrying/"

#: Cloudflare's documented production defaults.
DEFAULT_RETRY_LIMIT: Final = 5
DEFAULT_RETRY_DELAY: Final[Duration] = "10 seconds"
DEFAULT_BACKOFF: Final[Backoff] = "exponential"
DEFAULT_TIMEOUT: Final[Duration] = "10 minutes"


@dataclass(frozen=True)
class RetryConfig:
    """How a failed ``step.do`` is retried.

    Attributes:
        limit: Retries after the first attempt; total attempts are ``limit + 1``.
        delay: The base wait: a duration, or ``delay(ctx, error)`` returning the literal wait.
        backoff: ``constant`` (``d``), ``linear`` (``d·n``) or ``exponential`` (``d·2^(n-1)``),
            where ``n`` is the attempt that just failed.
    """

    limit: int
    delay: Duration | Callable[..., Duration]
    backoff: Backoff = DEFAULT_BACKOFF


@dataclass(frozen=True)
class StepConfig:
    """Typed equivalent of the dict config of ``step.do``.

    Attributes:
        retries: The retry policy; ``None`` keeps the defaults (5 retries, 10 s, exponential).
        timeout: The per-attempt timeout; ``None`` keeps the default of 10 minutes.
        sensitive: ``"output"`` to keep the result out of readable history: it is encrypted by
            the codec that ``connect()`` installs, and ``steps()``/``subscribe()`` redact it.
        durability: ``"batched"`` to let this step's result reach the history with the next
            ones (faster, re-run after a worker crash); ``None`` keeps the workflow's choice.
    """

    retries: RetryConfig | None = None
    timeout: Duration | None = None
    sensitive: Literal["output"] | None = None
    durability: Durability | None = None


@dataclass(frozen=True)
class ResolvedStepConfig:
    """A validated step config with the defaults merged in."""

    limit: int
    delay: timedelta | None
    delay_fn: Callable[..., Duration] | None
    backoff: Backoff
    timeout: timedelta
    sensitive: bool = False
    #: ``None`` when the config does not choose: the workflow's or worker's choice applies.
    durability: Durability | None = None
    #: The config as ``ctx.config`` shows it, in Cloudflare's JSON shape: defaults merged,
    #: ``timedelta`` durations as milliseconds, ``delay`` omitted when it is a function.
    as_dict: Mapping[str, Any] = field(default_factory=dict)

    @property
    def max_attempts(self) -> int:
        """Total attempts, ``limit + 1``."""
        return self.limit + 1


def _fail(step: str, problem: str) -> StepConfigError:
    return StepConfigError(
        f'Step config for "{step}" is invalid: {problem}. Expected '
        '{"retries": {"limit": int, "delay": duration | function, "backoff": '
        '"constant" | "linear" | "exponential"}, "timeout": duration}, optionally with '
        '"sensitive": "output" and "durability": "durable" | "batched". '
        f"See {DOCS_URL}"
    )


def resolve_step_config(
    step: str,
    config: StepConfig | Mapping[str, Any] | None,
    *,
    default_delay: Duration = DEFAULT_RETRY_DELAY,
) -> ResolvedStepConfig:
    """Validates a step config and merges Cloudflare's defaults into it.

    Args:
        step: The step name, quoted in errors.
        config: A dict in the TypeScript shape, a :class:`StepConfig`, or ``None``.
        default_delay: The retry delay used when the config gives no ``retries``.

    Returns:
        The resolved config.

    Raises:
        StepConfigError: Unknown keys, ``retries`` without both ``limit`` and ``delay``, or a
            value of the wrong type or range. The message names the step.
    """
    if config is None:
        raw: dict[str, Any] = {}
    elif isinstance(config, StepConfig):
        raw = {}
        if config.retries is not None:
            raw["retries"] = {
                "limit": config.retries.limit,
                "delay": config.retries.delay,
                "backoff": config.retries.backoff,
            }
        if config.timeout is not None:
            raw["timeout"] = config.timeout
        if config.sensitive is not None:
            raw["sensitive"] = config.sensitive
        if config.durability is not None:
            raw["durability"] = config.durability
    elif isinstance(config, Mapping):
        raw = dict(config)
    else:
        raise _fail(step, f"got {type(config).__name__} {config!r}, not a dict or StepConfig")

    unknown = sorted(set(raw) - {"retries", "timeout", "sensitive", "durability"})
    if unknown:
        raise _fail(step, f"unknown key(s) {unknown}")

    limit: Any = DEFAULT_RETRY_LIMIT
    delay_value: Any = default_delay
    backoff: Any = DEFAULT_BACKOFF
    if "retries" in raw and raw["retries"] is not None:
        retries = raw["retries"]
        if not isinstance(retries, Mapping):
            raise _fail(step, f"retries must be a dict, got {retries!r}")
        unknown = sorted(set(retries) - {"limit", "delay", "backoff"})
        if unknown:
            raise _fail(step, f"unknown key(s) in retries {unknown}")
        missing = [k for k in ("limit", "delay") if k not in retries]
        if missing:
            raise _fail(step, f"retries needs both limit and delay; missing {missing}")
        limit = retries["limit"]
        delay_value = retries["delay"]
        backoff = retries.get("backoff", DEFAULT_BACKOFF)

    if isinstance(limit, bool) or not isinstance(limit, int | float):
        raise _fail(step, f"retries.limit must be a whole number, got {limit!r}")
    if isinstance(limit, float) and not limit.is_integer():
        raise _fail(step, f"retries.limit must be a whole number, got {limit!r}")
    if limit < 0 or limit > MAX_RETRY_LIMIT:
        raise _fail(step, f"retries.limit must be between 0 and {MAX_RETRY_LIMIT}, got {limit!r}")
    if backoff not in BACKOFFS:
        raise _fail(step, f"retries.backoff must be one of {list(BACKOFFS)}, got {backoff!r}")

    delay: timedelta | None = None
    delay_fn: Callable[..., Duration] | None = None
    if callable(delay_value) and not isinstance(delay_value, timedelta):
        delay_fn = cast("Callable[..., Duration]", delay_value)
    else:
        try:
            delay = parse_duration(delay_value, what=f'retries.delay of step "{step}"')
        except ValueError as err:
            raise StepConfigError(str(err)) from None

    timeout_value = raw.get("timeout", DEFAULT_TIMEOUT)
    if timeout_value is None:
        timeout_value = DEFAULT_TIMEOUT
    try:
        timeout = parse_duration(timeout_value, what=f'timeout of step "{step}"')
    except ValueError as err:
        raise StepConfigError(str(err)) from None
    if timeout <= timedelta(0):
        raise _fail(step, f"timeout must be greater than 0, got {timeout_value!r}")

    sensitive = raw.get("sensitive")
    if sensitive not in (None, "output"):
        raise _fail(step, f'sensitive may only be "output", got {sensitive!r}')

    durability = raw.get("durability")
    if durability is not None and durability not in DURABILITIES:
        raise _fail(step, f"durability must be one of {list(DURABILITIES)}, got {durability!r}")

    retries_view: dict[str, Any] = {"limit": int(limit), "backoff": backoff}
    if delay_fn is None:
        retries_view["delay"] = _as_json(delay_value)
    view: dict[str, Any] = {"retries": retries_view, "timeout": _as_json(timeout_value)}
    if sensitive:
        view["sensitive"] = sensitive
    if durability is not None:
        view["durability"] = durability
    return ResolvedStepConfig(
        limit=int(limit),
        delay=delay,
        delay_fn=delay_fn,
        backoff=backoff,
        timeout=timeout,
        sensitive=sensitive == "output",
        durability=durability,
        as_dict=view,
    )


def _as_json(duration: Any) -> Any:
    """A duration as Cloudflare's config holds it: a ``timedelta`` becomes milliseconds."""
    return to_millis(duration) if isinstance(duration, timedelta) else duration


@functools.lru_cache(maxsize=64)
def default_step_config(default_delay: Duration) -> ResolvedStepConfig:
    """The resolved config of a step that gives none, built once per default delay."""
    return resolve_step_config("", None, default_delay=default_delay)


def retry_delay(backoff: Backoff, base: timedelta, failed_attempt: int) -> timedelta:
    """The wait before the next attempt, with no jitter and no cap.

    Args:
        backoff: The backoff kind.
        base: The configured delay.
        failed_attempt: The 1-based number of the attempt that just failed.

    Returns:
        ``base`` (constant), ``base·n`` (linear) or ``base·2^(n-1)`` (exponential).
    """
    if failed_attempt < 1:
        raise ValueError(f"failed_attempt must be at least 1, got {failed_attempt}")
    if backoff == "linear":
        return base * failed_attempt
    if backoff == "exponential":
        factor: int = 2 ** (failed_attempt - 1)
        return base * factor
    return base


def coerce_delay_result(step: str, value: object) -> timedelta:
    """Validates what a delay function returned.

    Raises:
        ValueError: The value is not a duration (a number of ms or a duration string).
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"returned an invalid delay value {value!r}")
    try:
        return parse_duration(cast("Duration", value), what=f'retry delay of step "{step}"')
    except ValueError:
        raise ValueError(
            f"returned an invalid delay value {value!r} (expected a number of ms or a duration "
            'string like "30 seconds")'
        ) from None
