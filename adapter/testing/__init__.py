"""Testing toolkit: Cloudflare's workflow introspection API and a pytest plugin.

``introspect_workflow_instance(binding, id)`` and ``introspect_workflow(binding)`` mirror
``introspectWorkflowInstance`` / ``introspectWorkflow`` from ``cloudflare:test``; the pytest
plugin (``adapter.testing.pytest_plugin``) gives a real server, a client, workers and bindings.
"""

from .introspection import (
    IntrospectionError,
    WorkflowInstanceIntrospector,
    WorkflowInstanceModifier,
    WorkflowIntrospector,
    introspect_workflow,
    introspect_workflow_instance,
    introspectWorkflow,
    introspectWorkflowInstance,
)

__all__ = [
    "IntrospectionError",
    "WorkflowInstanceIntrospector",
    "WorkflowInstanceModifier",
    "WorkflowIntrospector",
    "introspectWorkflow",
    "introspectWorkflowInstance",
    "introspect_workflow",
    "introspect_workflow_instance",
]
