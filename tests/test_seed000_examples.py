"""Every seed 000 module's demo (EXAMPLE_PARAMS, EVENTS) ends in its EXPECTED_STATUS, with all
workflows on one worker, as the main job will run them."""

from __future__ import annotations

import asyncio
import importlib
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, WorkflowFailureError

from adapter import Workflow
from workflows._shared_env import all_workflows, prepare_env

from .seed000_services import SharedServices

pytestmark = pytest.mark.server

MODULES = [
    "idempotency.charge_with_idempotency_key",
    "idempotency.order_upsert",
    "resilience.retry_by_error_category",
    "resilience.circuit_breaker",
    "resilience.defaults_on_failure",
    "long_running.poll_with_backoff",
    "long_running.migration_with_progress",
    "human_in_the_loop.approval_with_escalation",
    "orchestration.wait_for_child",
    "observability.logging_and_metrics",
]


async def test_every_module_names_one_workflow_and_a_demo() -> None:
    workflows = []
    for name in MODULES:
        module = importlib.import_module(f"workflows.{name}")
        assert module.__doc__ and "Ports seed 000, " in module.__doc__
        assert module.EXPECTED_STATUS in ("complete", "errored")
        assert isinstance(module.EXAMPLE_PARAMS, dict)
        assert all(len(e) == 3 for e in module.EVENTS)
        workflows.append(module.WORKFLOW)
    assert {w.workflow_name for w in workflows} | {"order-fulfillment-child"} == {
        w.workflow_name for w in all_workflows()
    }


async def test_demos_reach_their_expected_status(
    tempflare_worker: Any, tempflare_client: Client, task_queue: str, tmp_path: Path
) -> None:
    with SharedServices() as services:
        env = services.build_env(client=tempflare_client, task_queue=task_queue, data_dir=tmp_path)
        await prepare_env(env, demo_data=True)

        async def demo(name: str) -> tuple[str, str, str]:
            module = importlib.import_module(f"workflows.{name}")
            binding = Workflow(tempflare_client, module.WORKFLOW, task_queue=task_queue)
            instance = await binding.create(
                id=f"demo-{name.replace('.', '-')}", params=module.EXAMPLE_PARAMS
            )
            for delay, event_type, payload in module.EVENTS:
                await asyncio.sleep(delay)
                await instance.send_event(event_type, payload)
            try:
                await instance.handle.result()
            except WorkflowFailureError:
                pass
            status = await instance.status()
            return name, module.EXPECTED_STATUS, status.status.value

        async with tempflare_worker(*all_workflows(), env=env):
            results = await asyncio.gather(*(demo(name) for name in MODULES))

    assert [(name, expected) for name, expected, _ in results] == [
        (name, actual) for name, _, actual in results
    ]
