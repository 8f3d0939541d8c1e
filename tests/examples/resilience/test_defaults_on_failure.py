"""End-to-end tests of workflows/resilience/defaults_on_failure.py (seed 000's
UserPreferencesWorkflow): preferences from the API, or defaults on any failure."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs
from temporalio.client import Client

from activities._demo.http import Reply
from activities.resilience.defaults_on_failure import DEFAULT_PREFERENCES
from tests.examples.shared_env_harness import Harness, shared_env_harness
from tests.helpers import step_attempts
from workflows.resilience.defaults_on_failure import UserPreferencesWorkflow

pytestmark = pytest.mark.server


@pytest.fixture
async def h(tmp_path: Path, tempflare_client: Client, task_queue: str) -> AsyncIterator[Harness]:
    async with shared_env_harness(tmp_path, tempflare_client, task_queue) as harness:
        yield harness


async def run(tempflare_worker: Any, h: Harness, iid: str, user_id: str) -> tuple[Any, Any]:
    async with tempflare_worker(UserPreferencesWorkflow, env=h.env) as wf:
        instance = await wf.create(id=iid, params={"userId": user_id})
        return instance, await instance.handle.result()


async def test_returns_the_users_preferences(tempflare_worker: Any, h: Harness) -> None:
    prefs = {"theme": "dark", "language": "fr", "notifications": False}
    h.api.preferences["u-1"] = prefs

    with capture_logs() as logs:
        _, result = await run(tempflare_worker, h, "prefs-ok", "u-1")

    assert result == {"userId": "u-1", "preferences": prefs}
    assert h.api.count("GET", "/users/u-1/preferences") == 1
    assert not [e for e in logs if e["log_level"] == "warning"]


@pytest.mark.parametrize(
    ("failure", "error"),
    [
        ("server-error", "ApiError: Failed to fetch preferences"),
        ("not-found", "ApiError: Failed to fetch preferences"),
        ("network", "FetchError"),
        ("bad-json", "JSONDecodeError"),
    ],
)
async def test_falls_back_to_defaults_without_failing_the_step(
    tempflare_worker: Any, h: Harness, failure: str, error: str
) -> None:
    h.api.preferences["u-2"] = {"theme": "dark"}
    path = "/users/u-2/preferences"
    if failure == "server-error":
        h.api.fail_next(1, status=500, path=path)
    elif failure == "network":
        h.api.drop_next(1, path=path)
    elif failure == "bad-json":
        h.api.preferences["u-2"] = Reply(200, "<html>oops</html>")
    user = "u-unknown" if failure == "not-found" else "u-2"

    with capture_logs() as logs:
        instance, result = await run(tempflare_worker, h, f"prefs-{failure}", user)

    assert result == {"userId": user, "preferences": DEFAULT_PREFERENCES}
    assert h.api.count("GET") == 1  # the step succeeded: no retry
    assert [a.failed for a in await step_attempts(instance.handle)] == [False]
    [warning] = [e for e in logs if e["log_level"] == "warning"]
    assert warning["event"] == "Failed to fetch preferences, using defaults"
    assert warning["user_id"] == user
    assert warning["error"].startswith(error)
