"""OpenTelemetry tracing for tempflare, through ``temporalio.contrib.opentelemetry``.

Connect with the interceptor and every worker built on that client traces too::

    from adapter import connect
    from adapter.tracing import tracing_interceptor

    client = await connect(interceptors=[tracing_interceptor()])

Spans: Temporal's own (``StartWorkflow:<name>``, ``RunWorkflow:<name>``,
``StartActivity:<step>``, ``RunActivity:<step>``...) and, inside each ``RunActivity``, one span
per step attempt named after the step, with the attributes ``tempflare.step.name``,
``tempflare.step.count`` and ``tempflare.step.attempt``; a failed attempt's span has an error
status and the exception. Spans go to the global tracer provider (``opentelemetry.sdk``), so
configure exporters there. Needs the ``tracing`` extra (``pip install 'tempflare[tracing]'``).
"""

from __future__ import annotations

from typing import Any

from temporalio.contrib.opentelemetry import TracingInterceptor

__all__ = ["TracingInterceptor", "tracing_interceptor"]


def tracing_interceptor(tracer: Any = None) -> TracingInterceptor:
    """Temporal's OpenTelemetry interceptor (client and worker); ``tracer`` defaults to the
    global provider's ``temporalio`` tracer."""
    return TracingInterceptor(tracer)
