"""pytest plugin: a real Temporal server, a client, isolated workers and bindings.

Registered through the ``pytest11`` entry point, so installing tempflare is enough. Fixtures:

* ``tempflare_env``: session-wide ``WorkflowEnvironment``: the embedded dev server (the binary
  from :func:`adapter.devserver.ensure_temporal_cli`), or ``$TEMPORAL_ADDRESS`` when set. If the
  server cannot start, every test that uses it fails with the reason; nothing is skipped.
* ``tempflare_client``: a client on that server with tempflare's data converter.
* ``task_queue``: a task queue unique to the test.
* ``tempflare_worker``: ``async with tempflare_worker(MyWorkflow, env=...) as binding:`` runs a
  worker for the named workflows on the test's task queue and yields the first one's binding.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import timedelta
from typing import Any

import pytest
import pytest_asyncio
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from .._client.client import Workflow
from .._client.connection import connect
from .._shared.entrypoint import WorkflowEntrypoint
from .._shared.sensitive import tempflare_data_converter
from .._worker.worker import create_worker, ensure_search_attributes
from ..devserver import dev_server_extra_args, ensure_temporal_cli


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tempflare")
    group.addoption(
        "--time-skipping",
        action="store_true",
        help="Run sleeps and event timeouts in virtual time on Temporal's time-skipping test "
        "server (needs TEMPFLARE_TEST_SERVER or a download of the test server).",
    )
    group.addoption(
        "--temporal-address",
        default=None,
        help="Run against this Temporal server instead of the embedded dev server "
        "(default: $TEMPORAL_ADDRESS, else the embedded dev server).",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "server: needs the real Temporal server started by the tempflare plugin"
    )


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def tempflare_env(request: pytest.FixtureRequest) -> AsyncIterator[WorkflowEnvironment]:
    """The session's Temporal server, started once."""
    address = request.config.getoption("--temporal-address") or os.environ.get("TEMPORAL_ADDRESS")
    if request.config.getoption("--time-skipping"):
        env = await _start_time_skipping()
    elif address:
        client = await connect(address)
        await ensure_search_attributes(client)
        env = WorkflowEnvironment.from_client(client)
    else:
        env = await WorkflowEnvironment.start_local(
            # Provisioned by tempflare: the SDK's own download cannot reach GitHub everywhere.
            dev_server_existing_path=str(await asyncio.to_thread(ensure_temporal_cli)),
            dev_server_extra_args=dev_server_extra_args(),
            data_converter=tempflare_data_converter(pydantic_data_converter),
            dev_server_startup_timeout=timedelta(seconds=60),
        )
    try:
        yield env
    finally:
        await env.shutdown()


async def _start_time_skipping() -> WorkflowEnvironment:
    """Temporal's time-skipping test server, or a failure that says why it is unavailable."""
    existing = os.environ.get("TEMPFLARE_TEST_SERVER")
    try:
        return await WorkflowEnvironment.start_time_skipping(
            data_converter=tempflare_data_converter(pydantic_data_converter),
            test_server_existing_path=existing,
            test_server_startup_timeout=timedelta(seconds=60),
        )
    except Exception as err:
        pytest.fail(
            "--time-skipping: no time-skipping server could be started "
            f"({type(err).__name__}: {err}). The SDK downloads Temporal's test server from the "
            "internet unless TEMPFLARE_TEST_SERVER names a local one (for example a script that "
            "execs Java's io.temporal.testserver.TestServer). Note that the time-skipping server "
            "has no reset, so restart() is unavailable there. Run without --time-skipping to use "
            "the real dev server in real time.",
            pytrace=False,
        )


@pytest.fixture
def tempflare_client(tempflare_env: WorkflowEnvironment) -> Client:
    """A client on the session's server, with tempflare's data converter."""
    return tempflare_env.client


@pytest.fixture
def task_queue() -> str:
    """A task queue used by this test alone."""
    return f"tq-{uuid.uuid4().hex[:12]}"


WorkerFactory = Callable[..., contextlib.AbstractAsyncContextManager[Workflow[Any]]]


@pytest.fixture
def tempflare_worker(tempflare_client: Client, task_queue: str) -> WorkerFactory:
    """Runs a worker for some workflows on the test's task queue; yields the first's binding."""

    @contextlib.asynccontextmanager
    async def run(
        *workflows: type[WorkflowEntrypoint[Any, Any]],
        env: Any = None,
        activities: Sequence[Callable[..., Any]] = (),
        **options: Any,
    ) -> AsyncIterator[Workflow[Any]]:
        if not workflows:
            raise ValueError("tempflare_worker needs at least one workflow class")
        worker = create_worker(
            tempflare_client,
            task_queue=task_queue,
            workflows=workflows,
            env=env,
            activities=activities,
            **options,
        )
        async with worker:
            yield Workflow(tempflare_client, workflows[0], task_queue=task_queue)

    return run
