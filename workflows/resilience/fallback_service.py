"""Graceful degradation across steps: when the primary step fails for good, call a fallback.

Ports seed 003, "Common Patterns / Graceful Degradation". (For a step that returns defaults
instead of failing, see :mod:`workflows.resilience.defaults_on_failure`.)

TypeScript::

    const result = await step.do('try primary service',
      { retries: { limit: 3, delay: '5 second' }, timeout: '30 second' },
      async () => { return await fetch('https://primary-api.com/data'); },
    ).catch(() => null); // Catch step failure
    if (!result) {
      await step.do('fallback service', async () => {
        return await fetch('https://fallback-api.com/data'); });
    }

``.catch(() => null)`` becomes ``try/except Exception``: the primary's error, after
its 4 attempts (exponential backoff, as ``backoff`` defaults to exponential), is swallowed.

Differences: a ``Response`` is not a step result (nor structured-cloneable), so each step
returns the JSON body, and an HTTP error status fails the attempt; in the TypeScript only a
network error or the timeout fails it, and a 500 response counts as a result. The URLs come
from the env; ``retry_delay_seconds`` and ``timeout_seconds`` shorten the 5 s delay and the
30 s timeout. The fallback step has no catch: if it fails too, the instance errors.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel
from temporalio.client import Client

from activities.resilience.fallback_service import DegradationEnv, get_data
from adapter import WorkflowEntrypoint, WorkflowEvent, WorkflowStep
from workflows._helpers import run_blocking, shortened


class DegradationParams(BaseModel):
    """Knobs for the primary's retry delay and timeout."""

    retry_delay_seconds: float | None = None
    timeout_seconds: float | None = None


class GracefulDegradationWorkflow(
    WorkflowEntrypoint[DegradationEnv, DegradationParams],
    name="primary-with-fallback",
):
    """Try the primary service with retries; fall back to the secondary if it fails."""

    async def run(
        self, event: WorkflowEvent[DegradationParams], step: WorkflowStep
    ) -> dict[str, Any]:
        env = self.env
        p = event.payload
        try:
            result = await step.do(
                "try primary service",
                {
                    "retries": {"limit": 3, "delay": shortened(p.retry_delay_seconds, "5 second")},
                    "timeout": shortened(p.timeout_seconds, "30 second"),
                },
                lambda: get_data(env.PRIMARY_URL),
            )
        except Exception:  # .catch(() => null): any failure of the step
            result = None

        if not result:
            fallback = await step.do("fallback service", lambda: get_data(env.FALLBACK_URL))
            return {"source": "fallback", "data": fallback}
        return {"source": "primary", "data": result}


# ------------------------------------------------------------------------------ demo run

EXAMPLE_PARAMS: Final[dict[str, Any]] = {"retry_delay_seconds": 0.5, "timeout_seconds": 5}
EXPECTED_STATUS: Final = "complete"
EVENTS: Final[list[tuple[float, str, object]]] = []


async def _demo_env(root: Path) -> DegradationEnv:
    """An env for the demo run: a primary that does not exist (404), a working fallback."""
    from activities._demo.demo_server import ensure_demo_services

    base = ensure_demo_services()
    return DegradationEnv(PRIMARY_URL=f"{base}/no-such-primary", FALLBACK_URL=f"{base}/items/x")


def make_env(data_dir: str | Path, client: Client, task_queue: str) -> DegradationEnv:
    """A worker's env: ``$PRIMARY_URL`` and ``$FALLBACK_URL``, by default the seed's URLs."""
    return DegradationEnv(
        PRIMARY_URL=os.environ.get("PRIMARY_URL") or "https://primary-api.com/data",
        FALLBACK_URL=os.environ.get("FALLBACK_URL") or "https://fallback-api.com/data",
    )


def make_demo_env(data_dir: str | Path, client: Client, task_queue: str) -> DegradationEnv:
    """The env of the main job's demo run, with its stand-in services (the ``make_demo_env``
    hook of ``workflows/__init__.py``)."""
    return run_blocking(_demo_env(Path(data_dir)))
