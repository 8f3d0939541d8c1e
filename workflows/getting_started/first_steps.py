"""First steps: two steps, the second using the first's result, and a typed payload.

Ports seed 002, "Basic Workflow Structure" (``MyWorkflow`` of the tutorial).

TypeScript::

    export class MyWorkflow extends WorkflowEntrypoint<Env, MyWorkflowPayload> {
      async run(event: WorkflowEvent<MyWorkflowPayload>, step: WorkflowStep) {
        const { userId, documentId } = event.payload;
        const data = await step.do("fetch-data", async () => { return { fetched: true }; });
        const result = await step.do("process-data", async () => {
          return { processed: true, input: data }; });
        return { success: true, result };
      }
    }

A line-by-line port. Its Temporal name is ``first-steps``: the seed's class name, ``MyWorkflow``,
is also the name of seed 003's starter (registered as ``workflows-starter``).
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel

from adapter import WorkflowEntrypoint, WorkflowEvent, WorkflowStep


class MyWorkflowPayload(BaseModel):
    """The seed's payload type."""

    userId: str
    documentId: str


class MyWorkflow(WorkflowEntrypoint[None, MyWorkflowPayload], name="first-steps"):
    """Two steps, the second using the first's result."""

    async def run(
        self, event: WorkflowEvent[MyWorkflowPayload], step: WorkflowStep
    ) -> dict[str, Any]:
        # Step 1: Fetch data
        data = await step.do("fetch-data", lambda: {"fetched": True})
        # Step 2: Process data
        result = await step.do("process-data", lambda: {"processed": True, "input": data})
        # Return final result
        return {"success": True, "result": result}


# ------------------------------------------------------------------------------ demo run

EXAMPLE_PARAMS: Final[dict[str, Any]] = {"userId": "user-demo", "documentId": "doc-1"}
EXPECTED_STATUS: Final = "complete"
EVENTS: Final[list[tuple[float, str, object]]] = []
