"""``WorkflowEntrypoint``: the base class users subclass, exactly as in Cloudflare.

A subclass is plain Python; the worker wraps it into a Temporal workflow whose type is the
workflow's name (see :mod:`adapter._workflow`).
"""

from __future__ import annotations

import functools
import typing
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

import pydantic

from .config import DURABILITIES, Durability
from .errors import InvalidValueError

if TYPE_CHECKING:
    from .._workflow.step import WorkflowStep
    from .types import WorkflowEvent

EnvT = TypeVar("EnvT")
ParamsT = TypeVar("ParamsT")

MAX_WORKFLOW_NAME_LENGTH = 64


class WorkflowEntrypoint(Generic[EnvT, ParamsT]):
    """Base class of a durable workflow written the Cloudflare way.

    Subclass it and implement ``async def run(self, event, step)``::

        class MyWorkflow(WorkflowEntrypoint[Env, Params]):
            async def run(self, event: WorkflowEvent[Params], step: WorkflowStep) -> dict:
                user = await step.do("fetch user", lambda: fetch_user(event.payload.user_id))
                await step.sleep("cool down", "1 hour")
                return {"user": user}

    ``Params`` may be a pydantic model (validated when the instance is created and again when it
    starts) or a plain JSON type. The workflow's name, which is its Temporal workflow type,
    defaults to the class name; override it with ``class X(WorkflowEntrypoint[...], name="x")``.
    ``class X(WorkflowEntrypoint[...], durability="batched")`` trades per-step durability for
    speed in every step of this workflow (see :data:`adapter.config.Durability`).

    Attributes:
        env: The env object handed to the worker (``create_worker(..., env=...)``).
    """

    workflow_name: ClassVar[str]
    params_type: ClassVar[Any] = Any
    #: The workflow's own durability choice; ``None`` leaves it to the worker.
    durability: ClassVar[Durability | None] = None

    def __init_subclass__(
        cls, *, name: str | None = None, durability: Durability | None = None, **kwargs: Any
    ) -> None:
        super().__init_subclass__(**kwargs)
        if durability is not None:
            if durability not in DURABILITIES:
                raise InvalidValueError(
                    f"durability={durability!r} of {cls.__qualname__} must be one of "
                    f"{list(DURABILITIES)}."
                )
            cls.durability = durability
        chosen = name or cls.__dict__.get("workflow_name") or cls.__name__
        if not isinstance(chosen, str) or not 0 < len(chosen) <= MAX_WORKFLOW_NAME_LENGTH:
            raise InvalidValueError(
                f"Workflow name {chosen!r} of {cls.__qualname__} must be 1 to "
                f"{MAX_WORKFLOW_NAME_LENGTH} characters; pass name=... to the class statement."
            )
        cls.workflow_name = chosen
        cls.params_type = _find_params_type(cls)

    def __init__(self, env: EnvT) -> None:
        """Creates the entrypoint for one run; the worker does this, not user code."""
        self.env = env

    async def run(self, event: WorkflowEvent[ParamsT], step: WorkflowStep) -> Any:
        """The workflow body. Override it.

        Args:
            event: The params and identity of this instance.
            step: Durable steps, sleeps and event waits.

        Returns:
            The instance's output, which must be JSON-serialisable (pydantic models allowed).
        """
        raise NotImplementedError(f"{type(self).__qualname__} must implement run(event, step)")


def _find_params_type(cls: type) -> Any:
    """Finds ``Params`` in ``WorkflowEntrypoint[Env, Params]`` among the class's bases."""
    for klass in cls.__mro__:
        for base in getattr(klass, "__orig_bases__", ()):
            if typing.get_origin(base) is WorkflowEntrypoint:
                args = typing.get_args(base)
                if len(args) == 2 and not isinstance(args[1], TypeVar):
                    return args[1]
                return Any
    return Any


def _type_adapter(params_type: Any) -> pydantic.TypeAdapter[Any]:
    """One validator per params type, built once: params are validated on every create and run."""
    try:
        return _cached_type_adapter(params_type)
    except TypeError:  # an unhashable type annotation
        return pydantic.TypeAdapter(params_type)


@functools.lru_cache(maxsize=256)
def _cached_type_adapter(params_type: Any) -> pydantic.TypeAdapter[Any]:
    return pydantic.TypeAdapter(params_type)


def validate_params(params_type: Any, params: Any) -> Any:
    """Validates params against a workflow's ``Params`` type.

    Missing params (``None``) become ``{}`` when the type accepts that and not ``None``, as in
    Cloudflare, where omitted params arrive as an empty object.

    Raises:
        pydantic.ValidationError: The params do not match.
    """
    if params_type is Any:
        return {} if params is None else params
    adapter = _type_adapter(params_type)
    if params is None:
        try:
            return adapter.validate_python(None)
        except pydantic.ValidationError:
            return adapter.validate_python({})
    return adapter.validate_python(params)
