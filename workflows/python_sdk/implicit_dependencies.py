"""Dependencies by parameter name, resolved concurrently; ``ctx``; sleeps; an awaited event.

Ports Cloudflare's Python SDK's current form of steps (compatibility dates after 2026-02-25, see
``../shared/reference/cloudflare-2026-and-python.md`` section 1, which paraphrases
Cloudflare's docs)::

    from workers import WorkflowEntrypoint
    from workers.workflows import NonRetryableError

    class MyWorkflow(WorkflowEntrypoint):
        async def run(self, event, step):
            @step.do()                                  # the name defaults to "fetch_user"
            async def fetch_user():
                return {"id": event["payload"]["userId"]}

            @step.do(config={"retries": {"limit": 1, "delay": "10 seconds", "backoff": "constant"}})
            async def charge(fetch_user, ctx):          # dependencies injected by parameter name
                return {"attempt": ctx["attempt"], "user": fetch_user["id"]}

            @step.do(concurrent=True)                   # resolve dependencies with asyncio.gather
            async def report(fetch_user, charge):
                ...

            result = await report()                     # awaiting runs the step (and its deps)
            await step.sleep("cool down", "1 minute")
            await step.sleep_until("at noon", some_datetime_or_number)
            received = await step.wait_for_event("approval", "approved", timeout="24 hours")
            return received["payload"]

``fetch_user`` runs once although both ``charge`` and ``report`` need it. Differences: the
import lines; the class is ``ChargeAndReport`` (``MyWorkflow`` is the DAG example's), and
``name=`` on its line stands for the wrangler config's ``name``;
``charge`` refuses a missing user with ``NonRetryableError`` (the paraphrase imports it without
using it); ``report``'s body (``...``) returns both results; the sleep is the payload's
``coolDown`` (default: the doc's minute), ``sleep_until`` is a second after the instance was
created, and ``run`` returns the report with the event.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Final

from adapter.workers import WorkflowEntrypoint
from adapter.workers.workflows import NonRetryableError


class ChargeAndReport(WorkflowEntrypoint, name="python-implicit-dependencies"):
    async def run(self, event, step):
        @step.do()  # the name defaults to "fetch_user"
        async def fetch_user():
            return {"id": event["payload"]["userId"]}

        @step.do(config={"retries": {"limit": 1, "delay": "10 seconds", "backoff": "constant"}})
        async def charge(fetch_user, ctx):  # dependencies injected by parameter name
            if not fetch_user["id"]:
                raise NonRetryableError("no user to charge")
            return {"attempt": ctx["attempt"], "user": fetch_user["id"]}

        @step.do(concurrent=True)  # resolve dependencies with asyncio.gather
        async def report(fetch_user, charge):
            return {"user": fetch_user["id"], "charged_on_attempt": charge["attempt"]}

        result = await report()  # awaiting runs the step (and its deps)
        await step.sleep("cool down", event["payload"].get("coolDown", "1 minute"))
        await step.sleep_until("at noon", event["timestamp"] + timedelta(seconds=1))
        received = await step.wait_for_event("approval", "approved", timeout="24 hours")
        return {"report": result, "approval": received["payload"]}


# ------------------------------------------------------------------------------ demo run

EXAMPLE_PARAMS: Final[dict[str, Any]] = {"userId": "user-demo", "coolDown": "1 second"}
EXPECTED_STATUS: Final = "complete"
EVENTS: Final[list[tuple[float, str, object]]] = [(2.0, "approved", {"by": "demo-approver"})]
