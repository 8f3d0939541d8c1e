"""The test harness of the shared-env examples (:mod:`workflows._shared_env`), around the
stand-in services of :mod:`activities._demo.services` (built on the one HTTP stand-in,
:class:`activities._demo.http.HTTPService`).

:func:`shared_env_harness` starts the services (:class:`SharedServices`), adds a SQLite D1
database and KV namespace in a directory and builds the
:class:`~workflows._shared_env.SharedEnv`. The fakes are re-exported here for the tests.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from temporalio.client import Client

from activities._demo.services import (
    ApiService,
    ExternalApi,
    Job,
    JobProcessor,
    Notifier,
    PaymentGateway,
    SharedServices,
)
from workflows._shared_env import SharedEnv, prepare_env

__all__ = [
    "FAST_RETRIES",
    "ApiService",
    "ExternalApi",
    "Harness",
    "Job",
    "JobProcessor",
    "Notifier",
    "PaymentGateway",
    "SharedServices",
    "shared_env_harness",
]

#: Worker options for tests: steps that keep Cloudflare's default retry config (5 retries,
#: exponential) wait 20 ms, 40 ms... between attempts instead of 10 s, 20 s...
FAST_RETRIES: dict[str, Any] = {"default_retry_delay": "20 milliseconds"}


@dataclass
class Harness:
    """What a shared-env test works with: the services, the env, and SQL helpers."""

    services: SharedServices
    env: SharedEnv

    @property
    def gateway(self) -> PaymentGateway:
        return self.services.gateway

    @property
    def api(self) -> ApiService:
        return self.services.api

    @property
    def external(self) -> ExternalApi:
        return self.services.external

    @property
    def processor(self) -> JobProcessor:
        return self.services.processor

    @property
    def notifier(self) -> Notifier:
        return self.services.notifier

    async def rows(self, sql: str, *values: Any) -> list[dict[str, Any]]:
        """The rows a query returns, from the same SQLite file the workflows write."""
        return (await self.env.DB.prepare(sql).bind(*values).all()).results

    async def execute(self, sql: str, *values: Any) -> None:
        await self.env.DB.prepare(sql).bind(*values).run()


@contextlib.asynccontextmanager
async def shared_env_harness(
    data_dir: Path, client: Client, task_queue: str, **env_options: Any
) -> AsyncIterator[Harness]:
    """Starts the services, builds the env in ``data_dir`` and applies the schema."""
    with SharedServices() as services:
        env = services.build_env(
            client=client, task_queue=task_queue, data_dir=data_dir, **env_options
        )
        await prepare_env(env)
        try:
            yield Harness(services, env)
        finally:
            env.DB.close()
            env.KV.close()
