"""The two competing operations of the race (seed 001, "Orchestration Patterns / Race").

``slowOperation`` and ``fastOperation`` are not defined in the seed; here each waits a given
number of milliseconds and returns which option it was, or fails on request.
"""

from __future__ import annotations

import asyncio
from typing import Any

from adapter import NonRetryableError


async def operation(
    option: str, ms: int, fail: bool = False, fatal: bool = False
) -> dict[str, Any]:
    """Waits ``ms`` milliseconds, then returns ``{"option", "ms"}`` or fails.

    Raises:
        NonRetryableError: ``fail`` and ``fatal``: the step fails without retries.
        RuntimeError: ``fail`` only: the step is retried.
    """
    await asyncio.sleep(ms / 1000)
    if fail and fatal:
        raise NonRetryableError(f"option {option} failed for good")
    if fail:
        raise RuntimeError(f"option {option} failed")
    return {"option": option, "ms": ms}


async def slow_operation(ms: int, fail: bool = False, fatal: bool = False) -> dict[str, Any]:
    """Option A."""
    return await operation("A", ms, fail, fatal)


async def fast_operation(ms: int, fail: bool = False, fatal: bool = False) -> dict[str, Any]:
    """Option B."""
    return await operation("B", ms, fail, fatal)


async def race_in_one_step(
    a_ms: int, b_ms: int, fail: str | None = None, fatal: bool = False
) -> dict[str, Any]:
    """Runs both operations inside one step and returns the first to settle (loser cancelled).

    This is the Cloudflare-portable form: the step's cached result fixes the winner for good.
    """
    option_a = asyncio.ensure_future(slow_operation(a_ms, fail == "A", fatal))
    option_b = asyncio.ensure_future(fast_operation(b_ms, fail == "B", fatal))
    done, pending = await asyncio.wait([option_a, option_b], return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    winner = option_a if option_a in done else option_b
    return winner.result()
