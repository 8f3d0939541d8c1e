"""Sequential fan-out: one step per item, one after the other, named after the item.

Ports seed 003, "Common Patterns / Fan-out Processing".

TypeScript::

    const items = await step.do('fetch items', async () => ['item1', 'item2', 'item3']);
    for (let i = 0; i < items.length; i++) {
      await step.do(`process-${items[i]}`, async () => ({ processed: items[i] }));
    }

A line-by-line port; unlike ``parallel_fan_out`` the steps run one after the other. Step names
come from a step's output, which keeps them deterministic. ``items`` (params) replaces the
seed's fixed list when given; ``run`` returns the results (the seed returns nothing).
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel

from adapter import WorkflowEntrypoint, WorkflowEvent, WorkflowStep


class ItemsParams(BaseModel):
    """``event.payload``: optional items instead of the seed's three."""

    items: list[str] | None = None


class SequentialFanOutWorkflow(WorkflowEntrypoint[None, ItemsParams], name="sequential-fan-out"):
    """Fetch a list, then process each item in its own step, sequentially."""

    async def run(self, event: WorkflowEvent[ItemsParams], step: WorkflowStep) -> dict[str, Any]:
        given = event.payload.items
        items = await step.do(
            "fetch items", lambda: list(given) if given is not None else ["item1", "item2", "item3"]
        )
        results = []
        for item in items:
            results.append(await step.do(f"process-{item}", lambda item=item: {"processed": item}))
        return {"results": results}


# ------------------------------------------------------------------------------ demo run

EXAMPLE_PARAMS: Final[dict[str, Any]] = {}
EXPECTED_STATUS: Final = "complete"
EVENTS: Final[list[tuple[float, str, object]]] = []
