"""The Python SDK's starter: two steps declared with ``@step.do`` and awaited in order.

Ports Cloudflare's "Python Workflows SDK" page (developers.cloudflare.com/workflows/python/),
"Get Started", whose example is::

    from workers import Response, WorkflowEntrypoint

    class PythonWorkflowStarter(WorkflowEntrypoint):
        async def run(self, event, step):

            @step.do('step1')
            async def step_1():
                # does stuff
                print('executing step1')

            @step.do('step2')
            async def step_2():
                # does stuff
                print('executing step2')

            await await_step(step_1,step_2)

    async def on_fetch(request, env):
        await env.MY_WORKFLOW.create()
        return Response("Hello world!")

Differences: the import line; ``await_step``, which the page calls without defining, is defined
here (it awaits each step in turn, as the page's DAG example's ``await_step`` does for one);
``on_fetch`` is the Worker's HTTP handler, not part of the workflow: its
``env.MY_WORKFLOW.create()`` is :class:`adapter.workers.workflows.Workflow`'s ``create()``
(see the example's test). ``name=`` on the class line stands for the wrangler config's
``name`` (Cloudflare keeps it there; without it the name would be the class name).
"""

from __future__ import annotations

from typing import Any, Final

from adapter.workers import WorkflowEntrypoint


async def await_step(*fns):
    """Awaits each decorated step in turn (the page uses it without defining it)."""
    return [await fn() for fn in fns]


class PythonWorkflowStarter(WorkflowEntrypoint, name="python-workflow-starter"):
    async def run(self, event, step):

        @step.do("step1")
        async def step_1():
            # does stuff
            print("executing step1")

        @step.do("step2")
        async def step_2():
            # does stuff
            print("executing step2")

        await await_step(step_1, step_2)


# ------------------------------------------------------------------------------ demo run

EXAMPLE_PARAMS: Final[dict[str, Any]] = {}
EXPECTED_STATUS: Final = "complete"
EVENTS: Final[list[tuple[float, str, object]]] = []
