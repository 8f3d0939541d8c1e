"""The demo contract of every seed 001-003 module: ``make_demo_env`` (else ``make_env``),
``EXAMPLE_PARAMS``, ``EVENTS`` and ``EXPECTED_STATUS`` (see ``workflows/__init__.py``) produce
the expected final status."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from adapter import Workflow, create_worker
from workflows import PortedWorkflow, discover_workflows, example_name

from .helpers import eventually

pytestmark = pytest.mark.server


def _demos() -> list[PortedWorkflow]:
    return [
        p
        for p in discover_workflows()
        if p.is_demo and "Ports seed 000" not in (p.module.__doc__ or "")
    ]


DEMOS = _demos()


def test_every_module_with_a_workflow_has_a_demo() -> None:
    modules = {example_name(p.module) for p in DEMOS}
    assert modules == {
        "human_in_the_loop.approval_with_auto_reject",
        "scheduling.daily_schedule",
        "long_running.etl_pipeline",
        "orchestration.parallel_fan_out",
        "ai.image_review",
        "orchestration.fire_and_forget_child",
        "orchestration.race",
        "scheduling.trial_follow_up",
        "getting_started.first_steps",
        "ai.invention_analysis",
        "resilience.report_with_partial_failures",
        "ai.structured_output",
        "human_in_the_loop.approval_by_polling",
        "getting_started.using_bindings",
        "resilience.fallback_service",
        "orchestration.sequential_fan_out",
        "getting_started.starter",
    }
    for demo in DEMOS:
        assert demo.module.__doc__ and "Ports seed 00" in demo.module.__doc__
        assert demo.module.EXPECTED_STATUS in ("complete", "errored")
        assert isinstance(demo.module.EXAMPLE_PARAMS, dict)
        assert all(len(event) == 3 for event in demo.module.EVENTS)


@pytest.mark.parametrize("demo", DEMOS, ids=lambda d: example_name(d.module))
async def test_demo_run_reaches_expected_status(
    demo: PortedWorkflow, tmp_path: Path, tempflare_client: Client, task_queue: str
) -> None:
    module = demo.module
    env = demo.make_env(tmp_path, tempflare_client, task_queue, demo=True)
    siblings = [p.workflow for p in discover_workflows() if p.module is module]
    worker = create_worker(
        tempflare_client,
        task_queue=task_queue,
        workflows=siblings,
        env=env,
        activities=demo.activities,
    )
    async with worker:
        binding: Workflow[Any] = Workflow(tempflare_client, demo.workflow, task_queue=task_queue)
        instance = await binding.create(params=module.EXAMPLE_PARAMS)
        for delay, event_type, payload in module.EVENTS:
            await asyncio.sleep(delay)
            await instance.send_event(event_type, payload)

        async def status() -> Any:
            return await instance.status()

        final = await eventually(status, lambda s: s.status.is_final, timeout=60)
    assert final.status == module.EXPECTED_STATUS, final
