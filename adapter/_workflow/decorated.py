"""``@step.do(...)`` as a decorator: Cloudflare's Python Workflows SDK form of a step.

Workflow-side and deterministic: a decorated step is a plain ``step.do`` call made when the
decorated function is first awaited, and its dependencies are other decorated steps, resolved
on the workflow's own (deterministic) event loop.

* ``step.do(name=None, *, concurrent=False, config=None)`` returns a decorator; the step's name
  defaults to the function's name. ``step.do("name", depends=[a, b])`` (or positionally,
  ``step.do("name", [a, b], True)``) is the SDK's legacy form.
* Awaiting the decorated function runs the step once. Each parameter is a dependency: the step
  of that name declared earlier in ``run()`` (the last declaration of a name wins), whose result
  is passed in; a dependency is run if it has not started, awaited if it is running and reused if
  it finished. ``ctx`` receives the step context as a dict (``attempt``, ``step.name``,
  ``step.count``, ``config``). Any other name raises :class:`~adapter.errors.WrongTypeError`.
* ``concurrent=True`` resolves the dependencies together (``asyncio.gather``) rather than one
  after the other.
* A step that succeeded keeps its result: awaiting it again returns it without a new step. A step
  that failed is not memoised: awaiting it again runs it again (a new step of the same name).
* A step that failed with a built-in exception raises a ``WorkflowStepError`` that is also that
  exception, named after it: ``except TypeError`` catches it, as in Cloudflare's SDK, which
  re-creates built-in errors (and only those) in ``run()``.
"""

from __future__ import annotations

import asyncio
import builtins
import contextvars
import functools
import inspect
from collections.abc import Awaitable, Callable, Generator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from .._shared.errors import StepConfigError, WorkflowStepError, WrongTypeError
from .._shared.types import StepContext
from .._shared.validation import quote, validate_step_name
from .callbacks import return_type

if TYPE_CHECKING:
    from .step import WorkflowStep

#: The keyword arguments that make ``step.do(...)`` the decorator form.
DECORATOR_KEYWORDS: Final = frozenset({"name", "concurrent", "config", "depends"})
CONTEXT_PARAMETER: Final = "ctx"
_SCOPE_ATTRIBUTE: Final = "_tempflare_decorated_steps"

#: The names of the decorated steps whose dependencies are being resolved, outermost first, in
#: the current task: a step that needs one of them is a cycle, which would wait forever.
_resolving: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar(
    "tempflare_resolving_steps", default=()
)


def is_decorator_call(args: Sequence[Any], kwargs: Mapping[str, Any]) -> bool:
    """Whether ``step.do(*args, **kwargs)`` asks for a decorator rather than running a step.

    The decorator form has no callback: ``do()``, ``do("name")``, ``do(name=..., concurrent=...,
    config=..., depends=...)``, the legacy positional ``do("name", [deps], concurrent, config)``,
    or a bare ``@step.do`` (the function itself as the only argument).
    """
    if DECORATOR_KEYWORDS & kwargs.keys():
        return True
    if len(args) <= 1:
        return True
    return isinstance(args[1], list | tuple)


def with_decorator_form(do: Callable[..., Any]) -> Callable[..., Any]:
    """Wraps ``WorkflowStep.do`` so that a call without a callback returns a decorator."""

    @functools.wraps(do)
    def dispatch(step: WorkflowStep, *args: Any, **kwargs: Any) -> Any:
        if is_decorator_call(args, kwargs):
            return step_decorator(step, *args, **kwargs)
        return do(step, *args, **kwargs)

    return dispatch


def step_decorator(step: WorkflowStep, *args: Any, **kwargs: Any) -> Any:
    """``step.do(...)`` without a callback: a :class:`StepDecorator`, or, for a bare
    ``@step.do``, the decorated step itself."""
    if len(args) == 1 and callable(args[0]) and not isinstance(args[0], str) and not kwargs:
        return StepDecorator(step)(args[0])
    names = ("name", "depends", "concurrent", "config")
    if len(args) > len(names):
        raise StepConfigError(
            f"step.do{quote(tuple(args))} takes at most {len(names)} positional arguments as a "
            "decorator: step.do(name, depends, concurrent, config); pass them by keyword."
        )
    given = dict(zip(names, args, strict=False))
    twice = sorted(given.keys() & kwargs.keys())
    if twice:
        raise StepConfigError(
            f"step.do got {twice} both by position and by keyword; give each once."
        )
    given.update(kwargs)
    return StepDecorator(step, **given)


