"""A DAG with the legacy ``depends=[...]``: two steps resolved concurrently, then a final step.

Ports Cloudflare's "DAG Workflows" page (developers.cloudflare.com/workflows/python/dag/)::

    from workers import WorkflowEntrypoint

    class MyWorkflow(WorkflowEntrypoint):
        async def run(self, event, step):
            @step.do("dependency a")
            async def step_a():
                # do some work
                return 10

            @step.do("dependency b")
            async def step_b():
                # do some work
                return 20

            @step.do("my final step", depends=[step_a, step_b], concurrent=True)
            async def my_final_step(result_a=0, result_b=0):
                # should return 30
                return result_a + result_b

            await my_final_step()

``step_a`` and ``step_b`` run side by side before ``my_final_step``, which gets their results
in the order ``depends`` lists them. Differences: the import line, and ``run`` returns the final
step's result (the page's ``run`` returns nothing) so the demo shows the 30; ``name=`` on the
class line stands for the wrangler config's ``name``.
"""

from __future__ import annotations

from typing import Any, Final

from adapter.workers import WorkflowEntrypoint


class MyWorkflow(WorkflowEntrypoint, name="python-dag"):
    async def run(self, event, step):
        @step.do("dependency a")
        async def step_a():
            # do some work
            return 10

        @step.do("dependency b")
        async def step_b():
            # do some work
            return 20

        @step.do("my final step", depends=[step_a, step_b], concurrent=True)
        async def my_final_step(result_a=0, result_b=0):
            # should return 30
            return result_a + result_b

        return await my_final_step()


# ------------------------------------------------------------------------------ demo run

EXAMPLE_PARAMS: Final[dict[str, Any]] = {}
EXPECTED_STATUS: Final = "complete"
EVENTS: Final[list[tuple[float, str, object]]] = []
