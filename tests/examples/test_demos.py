"""The demo contract of every example (see ``workflows/__init__.py``): each module with a workflow
has a demo (``EXAMPLE_PARAMS``, ``EVENTS``, ``EXPECTED_STATUS``, and ``make_demo_env`` else
``make_env``), says which seed section it ports, and its demo reaches the expected final status.
Discovery walks the pattern packages and skips private modules; workflow names are unique."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from activities._demo.services import SharedServices
from adapter import Workflow, WorkflowEntrypoint, create_worker
from tests.helpers import eventually
from workflows import PortedWorkflow, _shared_env, discover_workflows, example_name

pytestmark = pytest.mark.server

DEMOS = [p for p in discover_workflows() if p.is_demo]

#: Every example module, by pattern package (``workflows/README.md`` has the same table).
EXAMPLES = {
    "ai.image_review",
    "ai.invention_analysis",
    "ai.structured_output",
    "getting_started.first_steps",
    "getting_started.starter",
    "getting_started.using_bindings",
    "human_in_the_loop.approval_by_polling",
    "human_in_the_loop.approval_with_auto_reject",
    "human_in_the_loop.approval_with_escalation",
    "idempotency.charge_with_idempotency_key",
    "idempotency.order_upsert",
    "long_running.etl_pipeline",
    "long_running.migration_with_progress",
    "long_running.poll_with_backoff",
    "observability.logging_and_metrics",
    "orchestration.fire_and_forget_child",
    "orchestration.parallel_fan_out",
    "orchestration.race",
    "orchestration.sequential_fan_out",
    "orchestration.wait_for_child",
    "python_sdk.dag",
    "python_sdk.events",
    "python_sdk.implicit_dependencies",
    "python_sdk.starter",
    "resilience.circuit_breaker",
    "resilience.defaults_on_failure",
    "resilience.fallback_service",
    "resilience.report_with_partial_failures",
    "resilience.retry_by_error_category",
    "resilience.saga_rollback",
    "scheduling.daily_schedule",
    "scheduling.trial_follow_up",
    "security.secret_token",
}


def uses_shared_env(ported: PortedWorkflow) -> bool:
    return getattr(ported.module, "make_env", None) is _shared_env.make_env


def test_every_module_with_a_workflow_has_a_demo() -> None:
    assert {example_name(p.module) for p in DEMOS} == EXAMPLES
    assert len(DEMOS) == len(EXAMPLES)  # one demo per module
    for demo in DEMOS:
        doc = demo.module.__doc__ or ""
        assert re.search(r"Ports (seed 00[0-3]|Cloudflare's)", doc), demo.module.__name__
        assert demo.module.EXPECTED_STATUS in ("complete", "errored")
        assert isinstance(demo.module.EXAMPLE_PARAMS, dict)
        assert all(len(event) == 3 for event in demo.module.EVENTS)


def test_workflow_names_are_unique_and_kebab_case() -> None:
    names = [p.workflow.workflow_name for p in discover_workflows()]
    assert len(names) == len(set(names)), names
    for name in names:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name), name


def test_discovery_skips_private_modules_and_finds_every_workflow_class() -> None:
    found = discover_workflows()
    # workflows/_shared_env.py and workflows/_helpers.py are plumbing, not examples
    assert all("._" not in p.module.__name__ for p in found)
    # the front door (getting_started/front_door.py) defines no workflow, so nothing is found there
    assert "getting_started.front_door" not in {example_name(p.module) for p in found}
    # the shared env's list of its workflows matches what discovery finds in its modules
    assert set(_shared_env.all_workflows()) == {p.workflow for p in found if uses_shared_env(p)}


@contextlib.asynccontextmanager
async def demo_env(
    demo: PortedWorkflow, tmp_path: Path, client: Client, task_queue: str
) -> AsyncIterator[tuple[Any, list[type[WorkflowEntrypoint[Any, Any]]]]]:
    """The demo's env and the workflows its worker must run.

    A shared-env example runs with every shared-env workflow (a parent needs its children), on
    stand-in services this test stops again; any other example with its module's workflows.
    """
    if uses_shared_env(demo):
        with SharedServices() as services:
            env = services.build_env(client=client, task_queue=task_queue, data_dir=tmp_path)
            await _shared_env.prepare_env(env, demo_data=True)
            try:
                yield env, _shared_env.all_workflows()
            finally:
                env.DB.close()
                env.KV.close()
    else:
        env = demo.make_env(tmp_path, client, task_queue, demo=True)
        yield env, [p.workflow for p in discover_workflows() if p.module is demo.module]


@pytest.mark.parametrize("demo", DEMOS, ids=lambda d: example_name(d.module))
async def test_demo_run_reaches_expected_status(
    demo: PortedWorkflow, tmp_path: Path, tempflare_client: Client, task_queue: str
) -> None:
    module = demo.module
    async with demo_env(demo, tmp_path, tempflare_client, task_queue) as (env, workflows):
        worker = create_worker(
            tempflare_client,
            task_queue=task_queue,
            workflows=workflows,
            env=env,
            activities=demo.activities,
        )
        async with worker:
            binding: Workflow[Any] = Workflow(
                tempflare_client, demo.workflow, task_queue=task_queue
            )
            instance = await binding.create(params=module.EXAMPLE_PARAMS)
            for delay, event_type, payload in module.EVENTS:
                await asyncio.sleep(delay)
                await instance.send_event(event_type, payload)

            async def status() -> Any:
                return await instance.status()

            final = await eventually(status, lambda s: s.status.is_final, timeout=60)
    assert final.status == module.EXPECTED_STATUS, final
