"""A race: two steps start together, the first to settle decides.

Ports seed 001, "Orchestration Patterns / Race Pattern".

TypeScript::

    const winner = await Promise.race([
      step.do('option A', async () => slowOperation()),
      step.do('option B', async () => fastOperation())
    ]);

``Promise.race`` becomes ``asyncio.wait(..., return_when=FIRST_COMPLETED)`` over two step
tasks. As with ``Promise.race``, a step settles only after its retries: a retryable failure of
the faster option can let the slower one win, while a ``NonRetryableError`` (or exhausted
retries) of the first option to settle rejects the race and errors the instance. The loser is
not cancelled (the seed does not cancel it either); its result is simply ignored.

Determinism. Cloudflare's caveat: on replay both steps are already cached, so
``Promise.race`` resolves with whichever comes first in the array, which may not be the
original winner; wrap the race in one step if the winner must be stable. On Temporal the
completion order of the two step activities is recorded in the history, so this port replays
the same winner (tested by replaying a finished run on a fresh worker). The winner is picked
in list order among the finished tasks, never by iterating the ``done`` set, whose order is
not deterministic. For code that must stay portable to Cloudflare, ``stable=True`` runs the
documented fix: the whole race inside one step named ``race``.
"""

from __future__ import annotations

import asyncio
from typing import Any, Final, Literal

from pydantic import BaseModel

from activities.orchestration.race import fast_operation, race_in_one_step, slow_operation
from adapter import WorkflowEntrypoint, WorkflowEvent, WorkflowStep


class RaceParams(BaseModel):
    """How long each option takes and which one fails (demo/test knobs)."""

    option_a_ms: int = 2000
    option_b_ms: int = 100
    fail: Literal["A", "B"] | None = None
    #: Fail with NonRetryableError instead of a retryable error.
    fatal: bool = False
    #: Run the race inside one step (the Cloudflare-stable form).
    stable: bool = False


class RaceWorkflow(WorkflowEntrypoint[None, RaceParams], name="race-two-steps"):
    """Two options race; the first to settle decides."""

    async def run(self, event: WorkflowEvent[RaceParams], step: WorkflowStep) -> dict[str, Any]:
        p = event.payload
        if p.stable:
            winner = await step.do(
                "race",
                lambda: race_in_one_step(p.option_a_ms, p.option_b_ms, p.fail, p.fatal),
            )
            return {"winner": winner, "stable": True}

        option_a = asyncio.ensure_future(
            step.do("option A", lambda: slow_operation(p.option_a_ms, p.fail == "A", p.fatal))
        )
        option_b = asyncio.ensure_future(
            step.do("option B", lambda: fast_operation(p.option_b_ms, p.fail == "B", p.fatal))
        )
        done, _pending = await asyncio.wait(
            [option_a, option_b], return_when=asyncio.FIRST_COMPLETED
        )
        first = next(task for task in (option_a, option_b) if task in done)
        return {"winner": first.result(), "stable": False}


# ------------------------------------------------------------------------------ demo run

EXAMPLE_PARAMS: Final[dict[str, Any]] = {"option_a_ms": 1500, "option_b_ms": 100}
EXPECTED_STATUS: Final = "complete"
EVENTS: Final[list[tuple[float, str, object]]] = []