class StepDecorator:
    """What ``step.do(name=None, *, concurrent=False, config=None)`` returns: apply it to a
    function to declare a step."""

    def __init__(
        self,
        step: WorkflowStep,
        name: str | None = None,
        depends: Sequence[DecoratedStep] | None = None,
        concurrent: bool = False,
        config: Any = None,
        **options: Any,
    ) -> None:
        if name is not None:
            validate_step_name(name)
        if not isinstance(concurrent, bool):
            raise WrongTypeError(
                f"step.do(concurrent={quote(concurrent)}) takes True or False (resolve the "
                "dependencies together, or one after the other)."
            )
        if depends is not None:
            if not isinstance(depends, list | tuple):
                raise WrongTypeError(
                    f"step.do(depends={quote(depends)}) takes a list of functions decorated with "
                    "step.do."
                )
            strays = [d for d in depends if not isinstance(d, DecoratedStep)]
            if strays:
                raise WrongTypeError(
                    f"step.do(depends=...) got {quote(strays)}, which is not a function decorated "
                    "with step.do; list the decorated steps themselves."
                )
        self._step = step
        self._name = name
        self._depends = None if depends is None else list(depends)
        self._concurrent = concurrent
        self._config = config
        self._options = options

    def __call__(self, func: Callable[..., Any]) -> DecoratedStep:
        if not callable(func):
            raise WrongTypeError(
                f"@step.do(...) decorates a function, got {quote(func)}; write @step.do(...) "
                "above an `async def` or a `def`."
            )
        name = self._name if self._name is not None else getattr(func, "__name__", None)
        if name is None:
            raise StepConfigError(
                f"{quote(func)} has no __name__ to name its step; pass step.do(name=...)."
            )
        validate_step_name(name)
        declared = DecoratedStep(
            self._step,
            func,
            name,
            config=self._config,
            concurrent=self._concurrent,
            depends=self._depends,
            options=self._options,
        )
        declared_steps(self._step)[name] = declared
        return declared

    def __await__(self) -> Generator[Any, None, Any]:
        raise StepConfigError(
            f"step.do({quote(self._name)}) without a callback is a decorator, not a step: write "
            "@step.do(...) above a function and await that function, or pass the callback: "
            "await step.do(name, callback)."
        )


class DecoratedStep:
    """A step declared with ``@step.do``: awaiting ``fn()`` runs it (once) and returns its
    result."""

    def __init__(
        self,
        step: WorkflowStep,
        func: Callable[..., Any],
        name: str,
        *,
        config: Any,
        concurrent: bool,
        depends: list[DecoratedStep] | None,
        options: Mapping[str, Any],
    ) -> None:
        self._step = step
        self._func = func
        self.step_name = name
        self._config = config
        self._concurrent = concurrent
        self._depends = depends
        self._options = dict(options)
        self._task: asyncio.Future[Any] | None = None
        self._done = False
        self._result: Any = None
        self.__wrapped__ = func
        self.__name__ = getattr(func, "__name__", name)
        self.__doc__ = getattr(func, "__doc__", None)

    def __repr__(self) -> str:
        return f"<step {self.step_name!r} declared with @step.do>"

    def __call__(self) -> Awaitable[Any]:
        return self._await()

    async def _await(self) -> Any:
        if self._done:
            return self._result
        chain = _resolving.get()
        if self.step_name in chain:
            cycle = " -> ".join([*chain[chain.index(self.step_name) :], self.step_name])
            raise WrongTypeError(
                f"Step {self.step_name!r} depends on itself ({cycle}); a step's parameters must "
                "name steps it needs, never one that needs it."
            )
        if self._task is None:
            task = asyncio.ensure_future(self._run())
            self._task = task
            task.add_done_callback(self._settle)
        return await self._task

    def _settle(self, task: asyncio.Future[Any]) -> None:
        if task.cancelled() or task.exception() is not None:
            self._task = None  # not memoised: awaiting it again runs it again
        else:
            self._result, self._done = task.result(), True

    async def _run(self) -> Any:
        token = _resolving.set((*_resolving.get(), self.step_name))
        try:
            wants = self._dependencies()
            deps = [w for w in wants if w is not None]
            if self._concurrent:
                values = list(await asyncio.gather(*(d() for d in deps)))
            else:
                values = [await d() for d in deps]
        finally:
            _resolving.reset(token)
        resolved = iter(values)
        slots = [None if w is None else next(resolved) for w in wants]
        context_at = [i for i, w in enumerate(wants) if w is None]
        params = inspect.signature(self._func).parameters.values()
        keywords = [p.name if p.kind == p.KEYWORD_ONLY else None for p in params]
        callback = _callback(self._func, slots, context_at, keywords)
        do: Callable[..., Awaitable[Any]] = self._step.do
        config = () if self._config is None else (self._config,)
        try:
            return await do(self.step_name, *config, callback, **self._options)
        except WorkflowStepError as err:
            builtin = _builtin_step_error(err.name) if type(err) is WorkflowStepError else None
            if builtin is None:
                raise
            raise builtin(
                err.message, name=err.name, step=err.step, attempts=err.attempts
            ) from None

    def _dependencies(self) -> list[DecoratedStep | None]:
        """One entry per parameter: the step it receives, or ``None`` for ``ctx``."""
        params = list(inspect.signature(self._func).parameters.values())
        if self._depends is None:
            declared = declared_steps(self._step)
            wants: list[DecoratedStep | None] = []
            for p in params:
                if p.name == CONTEXT_PARAMETER:
                    wants.append(None)
                elif p.name in declared and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                    wants.append(declared[p.name])
                else:
                    known = sorted(n for n in declared if n != self.step_name)
                    raise WrongTypeError(
                        f"Step {self.step_name!r} received unexpected parameter {p.name!r}: a "
                        "parameter must be `ctx` or the name of a step declared with @step.do "
                        f"before this one is awaited (declared: {known}); rename it, or declare "
                        "that step first."
                    )
            return wants
        others = [p for p in params if p.name != CONTEXT_PARAMETER]
        if len(others) != len(self._depends):
            raise WrongTypeError(
                f"Step {self.step_name!r} declares {len(others)} parameter(s) besides ctx "
                f"({[p.name for p in others]}) but depends= lists {len(self._depends)} step(s); "
                "give one parameter per dependency, in order."
            )
        listed = iter(self._depends)
        return [None if p.name == CONTEXT_PARAMETER else next(listed) for p in params]


