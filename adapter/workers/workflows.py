"""Cloudflare's ``workers.workflows`` module, and the Workflow binding with Python SDK shapes.

``NonRetryableError`` is tempflare's own (``NonRetryableError(message, name=None)``).
:class:`Workflow` wraps a tempflare binding so that it takes and returns what a Cloudflare
Python Worker passes to and gets from ``env.MY_WORKFLOW``::

    binding = Workflow(client, MyWorkflow, task_queue="q")   # or Workflow(native_binding)
    instance = await binding.create({"id": "job-1", "params": {"userId": "u1"}})
    await instance.send_event({"type": "approval", "payload": {"approved": True}})
    print(await instance.status())   # {"status": "complete", "error": None, "output": ...}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from temporalio.client import Client

from .._client.client import Workflow as _NativeWorkflow
from .._client.client import WorkflowInstance as _NativeInstance
from .._shared.entrypoint import WorkflowEntrypoint
from .._shared.errors import NonRetryableError, WrongTypeError
from .._shared.types import InstanceStatusDetails
from .._shared.validation import quote


def status_dict(details: InstanceStatusDetails) -> dict[str, Any]:
    """An instance's status as Cloudflare's Python SDK returns it: ``{status, error, output}``."""
    return {
        "status": details.status.value,
        "error": None if details.error is None else details.error.model_dump(),
        "output": details.output,
    }


class WorkflowInstance:
    """An instance handle whose ``status()`` is a dict; everything else is tempflare's.

    Attributes:
        id: The instance id.
        native: The tempflare :class:`adapter.WorkflowInstance` it wraps.
    """

    def __init__(self, native: _NativeInstance) -> None:
        self.native = native
        self.id = native.id

    async def status(self) -> dict[str, Any]:
        """``{"status": ..., "error": {"name", "message"} or None, "output": ...}``."""
        return status_dict(await self.native.status())

    async def pause(self) -> None:
        """Pauses the instance (see :meth:`adapter.WorkflowInstance.pause`)."""
        await self.native.pause()

    async def resume(self) -> None:
        """Resumes a paused instance."""
        await self.native.resume()

    async def terminate(self) -> None:
        """Terminates the instance."""
        await self.native.terminate()

    async def restart(self, options: Mapping[str, Any] | None = None) -> None:
        """Runs the instance again: ``restart()`` or ``restart({"from": {"name", ...}})``."""
        await self.native.restart(options)

    async def send_event(self, options: Mapping[str, Any] | str, payload: Any = None) -> None:
        """Sends an event: ``send_event({"type": ..., "payload": ...})``."""
        await self.native.send_event(options, payload)

    sendEvent = send_event

    def __repr__(self) -> str:
        return f"WorkflowInstance(id={self.id!r})"


class Workflow:
    """A Workflow binding in Cloudflare's Python shapes: dict options in, dict status out.

    Args:
        binding: A tempflare :class:`adapter.Workflow` binding, or a Temporal client (then
            ``workflow`` and ``task_queue`` are required, as for :class:`adapter.Workflow`).
    """

    def __init__(
        self,
        binding: _NativeWorkflow[Any] | Client,
        workflow: type[WorkflowEntrypoint[Any, Any]] | str | None = None,
        *,
        task_queue: str | None = None,
    ) -> None:
        if isinstance(binding, _NativeWorkflow):
            if workflow is not None or task_queue is not None:
                raise WrongTypeError(
                    "Workflow(binding) wraps an existing binding; give workflow and task_queue "
                    "only with a client: Workflow(client, MyWorkflow, task_queue=...)."
                )
            self.native = binding
        elif isinstance(binding, Client) and workflow is not None and task_queue is not None:
            self.native = _NativeWorkflow(binding, workflow, task_queue=task_queue)
        else:
            raise WrongTypeError(
                f"Workflow(...) takes an adapter.Workflow binding, or a client with the workflow "
                f"and task_queue=..., got {quote(binding)}."
            )

    async def create(self, options: Mapping[str, Any] | None = None) -> WorkflowInstance:
        """Creates an instance: ``create()`` or ``create({"id": ..., "params": ...})``.

        Raises:
            InstanceAlreadyExistsError: The id is in use.
            InvalidInstanceIdError: The id is invalid.
            InvalidParamsError: The params are invalid or over 1 MiB.
        """
        if options is not None and not isinstance(options, Mapping):
            raise WrongTypeError(
                f'create() takes a dict {{"id": ..., "params": ...}} or nothing, got '
                f"{quote(options)}."
            )
        return WorkflowInstance(await self.native.create(dict(options or {})))

    async def create_batch(self, batch: Sequence[Mapping[str, Any]]) -> list[WorkflowInstance]:
        """Creates up to 100 instances from ``{"id", "params"}`` dicts; used ids are skipped."""
        return [WorkflowInstance(i) for i in await self.native.create_batch(batch)]

    createBatch = create_batch

    async def get(self, id: str) -> WorkflowInstance:
        """The handle of an existing instance.

        Raises:
            InstanceNotFoundError: No instance has this id.
        """
        return WorkflowInstance(await self.native.get(id))


__all__ = ["NonRetryableError", "Workflow", "WorkflowInstance", "status_dict"]
