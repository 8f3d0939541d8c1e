"""The starter: steps, a sleep, and a step with its own retries and timeout.

Ports seed 003, "Basic Workflow Example" (``MyWorkflow``, the workflows-starter).

TypeScript (abridged)::

    const files = await step.do('fetch files', async () => ({ files: [...] }));
    const apiResponse = await step.do('call api', async () => {
      let resp = await fetch('https://api.cloudflare.com/client/v4/ips');
      return await resp.json<any>(); });
    await step.sleep('wait on something', '1 minute');
    await step.do('write to storage',
      { retries: { limit: 5, delay: '5 second', backoff: 'exponential' }, timeout: '15 minutes' },
      async () => { console.log('Files from step 1:', files.files.length);
                    if (Math.random() > 0.5) throw new Error('Simulated failure - will retry'); });

The Worker's ``fetch`` handler is ``workflows/getting_started/front_door.py``. The workflow's name
is the seed's wrangler ``name``, ``workflows-starter``.

Differences: the API URL comes from ``env.IPS_URL`` (default: the seed's URL); ``write to
storage`` writes the file list to R2 when it succeeds (the seed's body only logs), and
returns its attempt and resolved config; ``run`` returns a summary (the seed returns nothing).
Knobs (params): ``wait_seconds`` (the 1-minute sleep), ``retry_delay_seconds`` (the 5 s base
delay), ``timeout_seconds`` (the 15-minute timeout), and, for deterministic runs,
``failure_rate`` (the seed's 0.5), ``fail_attempts`` and ``hang_attempts``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel
from temporalio.client import Client

from activities.getting_started.starter import StarterEnv, call_api, fetch_files, write_to_storage
from adapter import StepContext, WorkflowEntrypoint, WorkflowEvent, WorkflowStep
from workflows._helpers import r2_bucket, run_blocking, shortened


class Params(BaseModel):
    """The seed's ``Params`` (``email``, ``metadata``), plus demo/test knobs."""

    email: str
    metadata: dict[str, str] = {}
    wait_seconds: float | None = None
    retry_delay_seconds: float | None = None
    timeout_seconds: float | None = None
    failure_rate: float = 0.5
    fail_attempts: int | None = None
    hang_attempts: int = 0


class MyWorkflow(WorkflowEntrypoint[StarterEnv, Params], name="workflows-starter"):
    """Steps, a sleep, and a step with retries and a timeout."""

    async def run(self, event: WorkflowEvent[Params], step: WorkflowStep) -> dict[str, Any]:
        env = self.env
        p = event.payload

        files = await step.do("fetch files", fetch_files)
        api_response = await step.do("call api", lambda: call_api(env.IPS_URL))
        await step.sleep("wait on something", shortened(p.wait_seconds, "1 minute"))

        async def write(ctx: StepContext) -> dict[str, Any]:
            return await write_to_storage(
                env,
                ctx,
                f"files/{event.instance_id}.json",
                files["files"],
                failure_rate=p.failure_rate,
                fail_attempts=p.fail_attempts,
                hang_attempts=p.hang_attempts,
            )

        written = await step.do(
            "write to storage",
            {
                "retries": {
                    "limit": 5,
                    "delay": shortened(p.retry_delay_seconds, "5 second"),
                    "backoff": "exponential",
                },
                "timeout": shortened(p.timeout_seconds, "15 minutes"),
            },
            write,
        )
        return {
            "email": p.email,
            "files": len(files["files"]),
            "ips": api_response.get("result") if isinstance(api_response, dict) else None,
            "written": written["written"],
            "attempts": written["attempt"],
            "writeConfig": written["config"],
        }


# ------------------------------------------------------------------------------ demo run

EXAMPLE_PARAMS: Final[dict[str, Any]] = {
    "email": "demo@example.com",
    "metadata": {"source": "demo"},
    "wait_seconds": 2,
    "retry_delay_seconds": 1,
    "fail_attempts": 1,
}
EXPECTED_STATUS: Final = "complete"
EVENTS: Final[list[tuple[float, str, object]]] = []


async def _demo_env(root: Path) -> StarterEnv:
    """An env for the demo run: an R2 bucket and the demo ``/client/v4/ips``."""
    from activities._demo.demo_server import ensure_demo_services

    base = ensure_demo_services()
    return StarterEnv(BUCKET=r2_bucket(root, "starter"), IPS_URL=f"{base}/client/v4/ips")


def make_env(data_dir: str | Path, client: Client, task_queue: str) -> StarterEnv:
    """A worker's env: an R2 bucket under ``data_dir`` and ``$IPS_URL`` (default: the seed's
    Cloudflare URL)."""
    ips_url = os.environ.get("IPS_URL")
    bucket = r2_bucket(data_dir, "starter")
    return StarterEnv(BUCKET=bucket, IPS_URL=ips_url) if ips_url else StarterEnv(BUCKET=bucket)


def make_demo_env(data_dir: str | Path, client: Client, task_queue: str) -> StarterEnv:
    """The env of the main job's demo run, with its stand-in services (the ``make_demo_env``
    hook of ``workflows/__init__.py``)."""
    return run_blocking(_demo_env(Path(data_dir)))
