"""End-to-end tests of workflows/orchestration/race.py (seed 001, the race pattern)."""

from __future__ import annotations

from typing import Any

import pytest

from adapter import InstanceStatus, WorkflowEvent, WorkflowStep
from adapter._shared.constants import STATUS_QUERY
from tests.helpers import eventually, step_attempts
from workflows.orchestration.race import RaceParams, RaceWorkflow

pytestmark = pytest.mark.server


class RaceThenUseWinner(RaceWorkflow, name="RaceThenUseWinner"):
    """The race followed by a step named after the winner: replaying with another winner would
    schedule a differently named step and fail with a non-determinism error."""

    async def run(self, event: WorkflowEvent[RaceParams], step: WorkflowStep) -> dict[str, Any]:
        result = await super().run(event, step)
        await step.do(f"use option {result['winner']['option']}", lambda: None)
        return result


async def replay_on_a_fresh_worker(
    tempflare_worker: Any, instance: Any, durability: str = "durable"
) -> Any:
    """Queries the finished run on a new worker (with the configuration that ran it), which must
    replay its whole history."""
    async with tempflare_worker(RaceThenUseWinner, durability=durability):
        return await instance.handle.query(STATUS_QUERY)


async def final_status(instance: Any) -> Any:
    async def status() -> Any:
        return await instance.status()

    return await eventually(status, lambda s: s.status.is_final)


@pytest.mark.parametrize("durability", ["durable", "batched"])
@pytest.mark.parametrize(
    ("a_ms", "b_ms", "winner"),
    [(1500, 50, "B"), (50, 1500, "A")],
)
async def test_first_step_to_finish_wins_and_replays_the_same_winner(
    tempflare_worker: Any, a_ms: int, b_ms: int, winner: str, durability: str
) -> None:
    params = {"option_a_ms": a_ms, "option_b_ms": b_ms}
    async with tempflare_worker(RaceThenUseWinner, durability=durability) as wf:
        instance = await wf.create(id=f"race-{winner}-{durability}", params=params)
        result = await instance.handle.result()
    assert result["winner"]["option"] == winner
    assert result["stable"] is False
    steps = [a.summary for a in await step_attempts(instance.handle)]
    # the run closed while the loser still ran: it never completed
    assert steps == [f"option {winner}", f"use option {winner}"]
    replayed = await replay_on_a_fresh_worker(tempflare_worker, instance, durability)
    assert replayed["status"] == "complete"


async def test_retrying_fast_option_lets_the_slow_one_win(tempflare_worker: Any) -> None:
    # B fails fast but retryably: its step waits 1 s before each retry, so A settles first
    params = {"option_a_ms": 300, "option_b_ms": 10, "fail": "B"}
    async with tempflare_worker(RaceWorkflow, default_retry_delay="1 second") as wf:
        instance = await wf.create(id="race-b-retrying", params=params)
        result = await instance.handle.result()
    assert result["winner"] == {"option": "A", "ms": 300}
    attempts = await step_attempts(instance.handle)
    assert ("option B", True) in [(a.summary, a.failed) for a in attempts]


async def test_non_retryable_failure_of_the_first_to_settle_rejects_the_race(
    tempflare_worker: Any,
) -> None:
    params = {"option_a_ms": 1500, "option_b_ms": 10, "fail": "B", "fatal": True}
    async with tempflare_worker(RaceWorkflow) as wf:
        instance = await wf.create(id="race-b-fatal", params=params)
        final = await final_status(instance)
    assert final.status == InstanceStatus.ERRORED
    assert final.error is not None
    assert (final.error.name, final.error.message) == (
        "NonRetryableError",
        "option B failed for good",
    )


async def test_slow_option_failing_does_not_matter(tempflare_worker: Any) -> None:
    params = {"option_a_ms": 800, "option_b_ms": 10, "fail": "A", "fatal": True}
    async with tempflare_worker(RaceWorkflow) as wf:
        instance = await wf.create(id="race-a-fatal", params=params)
        result = await instance.handle.result()
    assert result["winner"] == {"option": "B", "ms": 10}


@pytest.mark.parametrize(("a_ms", "b_ms", "winner"), [(1000, 20, "B"), (20, 1000, "A")])
async def test_race_inside_one_step_is_stable(
    tempflare_worker: Any, a_ms: int, b_ms: int, winner: str
) -> None:
    params = {"option_a_ms": a_ms, "option_b_ms": b_ms, "stable": True}
    async with tempflare_worker(RaceWorkflow) as wf:
        instance = await wf.create(id=f"race-stable-{winner}", params=params)
        result = await instance.handle.result()
    assert result == {"winner": {"option": winner, "ms": min(a_ms, b_ms)}, "stable": True}
    assert [a.summary for a in await step_attempts(instance.handle)] == ["race"]
