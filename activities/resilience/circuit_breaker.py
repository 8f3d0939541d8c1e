"""The circuit breaker of seed 000 ("Error Handling Patterns / Pattern 2"), state in KV.

:class:`CircuitBreaker` is used inside the ``call external API`` step: it refuses to call the
service (``NonRetryableError``) while ``threshold`` failures are recorded and the last one is less
than ``reset_time`` ms old, counts failures in KV under ``circuit:<service>``, and clears them on
success.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from adapter import NonRetryableError
from adapter.bindings import Fetcher, KVNamespace

T = TypeVar("T")


def _now_ms() -> int:
    """``Date.now()``."""
    return int(time.time() * 1000)


class CircuitBreaker:
    """``new CircuitBreaker(kv, serviceName, threshold = 5, resetTime = 60000)``."""

    def __init__(
        self,
        kv: KVNamespace,
        service_name: str,
        threshold: int = 5,
        reset_time: int = 60000,  # 1 minute
    ) -> None:
        self.kv = kv
        self.service_name = service_name
        self.threshold = threshold
        self.reset_time = reset_time

    @property
    def key(self) -> str:
        return f"circuit:{self.service_name}"

    async def call(self, fn: Callable[[], Awaitable[T]]) -> T:
        key = self.key
        state: dict[str, Any] | None = await self.kv.get(key, "json")

        # Check if circuit is open
        if state and state["failures"] >= self.threshold:
            elapsed = _now_ms() - state["lastFailure"]

            if elapsed < self.reset_time:
                raise NonRetryableError(f"Circuit breaker open for {self.service_name}")

        try:
            result = await fn()

            # Reset on success
            await self.kv.delete(key)

            return result
        except Exception:
            # Increment failure count
            new_state = {
                "failures": ((state or {}).get("failures") or 0) + 1,
                "lastFailure": _now_ms(),
            }

            await self.kv.put(key, json.dumps(new_state), {"expirationTtl": self.reset_time / 1000})

            raise


class ExternalApiError(Exception):
    """The external API answered with an error status."""


async def fetch_external_data(api: Fetcher) -> Any:
    """GET ``/data`` on the external API; an error status is a failure."""
    response = await api.fetch("/data")
    if not response.ok:
        raise ExternalApiError(f"External API error: {response.status}")
    return await response.json()
