"""A worker process for the durability tests, which kill it with SIGKILL mid-run.

``python -m tests.core.durability_worker <address> <task queue> <ledger file> <durability>`` runs
:class:`Ledgered` until killed. Every step callback appends a line to the ledger file before and
after its work, so the test can tell which steps ran again after the kill.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from adapter import WorkflowEntrypoint, WorkflowEvent, WorkflowStep, connect, create_worker


def record(ledger: Path, line: str) -> None:
    with ledger.open("a") as out:
        out.write(line + "\n")


def count(ledger: Path, line: str) -> int:
    return ledger.read_text().splitlines().count(line) if ledger.exists() else 0


class Ledgered(WorkflowEntrypoint[None, dict]):
    """Two steps, a three-step fan-out, a last step. The fan-out's step ``c`` hangs the first
    time it runs (the test kills the worker then); ``a`` and ``b`` finish at once."""

    async def run(self, event: WorkflowEvent[dict], step: WorkflowStep) -> Any:
        ledger = Path(event.payload["ledger"])
        hang_in = event.payload["hang_in"]

        def work(name: str) -> Any:
            async def body() -> str:
                record(ledger, f"start {name}")
                if name == hang_in and count(ledger, f"start {name}") == 1:
                    await asyncio.sleep(3600)  # killed here
                record(ledger, f"end {name}")
                return name

            return body

        first = await step.do("first", work("first"))
        second = await step.do("second", work("second"))
        fanned = await asyncio.gather(
            step.do("a", work("a")), step.do("b", work("b")), step.do("c", work("c"))
        )
        last = await step.do("last", work("last"))
        return [first, second, *fanned, last]


async def main(address: str, task_queue: str, durability: Any) -> None:
    client = await connect(address)
    worker = create_worker(
        client, task_queue=task_queue, workflows=[Ledgered], durability=durability
    )
    await worker.run()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3]))
