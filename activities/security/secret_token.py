"""Side effects of :mod:`workflows.security.secret_token`: a vault that hands out the partner
API's token, and the partner API that accepts only that token.

The vault is a KV namespace (key :data:`TOKEN_KEY`); the partner keeps, in D1, the SHA-256 of
the token it accepts and one row per upload, with the fingerprint of the token that sent it.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any, Final

from adapter import NonRetryableError
from adapter.bindings import D1Database, KVNamespace

#: The vault key of the partner API's token.
TOKEN_KEY: Final = "partner-api-token"
SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS partner_keys (token_sha256 TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS partner_uploads (
    upload_id TEXT PRIMARY KEY,
    token_sha256 TEXT NOT NULL,
    rows_count INTEGER NOT NULL
);
"""


@dataclass
class SecretEnv:
    """``this.env``: the ``VAULT`` that holds the token and the partner's ``DB``."""

    VAULT: KVNamespace
    DB: D1Database


def fingerprint(token: str) -> str:
    """The SHA-256 of a token, hex: what the partner stores instead of the token."""
    return hashlib.sha256(token.encode()).hexdigest()


async def provision(env: SecretEnv, token: str) -> None:
    """Puts ``token`` in the vault and makes the partner accept it."""
    await env.DB.exec(SCHEMA)
    await env.VAULT.put(TOKEN_KEY, token)
    await (
        env.DB.prepare("INSERT INTO partner_keys (token_sha256) VALUES (?) ON CONFLICT DO NOTHING")
        .bind(fingerprint(token))
        .run()
    )


async def fetch_token(env: SecretEnv) -> str:
    """The partner API's token from the vault.

    Raises:
        NonRetryableError: The vault has none.
    """
    token = await env.VAULT.get(TOKEN_KEY)
    if token is None:
        raise NonRetryableError(f"The vault has no {TOKEN_KEY!r}")
    return token


async def upload_report(env: SecretEnv, token: str, report_id: str, rows: int) -> dict[str, Any]:
    """The partner API: stores an upload sent with an accepted token.

    Raises:
        NonRetryableError: The token is not one the partner accepts.
    """
    key = fingerprint(token)
    accepted = await (
        env.DB.prepare("SELECT token_sha256 FROM partner_keys WHERE token_sha256 = ?")
        .bind(key)
        .first()
    )
    if accepted is None:
        raise NonRetryableError("401 Unauthorized: the partner does not accept this token")
    upload_id = f"UP-{report_id}-{time.time_ns()}"
    await (
        env.DB.prepare(
            "INSERT INTO partner_uploads (upload_id, token_sha256, rows_count) VALUES (?, ?, ?)"
        )
        .bind(upload_id, key, rows)
        .run()
    )
    return {"uploadId": upload_id, "rows": rows}


async def uploads(env: SecretEnv) -> list[dict[str, Any]]:
    """Every upload the partner received."""
    result = await env.DB.prepare("SELECT * FROM partner_uploads").all()
    return list(result.results)
