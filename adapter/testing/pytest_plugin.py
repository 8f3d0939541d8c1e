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
from temporalio.testing import WorkflowEnvironment

from .._client.client import Workflow
from .._client.connection import connect, data_converter
from .._shared.entrypoint import WorkflowEntrypoint
from .._worker.worker import create_worker, ensure_search_attributes
from ..devserver import dev_server_extra_args, ensure_temporal_cli
from .test_server import start_time_skipping


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tempflare")
    group.addoption(
        "--time-skipping",
        action="store_true",
        help="Run sleeps and event timeouts in virtual time on Temporal's Java time-skipping "
        "test server (fetched from Maven Central and cached; TEMPFLARE_TEST_SERVER overrides).",
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
            data_converter=data_converter(),
            dev_server_startup_timeout=timedelta(seconds=60),
        )
    try:
        yield env
    finally:
        await env.shutdown()


async def _start_time_skipping() -> WorkflowEnvironment:
    """Temporal's time-skipping test server, or a failure that says why it is unavailable."""
    try:
        return await start_time_skipping()
    except Exception as err:
        pytest.fail(
            "--time-skipping: no time-skipping server could be started "
            f"({type(err).__name__}: {err}). tempflare fetches Temporal's Java test server from "
            "Maven Central with mvn and runs it with java (see adapter.testing.test_server), "
            "unless TEMPFLARE_TEST_SERVER names a launcher. Note that the time-skipping server "
            "has no reset and no search attributes. Run without --time-skipping to use the "
            "real dev server in real time.",
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
def tempflare_worker(
    tempflare_env: WorkflowEnvironment, tempflare_client: Client, task_queue: str
) -> WorkerFactory:
    """Runs a worker for some workflows on the test's task queue; yields the first's binding.

    On the time-skipping test server, which has no search attributes, the worker and the
    binding do without them (``status()`` then reads the execution alone).
    """
    search_attributes = not tempflare_env.supports_time_skipping

    @contextlib.asynccontextmanager
    async def run(
        *workflows: type[WorkflowEntrypoint[Any, Any]],
        env: Any = None,
        activities: Sequence[Callable[..., Any]] = (),
        **options: Any,
    ) -> AsyncIterator[Workflow[Any]]:
        if not workflows:
            raise ValueError("tempflare_worker needs at least one workflow class")
        options.setdefault("use_search_attributes", search_attributes)
        worker = create_worker(
            tempflare_client,
            task_queue=task_queue,
            workflows=workflows,
            env=env,
            activities=activities,
            **options,
        )
        async with worker:
            yield Workflow(
                tempflare_client,
                workflows[0],
                task_queue=task_queue,
                use_search_attributes=options["use_search_attributes"],
            )

    return run
