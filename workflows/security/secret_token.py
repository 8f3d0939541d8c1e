"""A secret that a later step needs, kept out of history: ``sensitive="output"``.

Ports Cloudflare's sensitive step outputs (2026-06-24): step config ``sensitive: "output"``
redacts a step's output from the API and the dashboard while the value passed on to the
workflow is the real one.

TypeScript::

    const token = await step.do('fetch api token', { sensitive: 'output' },
      async () => this.env.VAULT.get('partner-api-token'));
    const upload = await step.do('upload report', async () =>
      uploadReport(token, event.payload.reportId, event.payload.rows));

``fetch api token`` reads the partner API's token from the vault (a KV namespace); its result is
encrypted by tempflare's sensitive-output codec before it leaves the worker, so history, the Web
UI and ``instance.steps()`` never show it (``output_redacted``). ``upload report`` gets the real
token and sends the report with it; the partner (D1) accepts only that token. The side effects
live in :mod:`activities.security.secret_token`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel
from temporalio.client import Client

from activities.security.secret_token import SecretEnv, fetch_token, provision, upload_report
from adapter import WorkflowEntrypoint, WorkflowEvent, WorkflowStep
from workflows._helpers import d1_database, kv_namespace, run_blocking


class ReportParams(BaseModel):
    """``event.payload``: the report to send."""

    reportId: str
    rows: int


class PartnerReportUpload(
    WorkflowEntrypoint[SecretEnv, ReportParams], name="partner-report-upload"
):
    """Fetch the partner's token (sensitive output), then upload the report with it."""

    async def run(self, event: WorkflowEvent[ReportParams], step: WorkflowStep) -> dict[str, Any]:
        env, report = self.env, event.payload
        token = await step.do("fetch api token", {"sensitive": "output"}, lambda: fetch_token(env))
        upload: dict[str, Any] = await step.do(
            "upload report", lambda: upload_report(env, token, report.reportId, report.rows)
        )
        return {"reportId": report.reportId, **upload}


# ------------------------------------------------------------------------------ demo run

EXAMPLE_PARAMS: Final[dict[str, Any]] = {"reportId": "demo-report", "rows": 3}
EXPECTED_STATUS: Final = "complete"
EVENTS: Final[list[tuple[float, str, object]]] = []

#: The demo vault's token (a real one comes from the deployment's secret store).
DEMO_TOKEN: Final = "demo-partner-token-not-for-production"


async def _env(root: Path) -> SecretEnv:
    env = SecretEnv(VAULT=kv_namespace(root, "vault"), DB=d1_database(root, "partner"))
    await provision(env, DEMO_TOKEN)
    return env


def make_env(data_dir: str | Path, client: Client, task_queue: str) -> SecretEnv:
    """The vault and the partner's database (the ``make_env`` hook of ``workflows/__init__.py``)."""
    return run_blocking(_env(Path(data_dir)))
