"""End-to-end tests of workflows/scheduling/trial_follow_up.py (seed 001, user lifecycle)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from activities._demo.http import HTTPService, Reply
from activities.scheduling.trial_follow_up import LifecycleEnv, apply_schema
from adapter import InstanceStatus
from adapter.bindings import D1Database
from tests.helpers import eventually, step_attempts, timers
from workflows.scheduling.trial_follow_up import UserLifecycleWorkflow

pytestmark = pytest.mark.server

FAST_RETRIES = {"default_retry_delay": 0}


@pytest.fixture
def http() -> Iterator[HTTPService]:
    with HTTPService("stand-in") as server:
        server.route("POST", "/email", lambda req: Reply(200, {"id": len(server.calls)}))
        yield server


@pytest.fixture
async def env(tmp_path: Path, http: HTTPService) -> AsyncIterator[LifecycleEnv]:
    db = D1Database(str(tmp_path / "db.sqlite"))
    await apply_schema(db)
    yield LifecycleEnv(DB=db, EMAIL_API_URL=http.base_url)
    db.close()


async def add_user(env: LifecycleEnv, user_id: str, status: str) -> None:
    await (
        env.DB.prepare("INSERT INTO users (id, email, subscription_status) VALUES (?, ?, ?)")
        .bind(user_id, f"{user_id}@example.com", status)
        .run()
    )


def subjects(http: HTTPService) -> list[tuple[str, str]]:
    return [(r.json()["to"], r.json()["subject"]) for r in http.requests("POST", "/email")]


async def test_not_converted_gets_trial_ending_email(
    tempflare_worker: Any, env: LifecycleEnv, http: HTTPService
) -> None:
    # the e-mail API fails once: 'welcome email' is retried
    http.fail_next(1, status=500, path="/email")
    await add_user(env, "u1", "trialing")
    params = {"userId": "u1", "email": "u1@example.com", "trial_seconds": 1}
    async with tempflare_worker(UserLifecycleWorkflow, env=env, **FAST_RETRIES) as wf:
        instance = await wf.create(id="life-not-converted", params=params)
        result = await instance.handle.result()
    assert result == {"converted": False, "emails": ["Welcome!", "Trial ending"]}
    assert subjects(http) == [
        ("u1@example.com", "Welcome!"),
        ("u1@example.com", "Welcome!"),
        ("u1@example.com", "Trial ending"),
    ]
    attempts = await step_attempts(instance.handle)
    assert [(a.summary, a.failed) for a in attempts] == [
        ("welcome email", True),
        ("welcome email", False),
        ("check conversion", False),
        ("trial expiration email", False),
    ]
    sleeps = [t for t in await timers(instance.handle) if t.summary == "trial period"]
    assert [t.seconds for t in sleeps] == [1.0]


async def test_user_who_converts_during_the_trial_gets_no_reminder(
    tempflare_worker: Any, env: LifecycleEnv, http: HTTPService
) -> None:
    await add_user(env, "u2", "trialing")
    params = {"userId": "u2", "email": "u2@example.com", "trial_seconds": 2}
    async with tempflare_worker(UserLifecycleWorkflow, env=env) as wf:
        instance = await wf.create(id="life-converted", params=params)

        async def status() -> Any:
            return (await instance.status()).status

        await eventually(status, lambda s: s == InstanceStatus.WAITING)  # in the trial sleep
        assert subjects(http) == [("u2@example.com", "Welcome!")]
        await (
            env.DB.prepare("UPDATE users SET subscription_status = 'active' WHERE id = ?")
            .bind("u2")
            .run()
        )
        result = await instance.handle.result()
    assert result == {"converted": True, "emails": ["Welcome!"]}
    assert subjects(http) == [("u2@example.com", "Welcome!")]


async def test_trial_period_defaults_to_seven_days(
    tempflare_worker: Any, env: LifecycleEnv
) -> None:
    await add_user(env, "u3", "active")
    async with tempflare_worker(UserLifecycleWorkflow, env=env) as wf:
        instance = await wf.create(
            id="life-seven-days", params={"userId": "u3", "email": "u3@example.com"}
        )
        found = await eventually(lambda: timers(instance.handle), bool)
        await instance.terminate()
    assert [(t.summary, t.seconds) for t in found] == [("trial period", 7 * 86400.0)]
    assert (await instance.status()).status == "terminated"


async def test_missing_user_errors_the_instance(
    tempflare_worker: Any, env: LifecycleEnv, http: HTTPService
) -> None:
    params = {"userId": "ghost", "email": "ghost@example.com", "trial_seconds": 0.1}
    async with tempflare_worker(UserLifecycleWorkflow, env=env, **FAST_RETRIES) as wf:
        instance = await wf.create(id="life-missing-user", params=params)

        async def status() -> Any:
            return await instance.status()

        final = await eventually(status, lambda s: s.status == InstanceStatus.ERRORED)
    assert final.error is not None
    assert (final.error.name, final.error.message) == (
        "UserNotFoundError",
        "User 'ghost' not found",
    )
    checks = [a for a in await step_attempts(instance.handle) if a.summary == "check conversion"]
    assert len(checks) == 6  # default config: 5 retries
    assert subjects(http) == [("ghost@example.com", "Welcome!")]  # no trial-ending e-mail
