"""The Python Workers API page: a step with retry config, sleeps, an awaited event, errors.

Ports Cloudflare's "Python Workers API" page (developers.cloudflare.com/workflows/python/
python-workers-api/), whose snippets are::

    @step.do("my first step")
    async def my_first_step():
        # do some work
        return "Hello World!"

    await my_first_step()

    await step.sleep("my-sleep-step", "10 seconds")
    await step.sleep_until("my-sleep-step",
                           datetime.datetime.now() + datetime.timedelta(seconds=10))
    await step.wait_for_event("my-wait-for-event-step", "my-event-type")

    async def try_step(fn):
        try:
            return await fn()
        except Exception as e:
            print(f"Successfully caught {type(e).__name__}: {e}")

    @step.do("my_failing")
    async def my_failing():
        print("Executing my_failing")
        raise TypeError("Intentional error in my_failing")

    await try_step(my_failing)

    @step.do('step-name', config={"retries": {"limit": 1, "delay": "10 seconds"}})
    async def first_step():
        # do some work
        pass

    from workers.workflows import NonRetryableError
    raise NonRetryableError(message)

Joined into one ``run``, in the page's order. Differences: the import lines; ``name=`` on the
class line stands for the wrangler config's ``name``; the two sleeps are
``event["payload"]["sleep"]`` when given (the page's 10 seconds otherwise), and the second is
named ``my-sleep-until-step`` (the page reuses ``my-sleep-step``); ``my_failing`` has no retries
(with the default config it would fail only after five retries, about five minutes);
``first_step`` raises ``NonRetryableError`` when the payload says ``"refuse": true``, which
ends the instance ``errored`` at once; ``try_step`` also returns what it caught; ``run``
returns what each part gave.
"""

from __future__ import annotations

import datetime
from typing import Any, Final

from adapter.workers import WorkflowEntrypoint
from adapter.workers.workflows import NonRetryableError


class DemoWorkflowClass(WorkflowEntrypoint, name="python-workers-api"):
    async def run(self, event, step):
        payload = event["payload"]

        @step.do("my first step")
        async def my_first_step():
            # do some work
            return "Hello World!"

        greeting = await my_first_step()

        pause = payload.get("sleep")
        await step.sleep("my-sleep-step", pause or "10 seconds")
        delay = datetime.timedelta(seconds=10) if pause is None else datetime.timedelta(0)
        await step.sleep_until("my-sleep-until-step", datetime.datetime.now() + delay)
        received = await step.wait_for_event("my-wait-for-event-step", "my-event-type")

        async def try_step(fn):
            try:
                return await fn()
            except Exception as e:
                print(f"Successfully caught {type(e).__name__}: {e}")
                return f"{type(e).__name__}: {e}"

        @step.do("my_failing", config={"retries": {"limit": 0, "delay": "1 second"}})
        async def my_failing():
            print("Executing my_failing")
            raise TypeError("Intentional error in my_failing")

        caught = await try_step(my_failing)

        @step.do("step-name", config={"retries": {"limit": 1, "delay": "10 seconds"}})
        async def first_step():
            # do some work
            if payload.get("refuse"):
                raise NonRetryableError("refused: no retry")
            pass

        await first_step()
        return {"greeting": greeting, "event": received["payload"], "caught": caught}


# ------------------------------------------------------------------------------ demo run

EXAMPLE_PARAMS: Final[dict[str, Any]] = {"sleep": "1 second"}
EXPECTED_STATUS: Final = "complete"
EVENTS: Final[list[tuple[float, str, object]]] = [(2.0, "my-event-type", {"foo": "bar"})]