@functools.cache
def _builtin_step_error(name: str) -> type[WorkflowStepError] | None:
    """For a step that failed with a built-in exception (``TypeError``, ``ValueError``...), a
    ``WorkflowStepError`` that is also that exception and carries its name, so ``except
    TypeError`` catches it as in Cloudflare's Python SDK, which re-creates built-in errors."""
    builtin = getattr(builtins, name, None)
    if not isinstance(builtin, type) or not issubclass(builtin, Exception):
        return None
    try:
        made: type[WorkflowStepError] = type(
            name,
            (WorkflowStepError, builtin),
            {"__module__": __name__, "__doc__": f"A step failed with {name}."},
        )
    except TypeError:  # a built-in whose layout cannot be combined (OSError and its kin)
        return None
    return made


def declared_steps(step: WorkflowStep) -> dict[str, DecoratedStep]:
    """The steps declared with ``@step.do`` in this run, by step name (last declaration wins)."""
    scope: dict[str, DecoratedStep] = vars(step).setdefault(_SCOPE_ATTRIBUTE, {})
    return scope


def context_dict(ctx: StepContext) -> dict[str, Any]:
    """The step context as Cloudflare's Python SDK hands it to a step: a dict."""
    return {
        "attempt": ctx.attempt,
        "step": {"name": ctx.step.name, "count": ctx.step.count},
        "config": dict(ctx.config),
    }


def _callback(
    func: Callable[..., Any], slots: list[Any], context_at: list[int], keywords: list[str | None]
) -> Callable[[StepContext], Any]:
    """The ``step.do`` callback that calls ``func`` with its dependencies' results (``slots``,
    one per parameter) and, at the positions ``context_at``, the step context as a dict.
    Parameters named in ``keywords`` (keyword-only ones) are passed by name.

    Sync stays sync (so it runs in a worker thread) and async stays async; the function's return
    annotation is kept, so its result decodes to that type.
    """

    def arguments(ctx: StepContext) -> tuple[list[Any], dict[str, Any]]:
        values = list(slots)
        for i in context_at:
            values[i] = context_dict(ctx)
        positional = [v for v, k in zip(values, keywords, strict=True) if k is None]
        named = {k: v for v, k in zip(values, keywords, strict=True) if k is not None}
        return positional, named

    callback: Callable[[StepContext], Any]
    if inspect.iscoroutinefunction(func):

        async def run_async(ctx: StepContext) -> Any:
            args, kwargs = arguments(ctx)
            return await func(*args, **kwargs)

        callback = run_async
    else:

        def run_sync(ctx: StepContext) -> Any:
            args, kwargs = arguments(ctx)
            return func(*args, **kwargs)

        callback = run_sync
    hint = return_type(func)
    callback.__annotations__ = {"ctx": StepContext} | ({} if hint is None else {"return": hint})
    callback.__qualname__ = getattr(func, "__qualname__", callback.__qualname__)
    return callback


__all__ = [
    "DecoratedStep",
    "StepDecorator",
    "context_dict",
    "is_decorator_call",
    "step_decorator",
    "with_decorator_form",
]
