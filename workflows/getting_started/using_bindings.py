"""Using env bindings in steps: read a user from D1, cache it in KV, summarise it with AI.

Ports seed 003, "Integration with Workers" (``DataProcessor``).

TypeScript::

    const user = await step.do('fetch user', async () => {
      return await this.env.DB.prepare('SELECT * FROM users WHERE id = ?')
        .bind(event.payload.userId).first(); });
    await step.do('cache result', async () => {
      await this.env.KV.put(`user:${event.payload.userId}`, JSON.stringify(user),
                            { expirationTtl: 3600 }); });
    await step.do('generate summary', async () => {
      const response = await this.env.AI.run('@cf/meta/llama-3-8b-instruct',
          { prompt: `Summarize: ${user.bio}` });
      return response; });

A line-by-line port. As in the TypeScript, an unknown user is not caught early: ``fetch user``
returns null, ``cache result`` stores ``"null"``, and ``generate summary`` fails with the
``TypeError`` JavaScript would raise (after its retries), erroring the instance. ``run``
returns the summary (the seed returns nothing).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel
from temporalio.client import Client

from activities.getting_started.using_bindings import (
    ProcessorEnv,
    apply_schema,
    cache_result,
    fetch_user,
    generate_summary,
)
from adapter import WorkflowEntrypoint, WorkflowEvent, WorkflowStep
from adapter.bindings import OfflineAI
from workflows._helpers import d1_database, kv_namespace, run_blocking


class ProcessorParams(BaseModel):
    """``event.payload``."""

    userId: str


class DataProcessor(WorkflowEntrypoint[ProcessorEnv, ProcessorParams], name="using-bindings"):
    """Read a user from D1, cache it in KV for an hour, summarise the bio with Workers AI."""

    async def run(
        self, event: WorkflowEvent[ProcessorParams], step: WorkflowStep
    ) -> dict[str, Any]:
        env = self.env
        user_id = event.payload.userId

        user = await step.do("fetch user", lambda: fetch_user(env, user_id))
        await step.do("cache result", lambda: cache_result(env, user_id, user))
        summary = await step.do("generate summary", lambda: generate_summary(env, user))
        return {"userId": user_id, "summary": summary}


# ------------------------------------------------------------------------------ demo run

EXAMPLE_PARAMS: Final[dict[str, Any]] = {"userId": "demo-user"}
EXPECTED_STATUS: Final = "complete"
EVENTS: Final[list[tuple[float, str, object]]] = []


async def _demo_env(root: Path) -> ProcessorEnv:
    """An env for the demo run: D1 with ``demo-user``, KV in a file, offline AI."""
    env = ProcessorEnv(
        DB=d1_database(root, "processor"),
        KV=kv_namespace(root, "processor-kv"),
        AI=OfflineAI(),
    )
    await apply_schema(env.DB)
    # Replace the demo row (portable SQL: DELETE + INSERT in one transaction).
    await env.DB.batch(
        [
            env.DB.prepare("DELETE FROM users WHERE id = ?").bind("demo-user"),
            env.DB.prepare("INSERT INTO users (id, name, bio) VALUES (?, ?, ?)").bind(
                "demo-user", "Ada", "Mathematician who wrote the first published algorithm."
            ),
        ]
    )
    return env


def make_env(data_dir: str | Path, client: Client, task_queue: str) -> ProcessorEnv:
    """The env of the demo run (the ``make_env`` hook of ``workflows/__init__.py``)."""
    return run_blocking(_demo_env(Path(data_dir)))
