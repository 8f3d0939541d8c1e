"""The ``env`` shared by the examples ported from seed 000 (production patterns).

Those examples sit in several pattern packages (idempotency, resilience, long_running,
human_in_the_loop, orchestration, observability) but share one env, as the seed's workflows share
one Worker: one dataclass holds every binding they use, named as in the TypeScript
(``this.env.DB``, ``this.env.KV``, ``this.env.PAYMENT_WORKFLOW``...). The seed calls public URLs
(``https://payment-gateway.example.com``, ``https://api.example.com``...); here each host is a
service binding (:class:`~adapter.bindings.Fetcher` with a base URL), so the same code talks to the
real service in production and to a local server in tests.

Build it with :func:`build_env`, apply the schema once with :func:`prepare_env`, and run all
its workflows on one worker::

    env = build_env(client=client, task_queue="shared", data_dir="data", ...urls...)
    await prepare_env(env, demo_data=True)   # demo_data: rows the EXAMPLE_PARAMS demos need
    worker = create_worker(client, task_queue="shared", workflows=all_workflows(), env=env)

The ``workflows`` hooks: :func:`make_env` is the env of a production worker (``worker.py``, the
Docker image), with each service's URL from an environment variable (:data:`SERVICE_URLS`) and
no demo rows; :func:`make_demo_env` is the main job's, with local stand-ins for the services
(:mod:`activities._demo.services`) and the demo rows.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from activities.observability.logging_and_metrics import AnalyticsDataset
from activities.shared_schema import apply_schema
from adapter import Workflow
from adapter.bindings import D1Database, Fetcher, KVNamespace
from workflows._helpers import d1_database, kv_namespace

if TYPE_CHECKING:
    from temporalio.client import Client

    from adapter import WorkflowEntrypoint


@dataclass
class SharedEnv:
    """Bindings of the shared-env examples.

    Attributes:
        DB: D1 database (orders, migration jobs, approvals, fulfilments, analytics).
        KV: KV namespace (payment results, circuit-breaker state).
        ANALYTICS: Analytics Engine stand-in (metrics data points).
        PAYMENT_GATEWAY: ``payment-gateway.example.com`` (``POST /charge``).
        API: ``api.example.com`` (``GET /data``, ``GET /users/<id>/preferences``).
        EXTERNAL_API: ``external-api.example.com`` (``GET /data``), behind the circuit breaker.
        PROCESSOR: ``processor.example.com`` (``POST /jobs``, ``GET /jobs/<id>/status``).
        NOTIFIER: the approval notification webhook (``POST /notify``).
        PAYMENT_WORKFLOW: binding to ``PaymentWorkflow`` (started by ``OrderWorkflow``).
        FULFILLMENT_WORKFLOW: binding to ``FulfillmentWorkflow`` (started by ``OrderWorkflow``).
    """

    DB: D1Database
    KV: KVNamespace
    ANALYTICS: AnalyticsDataset
    PAYMENT_GATEWAY: Fetcher
    API: Fetcher
    EXTERNAL_API: Fetcher
    PROCESSOR: Fetcher
    NOTIFIER: Fetcher
    PAYMENT_WORKFLOW: Workflow[Any]
    FULFILLMENT_WORKFLOW: Workflow[Any]


def all_workflows() -> list[type[WorkflowEntrypoint[Any, Any]]]:
    """Every workflow class that uses this env, for one worker that runs them all."""
    from workflows.human_in_the_loop.approval_with_escalation import ApprovalWorkflow
    from workflows.idempotency.charge_with_idempotency_key import PaymentWorkflow
    from workflows.idempotency.order_upsert import OrderUpsertWorkflow
    from workflows.long_running.migration_with_progress import DataMigrationWorkflow
    from workflows.long_running.poll_with_backoff import VideoProcessingWorkflow
    from workflows.observability.logging_and_metrics import MonitoredWorkflow
    from workflows.orchestration.wait_for_child import FulfillmentWorkflow, OrderWorkflow
    from workflows.resilience.circuit_breaker import CircuitBreakerWorkflow
    from workflows.resilience.defaults_on_failure import UserPreferencesWorkflow
    from workflows.resilience.retry_by_error_category import ErrorCategorizationWorkflow

    return [
        PaymentWorkflow,
        OrderUpsertWorkflow,
        ErrorCategorizationWorkflow,
        CircuitBreakerWorkflow,
        UserPreferencesWorkflow,
        VideoProcessingWorkflow,
        DataMigrationWorkflow,
        ApprovalWorkflow,
        OrderWorkflow,
        FulfillmentWorkflow,
        MonitoredWorkflow,
    ]


def build_env(
    *,
    client: Client,
    task_queue: str,
    data_dir: str | Path,
    payment_gateway_url: str,
    api_url: str,
    external_api_url: str,
    processor_url: str,
    notifier_url: str,
    kv_min_ttl_seconds: float = 60,
    http_timeout: float = 30.0,
) -> SharedEnv:
    """Builds the env: D1 and KV as SQLite files in ``data_dir``, services at the given URLs,
    and workflow bindings on ``task_queue`` (where a worker must run the child workflows)."""
    from workflows.idempotency.charge_with_idempotency_key import PaymentWorkflow
    from workflows.orchestration.wait_for_child import FulfillmentWorkflow

    data = Path(data_dir)
    data.mkdir(parents=True, exist_ok=True)
    db = d1_database(data, "shared")
    return SharedEnv(
        DB=db,
        KV=kv_namespace(data, "shared-kv", min_ttl_seconds=kv_min_ttl_seconds),
        ANALYTICS=AnalyticsDataset(db),
        PAYMENT_GATEWAY=Fetcher(payment_gateway_url, timeout=http_timeout),
        API=Fetcher(api_url, timeout=http_timeout),
        EXTERNAL_API=Fetcher(external_api_url, timeout=http_timeout),
        PROCESSOR=Fetcher(processor_url, timeout=http_timeout),
        NOTIFIER=Fetcher(notifier_url, timeout=http_timeout),
        PAYMENT_WORKFLOW=Workflow(client, PaymentWorkflow, task_queue=task_queue),
        FULFILLMENT_WORKFLOW=Workflow(client, FulfillmentWorkflow, task_queue=task_queue),
    )


async def prepare_env(env: SharedEnv, *, demo_data: bool = False) -> None:
    """Creates the D1 tables the workflows use (idempotent).

    Args:
        env: The env whose ``DB`` to prepare.
        demo_data: Also insert the rows the modules' ``EXAMPLE_PARAMS`` expect: user ``1``
            (``MonitoredWorkflow``), 30 ``legacy_users`` and the ``migration-demo`` job
            (``DataMigrationWorkflow``). Existing rows are kept.
    """
    await apply_schema(env.DB)
    if demo_data:
        await load_demo_data(env.DB)


async def load_demo_data(db: D1Database) -> None:
    """Inserts the rows the ``EXAMPLE_PARAMS`` demos rely on, unless they exist."""
    now = "1970-01-01T00:00:00+00:00"
    statements = [
        db.prepare(
            "INSERT INTO users (id, name, email, migrated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING"
        ).bind(1, "Demo User", "demo@example.com", now),
        db.prepare(
            "INSERT INTO migration_jobs (id, progress) VALUES (?, 0) ON CONFLICT DO NOTHING"
        ).bind("migration-demo"),
    ]
    statements += [
        db.prepare(
            "INSERT INTO legacy_users (id, name, email) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
        ).bind(n, f"User {n}", f"user{n}@example.com")
        for n in range(1, 31)
    ]
    await db.batch(statements)


#: For each service binding: the environment variable a production worker reads its base URL
#: from, and the seed's own URL used when the variable is unset.
SERVICE_URLS: Final[dict[str, tuple[str, str]]] = {
    "payment_gateway_url": ("PAYMENT_GATEWAY_URL", "https://payment-gateway.example.com"),
    "api_url": ("API_URL", "https://api.example.com"),
    "external_api_url": ("EXTERNAL_API_URL", "https://external-api.example.com"),
    "processor_url": ("PROCESSOR_URL", "https://processor.example.com"),
    "notifier_url": ("NOTIFIER_URL", "https://notifier.example.com"),
}

_ENVS: dict[tuple[str, str, bool], SharedEnv] = {}


def make_env(data_dir: Path, client: Any, task_queue: str) -> SharedEnv:
    """A production worker's shared env: D1 and KV as SQLite files under ``data_dir``
    (schema applied, no demo rows), and each service at the URL its environment variable names
    (:data:`SERVICE_URLS`; the seed's URL when unset). Starts no server. Built once per data
    folder and task queue, and shared by every module that uses it."""
    key = (str(data_dir), task_queue, False)
    if key not in _ENVS:
        from workflows._helpers import run_blocking

        def url(field: str) -> str:
            variable, default = SERVICE_URLS[field]
            return os.environ.get(variable) or default

        env = build_env(
            client=client,
            task_queue=task_queue,
            data_dir=data_dir / "shared",
            payment_gateway_url=url("payment_gateway_url"),
            api_url=url("api_url"),
            external_api_url=url("external_api_url"),
            processor_url=url("processor_url"),
            notifier_url=url("notifier_url"),
        )
        run_blocking(prepare_env(env))
        _ENVS[key] = env
    return _ENVS[key]


def make_demo_env(data_dir: Path, client: Any, task_queue: str) -> SharedEnv:
    """The main job's shared env: local stand-ins for the payment gateway, job processor,
    APIs and notifier (real HTTP servers on 127.0.0.1, :mod:`activities._demo.services`), SQLite
    and KV under ``data_dir``, and demo rows. Built once per data folder and task queue, and
    shared by every module that uses it; the stand-ins run until the process exits."""
    key = (str(data_dir), task_queue, True)
    if key not in _ENVS:
        from activities._demo.services import SharedServices
        from workflows._helpers import run_blocking

        services = SharedServices()
        services.__enter__()
        env = services.build_env(client=client, task_queue=task_queue, data_dir=data_dir / "shared")
        run_blocking(prepare_env(env, demo_data=True))
        _ENVS[key] = env
    return _ENVS[key]
