"""instance.steps() on the real server: every step from history with its type, attempts, times and
output, in both step modes; sensitive="output" keeps a result out of the API and out of readable
history (encrypted by the codec) while the workflow still gets it, across restart from a step."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from adapter import WorkflowEntrypoint, WorkflowEvent, WorkflowStep

from ..helpers import eventually

pytestmark = pytest.mark.server

SECRET = "s3cr3t-t0ken-42"
FLAKY: Counter[str] = Counter()


class Outputs(WorkflowEntrypoint[None, dict]):
    async def run(self, event: WorkflowEvent[dict], step: WorkflowStep) -> Any:
        iid = event.instance_id
        fetched = await step.do("fetch", lambda: {"a": 1})
        secret = await step.do("secret", {"sensitive": "output"}, lambda: SECRET)

        def flaky() -> str:
            FLAKY[iid] += 1
            if FLAKY[iid] == 1:
                raise RuntimeError("first try fails")
            return "ok"

        await step.do("flaky", {"retries": {"limit": 1, "delay": 10}}, flaky)
        await step.sleep("nap", 100)
        got = await step.wait_for_event("approval", type="approve", timeout="1 minute")
        return {"fetched": fetched, "secret_len": len(secret), "event": got.payload}


@pytest.mark.parametrize("durability", ["durable", "batched"])
async def test_steps_lists_every_step_with_attempts_and_outputs(
    tempflare_worker: Any, durability: str
) -> None:
    async with tempflare_worker(Outputs, durability=durability) as binding:
        instance = await binding.create(id=f"outputs-{durability}", params={})
        await eventually(
            instance.steps,
            lambda s: (
                any(x.type == "waitForEvent" for x in s)
                or (any(x.type == "sleep" and x.end for x in s))
            ),
        )
        await instance.send_event("approve", {"by": "ann"})
        result = await instance.handle.result()
        steps = await instance.steps()
    assert result == {"fetched": {"a": 1}, "secret_len": len(SECRET), "event": {"by": "ann"}}
    assert [(s.type, s.name, s.count) for s in steps] == [
        ("do", "fetch", 1),
        ("do", "secret", 1),
        ("do", "flaky", 1),
        ("sleep", "nap", 1),
        ("waitForEvent", "approval", 1),
    ]
    fetch, secret, flaky, nap, approval = steps
    assert fetch.output == {"a": 1} and fetch.success and len(fetch.attempts) == 1
    assert fetch.start and fetch.end and fetch.duration_ms is not None and fetch.duration_ms >= 0
    # the workflow got the secret (its length is in the output), the API never shows it
    assert secret.output is None and secret.output_redacted and secret.success
    assert [a.error.name if a.error else None for a in flaky.attempts] == ["RuntimeError", None]
    assert flaky.output == "ok" and flaky.attempts[0].end and flaky.attempts[1].start
    assert nap.success and nap.duration_ms is not None and nap.duration_ms >= 90
    assert approval.output["payload"] == {"by": "ann"} and approval.output["type"] == "approve"
    # out of readable history: no event of the run holds the secret in clear
    history = await instance.handle.fetch_history()
    assert all(SECRET.encode() not in e.SerializeToString() for e in history.events)


async def test_sensitive_output_stays_encrypted_across_restart_from_a_step(
    tempflare_worker: Any,
) -> None:
    async with tempflare_worker(Outputs) as binding:
        instance = await binding.create(id="outputs-restart", params={})
        await instance.send_event("approve", {"by": "bo"})
        first = await instance.handle.result()
        await instance.restart(from_step={"name": "flaky"})
        await instance.send_event("approve", {"by": "cy"})
        again = await instance.handle.result()
        steps = await instance.steps()
        history = await instance.handle.fetch_history()
    assert first["secret_len"] == again["secret_len"] == len(SECRET)
    assert again["event"] == {"by": "bo"}  # events before the step are delivered again
    assert all(SECRET.encode() not in e.SerializeToString() for e in history.events)
    secret = next(s for s in steps if s.name == "secret")
    assert secret.output is None and secret.output_redacted


async def test_steps_of_an_unknown_instance(tempflare_client: Any, task_queue: str) -> None:
    from adapter import InstanceNotFoundError, WorkflowInstance

    with pytest.raises(InstanceNotFoundError):
        await WorkflowInstance(tempflare_client, "no-such-instance-xyz").steps()


class Approval(WorkflowEntrypoint[None, dict]):
    async def run(self, event: WorkflowEvent[dict], step: WorkflowStep) -> Any:
        got = await step.wait_for_event("approval", type="approve", timeout="1 minute")
        return got.payload


async def test_steps_and_subscribe_read_an_event_wait_under_an_encryption_codec(
    tempflare_client: Any, task_queue: str
) -> None:
    """With every payload encrypted (the memo that records an event wait too), steps(),
    subscribe() and restart from that wait still read it."""
    import os

    from temporalio.client import Client

    from adapter import EncryptionCodec, Workflow, create_worker
    from adapter._client.connection import data_converter

    codec = EncryptionCodec({"k1": os.urandom(32)})
    client = Client(**{**tempflare_client.config(), "data_converter": data_converter(codec)})
    async with create_worker(client, task_queue=task_queue, workflows=[Approval]):
        instance = await Workflow(client, Approval, task_queue=task_queue).create(
            id="outputs-encrypted", params={}
        )
        # sent once the wait is under way, so that a restart from the wait does not deliver it
        # again (events received before the step a restart starts from are re-delivered)
        await eventually(instance.status, lambda s: s.status == "waiting")
        await instance.send_event("approve", {"by": "dee-approver"})
        assert await instance.handle.result() == {"by": "dee-approver"}
        history = await instance.handle.fetch_history()
        leaks = [e for e in history.events if b"dee-approver" in e.SerializeToString()]
        assert not leaks, leaks  # encrypted
        [wait] = await instance.steps()
        assert (wait.type, wait.name, wait.success) == ("waitForEvent", "approval", True)
        assert wait.output["payload"] == {"by": "dee-approver"}
        changes = [c async for c in instance.subscribe(filter="step")]
        assert [(c.step_type, c.change) for c in changes if c.step_type] == [
            ("waitForEvent", "completed")
        ]
        await instance.restart(from_step={"name": "approval", "type": "waitForEvent"})
        await instance.send_event("approve", {"by": "eve"})
        assert await instance.handle.result() == {"by": "eve"}


async def test_a_sensitive_step_runs_with_payload_encryption_on(
    tempflare_client: Any, task_queue: str
) -> None:
    """With a payload encryption key, the sensitive-output codec is chained behind it: the worker
    still runs sensitive steps (it refuses them only when no codec protects them), the secret
    reaches the workflow, and steps() still redacts it."""
    import os

    from temporalio.client import Client

    from adapter import EncryptionCodec, Workflow, create_worker
    from adapter._client.connection import data_converter

    client = Client(
        **{
            **tempflare_client.config(),
            "data_converter": data_converter(EncryptionCodec({"k1": os.urandom(32)})),
        }
    )
    async with create_worker(client, task_queue=task_queue, workflows=[Outputs]):
        instance = await Workflow(client, Outputs, task_queue=task_queue).create(
            id="outputs-sensitive-encrypted", params={}
        )
        await instance.send_event("approve", "ok")
        result = await instance.handle.result()
    assert result["secret_len"] == len(SECRET)
    secret = next(s for s in await instance.steps() if s.name == "secret")
    assert secret.output_redacted and secret.output is None
