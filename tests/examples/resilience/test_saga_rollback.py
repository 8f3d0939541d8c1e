"""End-to-end tests of workflows/resilience/saga_rollback.py (Cloudflare's saga rollbacks): the
car cannot be booked, so the hotel and then the flight are cancelled, and the instance errors
with the car's error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from activities.resilience.saga_rollback import TripEnv, apply_schema, trip_log
from adapter.bindings import D1Database
from tests.helpers import eventually
from workflows.resilience.saga_rollback import TripBookingSaga

pytestmark = pytest.mark.server


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[TripEnv]:
    db = D1Database(str(tmp_path / "trips.sqlite"))
    await apply_schema(db)
    yield TripEnv(DB=db)
    db.close()


async def _final(instance: Any) -> Any:
    return await eventually(instance.status, lambda s: s.status.is_final, timeout=30)


async def test_failed_car_cancels_hotel_then_flight_and_errors(
    tempflare_worker: Any, env: TripEnv
) -> None:
    async with tempflare_worker(TripBookingSaga, env=env) as wf:
        instance = await wf.create(id="trip-fail", params={"tripId": "T1", "car": "convertible"})
        status = await _final(instance)
    assert status.status == "errored"
    assert (status.error.name, status.error.message) == (
        "NonRetryableError",
        "No convertible car available for trip T1",
    )
    # The providers' side: bookings, then cancellations newest first.
    assert [(row["action"], row["ref"]) for row in await trip_log(env, "T1")] == [
        ("book flight", "FLIGHT-T1"),
        ("book hotel", "HOTEL-T1"),
        ("cancel hotel", "HOTEL-T1"),
        ("cancel flight", "FLIGHT-T1"),
    ]
    # History's side: the failed car step ran once, then one rollback step per booking.
    steps = [(s.type, s.name, len(s.attempts), s.success) for s in await instance.steps()]
    assert steps == [
        ("do", "book flight", 1, True),
        ("do", "book hotel", 1, True),
        ("do", "book car", 1, False),
        ("rollback", "book hotel", 1, True),
        ("rollback", "book flight", 1, True),
    ]


async def test_available_car_books_all_three_and_rolls_nothing_back(
    tempflare_worker: Any, env: TripEnv
) -> None:
    async with tempflare_worker(TripBookingSaga, env=env) as wf:
        instance = await wf.create(id="trip-ok", params={"tripId": "T2", "car": "suv"})
        result = await instance.handle.result()
    assert result == {"flight": "FLIGHT-T2", "hotel": "HOTEL-T2", "car": "CAR-T2"}
    assert [row["action"] for row in await trip_log(env, "T2")] == [
        "book flight",
        "book hotel",
        "book car",
    ]
    assert {s.type for s in await instance.steps()} == {"do"}
