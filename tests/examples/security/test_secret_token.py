"""End-to-end tests of workflows/security/secret_token.py (Cloudflare's ``sensitive: "output"``):
the token the first step fetched is used by the second, and is nowhere readable in history."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowFailureError

from activities.security.secret_token import SecretEnv, fingerprint, provision, uploads
from adapter.bindings import D1Database, KVNamespace
from workflows.security.secret_token import PartnerReportUpload

pytestmark = pytest.mark.server

TOKEN = "tok-7f3a9c-partner-secret"


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[SecretEnv]:
    env = SecretEnv(
        VAULT=KVNamespace(str(tmp_path / "vault.sqlite")),
        DB=D1Database(str(tmp_path / "partner.sqlite")),
    )
    await provision(env, TOKEN)
    yield env
    env.VAULT.close()
    env.DB.close()


async def test_token_is_used_but_never_readable_in_history(
    tempflare_worker: Any, env: SecretEnv
) -> None:
    async with tempflare_worker(PartnerReportUpload, env=env) as wf:
        instance = await wf.create(id="report-secret", params={"reportId": "R1", "rows": 5})
        result = await instance.handle.result()

    # The workflow used the real token: the partner accepted the upload and recorded its
    # fingerprint.
    [upload] = await uploads(env)
    assert upload["token_sha256"] == fingerprint(TOKEN) and upload["rows_count"] == 5
    assert result == {"reportId": "R1", "uploadId": upload["upload_id"], "rows": 5}

    # The step table redacts it; the other step's output is there.
    steps = {s.name: s for s in await instance.steps()}
    assert steps["fetch api token"].success is True
    assert steps["fetch api token"].output_redacted is True
    assert steps["fetch api token"].output is None
    assert steps["upload report"].output == {"uploadId": upload["upload_id"], "rows": 5}

    # The raw history the server stores holds no byte of the token, though it holds the
    # upload id of the step that is not sensitive in plain.
    history = await instance.handle.fetch_history()
    stored = b"".join(event.SerializeToString() for event in history.events)
    assert upload["upload_id"].encode() in stored
    assert TOKEN.encode() not in stored


async def test_a_token_the_partner_does_not_accept_errors_the_instance(
    tempflare_worker: Any, env: SecretEnv
) -> None:
    await env.VAULT.put("partner-api-token", "revoked-token")
    async with tempflare_worker(PartnerReportUpload, env=env) as wf:
        instance = await wf.create(id="report-revoked", params={"reportId": "R2", "rows": 1})
        with pytest.raises(WorkflowFailureError):
            await instance.handle.result()
        status = await instance.status()
    assert status.status == "errored"
    assert status.error is not None and "401 Unauthorized" in status.error.message
    assert "revoked-token" not in status.error.message  # errors name no secret
    assert await uploads(env) == []
