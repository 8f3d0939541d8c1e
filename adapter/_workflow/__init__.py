"""Workflow-side code: runs inside Temporal workflows and stays deterministic. Imports only
:mod:`adapter._shared`."""
