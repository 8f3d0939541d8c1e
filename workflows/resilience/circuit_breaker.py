"""A circuit breaker, its state in KV, that stops calling a service which keeps failing.

Ports seed 000, "Error Handling Patterns / Pattern 2: Circuit Breaker" (the seed's ``MyWorkflow``).

The ``call external API`` step goes through a :class:`~activities.resilience.circuit_breaker.
CircuitBreaker` whose state (failure count, time of the last failure) lives in KV under
``circuit:external-api``. Each failed attempt adds a failure and is retried with the step's
default config; once ``threshold`` failures are recorded, attempts within ``resetTime`` ms of the
last failure fail at once with ``NonRetryableError("Circuit breaker open for external-api")``,
which errors the instance. A success clears the state.

With the defaults (threshold 5, and Cloudflare's 5 retries = 6 attempts) a service that keeps
failing is called 5 times and the 6th attempt finds the circuit open.

Differences from the TypeScript: the seed's ``MyWorkflow`` returns nothing; this returns
``{"data": ...}``. The seed only counts thrown errors (network errors, a body that is not JSON);
here an error status counts too (``ExternalApiError``).
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel

from activities.resilience.circuit_breaker import CircuitBreaker, fetch_external_data
from adapter import WorkflowEntrypoint, WorkflowEvent, WorkflowStep
from workflows._shared_env import SharedEnv


class CircuitBreakerParams(BaseModel):
    serviceName: str = "external-api"
    threshold: int = 5
    #: Milliseconds the circuit stays open after the last failure (the seed's 1 minute).
    resetTime: int = 60000


class CircuitBreakerWorkflow(
    WorkflowEntrypoint[SharedEnv, CircuitBreakerParams], name="circuit-breaker"
):
    async def run(
        self, event: WorkflowEvent[CircuitBreakerParams], step: WorkflowStep
    ) -> dict[str, Any]:
        p = event.payload
        circuit_breaker = CircuitBreaker(self.env.KV, p.serviceName, p.threshold, p.resetTime)

        async def call_external_api() -> Any:
            return await circuit_breaker.call(lambda: fetch_external_data(self.env.EXTERNAL_API))

        data = await step.do("call external API", call_external_api)
        return {"data": data}


WORKFLOW: Final = CircuitBreakerWorkflow
EXAMPLE_PARAMS: Final[dict[str, Any]] = {}
EXPECTED_STATUS: Final = "complete"
EVENTS: Final[list[tuple[float, str, Any]]] = []

from workflows._shared_env import make_env as make_env  # noqa: E402  (the main job's env)
