"""A saga: book a flight, a hotel and a car; if a booking fails for good, undo the others.

Ports Cloudflare's saga rollbacks (2026-06): ``step.do(name, callback, {rollback,
rollbackConfig})``. When an error escapes ``run()``, the rollback handlers of the completed steps
run in reverse step-start order, each as a durable step of its own (``rollback: <step>``, with
its own retries), and the instance then ends ``errored`` with the original error.

TypeScript::

    const flight = await step.do('book flight', () => book('flight', ...),
      { rollback: async ({ output }) => cancel('flight', output) });
    const hotel = await step.do('book hotel', () => book('hotel', ...),
      { rollback: async ({ output }) => cancel('hotel', output), rollbackConfig: {...} });
    const car = await step.do('book car', { retries: { limit: 0 } }, () => book('car', ...));

Here the car class the demo asks for is never available: ``book car`` raises
``NonRetryableError``, ``rollback: book hotel`` then ``rollback: book flight`` cancel the two
bookings (``trip_log`` in D1 shows the order), and the instance errors with the car's error.
``book car`` has no rollback: it booked nothing. The side effects live in
:mod:`activities.resilience.saga_rollback`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel
from temporalio.client import Client

from activities.resilience.saga_rollback import TripEnv, apply_schema, book, cancel
from adapter import WorkflowEntrypoint, WorkflowEvent, WorkflowStep
from workflows._helpers import d1_database, run_blocking


class TripParams(BaseModel):
    """``event.payload``: the trip and the car class to rent."""

    tripId: str
    car: str = "compact"


class TripBookingSaga(WorkflowEntrypoint[TripEnv, TripParams], name="trip-booking-saga"):
    """Flight, hotel, car; a failure cancels what was booked, newest first."""

    async def run(self, event: WorkflowEvent[TripParams], step: WorkflowStep) -> dict[str, str]:
        env, trip = self.env, event.payload.tripId

        def undo(kind: str) -> Any:
            async def handler(output: str) -> None:
                await cancel(env, trip, kind, output)

            return handler

        flight = await step.do(
            "book flight", lambda: book(env, trip, "flight", "economy"), rollback=undo("flight")
        )
        hotel = await step.do(
            "book hotel",
            lambda: book(env, trip, "hotel", "double room"),
            {"rollback": undo("hotel"), "rollbackConfig": {"retries": {"limit": 3, "delay": 100}}},
        )
        car = await step.do(
            "book car",
            {"retries": {"limit": 0, "delay": 0}},
            lambda: book(env, trip, "car", event.payload.car),
        )
        return {"flight": flight, "hotel": hotel, "car": car}


# ------------------------------------------------------------------------------ demo run

EXAMPLE_PARAMS: Final[dict[str, Any]] = {"tripId": "demo-trip", "car": "convertible"}
EXPECTED_STATUS: Final = "errored"
EVENTS: Final[list[tuple[float, str, object]]] = []


async def _env(root: Path) -> TripEnv:
    env = TripEnv(DB=d1_database(root, "trips"))
    await apply_schema(env.DB)
    return env


def make_env(data_dir: str | Path, client: Client, task_queue: str) -> TripEnv:
    """The bookings database (the ``make_env`` hook of ``workflows/__init__.py``)."""
    return run_blocking(_env(Path(data_dir)))
