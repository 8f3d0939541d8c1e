"""The ``env`` of the seed 000 workflows (Cloudflare Workflows production patterns).

One dataclass holds every binding the seed's workflows use, named as in the TypeScript
(``this.env.DB``, ``this.env.KV``, ``this.env.PAYMENT_WORKFLOW``...). The seed calls public URLs
(``https://payment-gateway.example.com``, ``https://api.example.com``...); here each host is a
service binding (:class:`~adapter.bindings.Fetcher` with a base URL), so the same code talks to the
real service in production and to a local server in tests.

Build it with :func:`build_env`, apply the schema once with :func:`prepare_env`, and run all
seed 000 workflows on one worker::

    env = build_env(client=client, task_queue="seed000", data_dir="data", ...urls...)
    await prepare_env(env, demo_data=True)   # demo_data: rows the EXAMPLE_PARAMS demos need
    worker = create_worker(client, task_queue="seed000", workflows=ALL_WORKFLOWS, env=env)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from activities.seed000_monitoring import AnalyticsDataset
from activities.seed000_schema import apply_schema
from adapter import Workflow
from adapter.bindings import D1Database, Fetcher, KVNamespace

if TYPE_CHECKING:
    from temporalio.client import Client

    from adapter import WorkflowEntrypoint


@dataclass
class Seed000Env:
    """Bindings of the seed 000 workflows.

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
    """Every seed 000 workflow class, for one worker that runs them all."""
    from .seed000_approval import ApprovalWorkflow
    from .seed000_circuit_breaker import CircuitBreakerWorkflow
    from .seed000_data_migration import DataMigrationWorkflow
    from .seed000_error_categorization import ErrorCategorizationWorkflow
    from .seed000_fulfillment import FulfillmentWorkflow
    from .seed000_graceful_degradation import UserPreferencesWorkflow
    from .seed000_monitoring import MonitoredWorkflow
    from .seed000_order_upsert import OrderUpsertWorkflow
    from .seed000_parent_child import OrderWorkflow
    from .seed000_payment import PaymentWorkflow
    from .seed000_video_processing import VideoProcessingWorkflow

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
) -> Seed000Env:
    """Builds the env: D1 and KV as SQLite files in ``data_dir``, services at the given URLs,
    and workflow bindings on ``task_queue`` (where a worker must run the child workflows)."""
    from .seed000_fulfillment import FulfillmentWorkflow
    from .seed000_payment import PaymentWorkflow

    data = Path(data_dir)
    data.mkdir(parents=True, exist_ok=True)
    db = D1Database(data / "seed000-d1.sqlite")
    return Seed000Env(
        DB=db,
        KV=KVNamespace(data / "seed000-kv.sqlite", min_ttl_seconds=kv_min_ttl_seconds),
        ANALYTICS=AnalyticsDataset(db),
        PAYMENT_GATEWAY=Fetcher(payment_gateway_url, timeout=http_timeout),
        API=Fetcher(api_url, timeout=http_timeout),
        EXTERNAL_API=Fetcher(external_api_url, timeout=http_timeout),
        PROCESSOR=Fetcher(processor_url, timeout=http_timeout),
        NOTIFIER=Fetcher(notifier_url, timeout=http_timeout),
        PAYMENT_WORKFLOW=Workflow(client, PaymentWorkflow, task_queue=task_queue),
        FULFILLMENT_WORKFLOW=Workflow(client, FulfillmentWorkflow, task_queue=task_queue),
    )


async def prepare_env(env: Seed000Env, *, demo_data: bool = False) -> None:
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
            "INSERT OR IGNORE INTO users (id, name, email, migrated_at) VALUES (?, ?, ?, ?)"
        ).bind(1, "Demo User", "demo@example.com", now),
        db.prepare("INSERT OR IGNORE INTO migration_jobs (id, progress) VALUES (?, 0)").bind(
            "migration-demo"
        ),
    ]
    statements += [
        db.prepare("INSERT OR IGNORE INTO legacy_users (id, name, email) VALUES (?, ?, ?)").bind(
            n, f"User {n}", f"user{n}@example.com"
        )
        for n in range(1, 31)
    ]
    await db.batch(statements)


_DEMO_ENVS: dict[tuple[str, str], Seed000Env] = {}


def make_env(data_dir: Path, client: Any, task_queue: str) -> Seed000Env:
    """The main job's env for seed 000: local stand-ins for the payment gateway, job processor,
    APIs and notifier (real HTTP servers on 127.0.0.1), SQLite and KV under ``data_dir``, and
    demo rows. Built once per data folder and task queue, and shared by every seed 000 module."""
    key = (str(data_dir), task_queue)
    if key not in _DEMO_ENVS:
        from tests.seed000_services import Seed000Services  # demo stand-ins, shared with tests

        from .seed001_common import run_blocking

        services = Seed000Services()
        services.__enter__()
        env = services.build_env(
            client=client, task_queue=task_queue, data_dir=data_dir / "seed000"
        )
        run_blocking(prepare_env(env, demo_data=True))
        _DEMO_ENVS[key] = env
    return _DEMO_ENVS[key]
