"""An ETL pipeline that stores its large intermediate data in R2 and passes on a reference.

Ports seed 001, "Workflow Patterns / Data Pipeline".

TypeScript (abridged)::

    const rawData = await step.do('extract',
        {retries: { limit: 10, delay: '30s', backoff: 'exponential' }}, async () => {
      const res = await fetch(event.params.sourceUrl);
      if (!res.ok) throw new Error('Fetch failed'); return res.json(); });
    const transformed = await step.do('transform', async () =>
        rawData.map(item => ({ id: item.id, normalized: normalizeData(item) })));
    const dataRef = await step.do('store', async () => {
      const key = `processed/${Date.now()}.json`;
      await this.env.BUCKET.put(key, JSON.stringify(transformed)); return { key }; });
    await step.do('load', async () => {
      const data = await (await this.env.BUCKET.get(dataRef.key)).json();
      for (let i = 0; i < data.length; i += 100) await this.env.DB.batch(
          data.slice(i, i + 100).map(item =>
              this.env.DB.prepare('INSERT INTO records VALUES (?, ?)')
                  .bind(item.id, item.normalized)));
    });

The ``store`` step returns only ``{key}`` and ``load`` reads the data back from R2: the
"store large data externally, return a reference" rule. (``extract`` and ``transform`` still
return the whole data set, as in the seed; past 1 MiB they fail with ``WorkflowFatalError``.)

Differences: ``event.params`` is ``event.payload``; ``retry_delay_seconds`` shortens the 30 s
base delay (the limit of 10 and exponential backoff stay); ``run`` returns the reference and
counts. Like the seed, ``load`` is not idempotent: if a batch fails after earlier batches
committed, every retry fails on the committed rows (tested; use ``INSERT OR REPLACE`` or
``ON CONFLICT`` to make it safe).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel
from temporalio.client import Client

from activities._demo.demo_server import DEMO_BASE_URL
from activities.long_running.etl_pipeline import (
    PipelineEnv,
    apply_schema,
    extract,
    load,
    store,
    transform,
)
from adapter import WorkflowEntrypoint, WorkflowEvent, WorkflowStep
from workflows._helpers import d1_database, r2_bucket, run_blocking, shortened


class PipelineParams(BaseModel):
    """``event.payload``: where the data comes from, plus the retry-delay knob."""

    sourceUrl: str
    #: Shortens the seed's 30 s base retry delay of 'extract'.
    retry_delay_seconds: float | None = None


class DataPipelineWorkflow(WorkflowEntrypoint[PipelineEnv, PipelineParams], name="etl-pipeline"):
    """Extract, transform, store in R2, then batch-load into D1 from the stored reference."""

    async def run(self, event: WorkflowEvent[PipelineParams], step: WorkflowStep) -> dict[str, Any]:
        params = event.payload
        env = self.env

        raw_data = await step.do(
            "extract",
            {
                "retries": {
                    "limit": 10,
                    "delay": shortened(params.retry_delay_seconds, "30s"),
                    "backoff": "exponential",
                }
            },
            lambda: extract(params.sourceUrl),
        )
        transformed = await step.do("transform", lambda: transform(raw_data))
        data_ref = await step.do("store", lambda: store(env, transformed))
        loaded = await step.do("load", lambda: load(env, data_ref["key"]))
        return {"dataRef": data_ref, **loaded}


# ------------------------------------------------------------------------------ demo run

EXAMPLE_PARAMS: Final[dict[str, Any]] = {
    "sourceUrl": f"{DEMO_BASE_URL}/records.json",
    "retry_delay_seconds": 1,
}
EXPECTED_STATUS: Final = "complete"
EVENTS: Final[list[tuple[float, str, object]]] = []


async def _demo_env(root: Path) -> PipelineEnv:
    """An env for the demo run (starts the demo data source that serves ``/records.json``)."""
    from activities._demo.demo_server import ensure_demo_services

    ensure_demo_services()
    env = PipelineEnv(DB=d1_database(root, "pipeline"), BUCKET=r2_bucket(root, "r2"))
    await apply_schema(env.DB)
    await env.DB.exec("DELETE FROM records")
    return env


def make_env(data_dir: str | Path, client: Client, task_queue: str) -> PipelineEnv:
    """A worker's env: D1 and R2 under ``data_dir`` (the source URL comes with each instance's
    params)."""

    async def build() -> PipelineEnv:
        root = Path(data_dir)
        env = PipelineEnv(DB=d1_database(root, "pipeline"), BUCKET=r2_bucket(root, "r2"))
        await apply_schema(env.DB)
        return env

    return run_blocking(build())


def make_demo_env(data_dir: str | Path, client: Client, task_queue: str) -> PipelineEnv:
    """The env of the main job's demo run, with its stand-in services (the ``make_demo_env``
    hook of ``workflows/__init__.py``)."""
    return run_blocking(_demo_env(Path(data_dir)))
