"""Side effects of the trip-booking saga (:mod:`workflows.resilience.saga_rollback`): bookings
with three providers, and their cancellations, written to D1.

Every booking and cancellation is a row of ``trip_log`` (trip, time in ns, action, reference),
so the order in which the providers were called, compensations included, can be read back.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Final

from adapter import NonRetryableError
from adapter.bindings import D1Database

SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS trip_log (
    trip_id TEXT NOT NULL,
    at_ns BIGINT NOT NULL,
    action TEXT NOT NULL,
    ref TEXT NOT NULL
);
"""

#: The car classes the rental provider has; any other is refused for good.
AVAILABLE_CARS: Final = frozenset({"compact", "suv"})


@dataclass
class TripEnv:
    """``this.env`` of the saga: ``DB`` holds the providers' bookings."""

    DB: D1Database


async def apply_schema(db: D1Database) -> None:
    """Creates the ``trip_log`` table if it is missing."""
    await db.exec(SCHEMA)


async def _log(env: TripEnv, trip_id: str, action: str, ref: str) -> None:
    await (
        env.DB.prepare("INSERT INTO trip_log (trip_id, at_ns, action, ref) VALUES (?, ?, ?, ?)")
        .bind(trip_id, time.time_ns(), action, ref)
        .run()
    )


async def book(env: TripEnv, trip_id: str, kind: str, detail: str) -> str:
    """Books a ``flight``, ``hotel`` or ``car`` and returns its reference.

    Raises:
        NonRetryableError: A car of class ``detail`` is not available: retrying cannot help.
    """
    if kind == "car" and detail not in AVAILABLE_CARS:
        raise NonRetryableError(f"No {detail} car available for trip {trip_id}")
    ref = f"{kind.upper()}-{trip_id}"
    await _log(env, trip_id, f"book {kind}", ref)
    return ref


async def cancel(env: TripEnv, trip_id: str, kind: str, ref: str) -> None:
    """Cancels the booking ``ref`` (a rollback handler's side effect)."""
    await _log(env, trip_id, f"cancel {kind}", ref)


async def trip_log(env: TripEnv, trip_id: str) -> list[dict[str, Any]]:
    """Every booking and cancellation of a trip, in the order they happened."""
    result = await (
        env.DB.prepare("SELECT action, ref FROM trip_log WHERE trip_id = ? ORDER BY at_ns")
        .bind(trip_id)
        .all()
    )
    return list(result.results)
