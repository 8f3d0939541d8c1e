"""The suite's one conftest: its layout decides each test's kind.

* ``tests/unit/``: pure logic and files, no Temporal server (``pytest tests/unit`` runs in
  seconds); a unit test that asks for the server is an error.
* ``tests/core/``: the library against the real dev server the session starts.
* ``tests/examples/<pattern>/``: each example workflow end to end on that server.

Fixtures (``tempflare_env``, ``tempflare_client``, ``task_queue``, ``tempflare_worker``) come from
tempflare's pytest plugin, ``adapter.testing.pytest_plugin``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

# Real PostgreSQL, Redis and S3 servers, and the binding suite's per-backend fixtures.
pytest_plugins = ["tests.backend_servers", "tests.bindings.backends"]

TESTS = Path(__file__).resolve().parent
SERVER_FIXTURES = {"tempflare_env", "tempflare_client", "tempflare_worker"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        kind = Path(item.path).resolve().relative_to(TESTS).parts[0]
        if kind == "unit":
            wanted = SERVER_FIXTURES & set(getattr(item, "fixturenames", ()))
            if wanted:
                raise pytest.UsageError(
                    f"{item.nodeid} is a unit test but uses {sorted(wanted)}: move it to "
                    "tests/core/ or tests/examples/."
                )
            item.add_marker(pytest.mark.unit)
        else:
            item.add_marker(pytest.mark.server)
