"""One OpenTelemetry span per step attempt, named after the step, under Temporal's activity
spans; collected with the in-memory exporter."""

from __future__ import annotations

from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode
from temporalio.client import Client

from adapter import (
    Workflow,
    WorkflowEntrypoint,
    WorkflowEvent,
    WorkflowStep,
    connect,
    create_worker,
)
from adapter.tracing import tracing_interceptor

EXPORTER = InMemorySpanExporter()
PROVIDER = TracerProvider()
PROVIDER.add_span_processor(SimpleSpanProcessor(EXPORTER))


class Traced(WorkflowEntrypoint[None, dict[str, Any]]):
    async def run(self, event: WorkflowEvent[dict[str, Any]], step: WorkflowStep) -> str:
        def flaky(ctx: Any) -> str:
            if ctx.attempt == 1:
                raise RuntimeError("card declined")
            return "charged"

        await step.do("reserve", lambda: "reserved")
        return await step.do("charge", {"retries": {"limit": 2, "delay": "10 milliseconds"}}, flaky)


async def test_a_span_per_step_attempt_named_after_the_step(
    tempflare_client: Client, task_queue: str
) -> None:
    trace.set_tracer_provider(PROVIDER)
    client = await connect(
        tempflare_client.service_client.config.target_host,
        interceptors=[tracing_interceptor(PROVIDER.get_tracer("temporalio"))],
    )
    async with create_worker(client, task_queue=task_queue, workflows=[Traced]):
        instance = await Workflow(client, Traced, task_queue=task_queue).create()
        assert await instance.handle.result() == "charged"
    PROVIDER.force_flush()
    spans = EXPORTER.get_finished_spans()
    steps = [s for s in spans if s.attributes and "tempflare.step.name" in s.attributes]
    assert [(s.name, s.attributes["tempflare.step.attempt"]) for s in steps] == [  # type: ignore[index]
        ("reserve", 1),
        ("charge", 1),
        ("charge", 2),
    ]
    assert steps[1].status.status_code == StatusCode.ERROR
    assert steps[2].status.status_code != StatusCode.ERROR
    by_id = {s.context.span_id: s for s in spans}
    for span in steps:
        parent = by_id.get(span.parent.span_id) if span.parent else None
        assert parent is not None and parent.name == f"RunActivity:{span.name}"
    assert any(s.name == "RunWorkflow:Traced" for s in spans)
