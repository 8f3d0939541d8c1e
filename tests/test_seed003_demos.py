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
from workflows import PortedWorkflow, discover_workflows

from .helpers import eventually

pytestmark = pytest.mark.server

SEEDS = ("seed001_", "seed002_", "seed003_")


def _demos() -> list[PortedWorkflow]:
    return [
        p
        for p in discover_workflows()
        if p.is_demo and p.module.__name__.rsplit(".", 1)[-1].startswith(SEEDS)
    ]


DEMOS = _demos()


def test_every_module_with_a_workflow_has_a_demo() -> None:
    modules = {p.module.__name__.rsplit(".", 1)[-1] for p in DEMOS}
    assert modules == {
        "seed001_approval",
        "seed001_daily",
        "seed001_data_pipeline",
        "seed001_fan_out",
        "seed001_image",
        "seed001_parent_child",
        "seed001_race",
        "seed001_user_lifecycle",
        "seed002_basic",
        "seed002_invention_analysis",
        "seed002_report_generation",
        "seed002_structured_analysis",
        "seed003_approval_poll",
        "seed003_data_processor",
        "seed003_graceful_degradation",
        "seed003_sequential_fan_out",
        "seed003_starter",
    }
    for demo in DEMOS:
        assert demo.module.__doc__ and demo.module.__doc__.startswith("Port of seed 00")
        assert demo.module.EXPECTED_STATUS in ("complete", "errored")
        assert isinstance(demo.module.EXAMPLE_PARAMS, dict)
        assert all(len(event) == 3 for event in demo.module.EVENTS)


@pytest.mark.parametrize("demo", DEMOS, ids=lambda d: d.module.__name__.rsplit(".", 1)[-1])
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
