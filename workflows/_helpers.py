"""Helpers shared by the ports of seeds 001-003."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any, TypeVar

from adapter import Duration

T = TypeVar("T")


def shortened(seconds: float | None, default: Duration) -> Duration:
    """The seed's duration ``default``, or ``seconds`` when params shorten it for a demo or test.

    Long sleeps, event timeouts and retry delays of the seeds ("7 days", "24h", "30s") stay
    visible at the call site; a workflow's params carry an optional ``*_seconds`` override.
    """
    return default if seconds is None else timedelta(seconds=seconds)


def run_blocking(coro: Coroutine[Any, Any, T]) -> T:
    """Runs a coroutine to completion from sync code, even inside a running event loop.

    ``make_env`` is synchronous but the bindings are async; the coroutine runs on a fresh event
    loop in a helper thread (no binding holds state tied to a loop).
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()
