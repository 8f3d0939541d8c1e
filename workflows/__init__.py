"""Ported Cloudflare workflows, grouped by pattern in sub-packages (see ``workflows/README.md``).

:func:`discover_workflows` walks every sub-package; modules and packages whose name starts with
``_`` (shared plumbing such as ``_shared_env``) are skipped. Each example module defines one or
more ``WorkflowEntrypoint`` subclasses and, for the worker and the main job, may define:

* ``make_env(data_dir, client, task_queue)``: the env object its workflows get as ``self.env`` in
  a worker (``worker.py``, the Docker image); it must not start stand-in services;
* ``make_demo_env(data_dir, client, task_queue)``: the env of the main job's demo runs, which may
  start local stand-ins for external services (default: ``make_env``; looked up in the module,
  then in the module that defines its ``make_env``, so a re-exported ``make_env`` brings its
  demo env along);
* ``ACTIVITIES``: registered ``@activity.defn`` functions its steps call as regular activities;
* ``EXAMPLE_PARAMS``, ``EXPECTED_STATUS``, ``EVENTS``: one demo run of its main workflow (the
  first class defined in the module, or ``DEMO_WORKFLOW``).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from adapter import WorkflowEntrypoint


@dataclass(frozen=True)
class PortedWorkflow:
    """One workflow class found in ``workflows/`` and what the worker needs to run it."""

    workflow: type[WorkflowEntrypoint[Any, Any]]
    module: ModuleType
    is_demo: bool
    activities: Sequence[Callable[..., Any]] = field(default_factory=tuple)

    def make_env(self, data_dir: Path, client: Any, task_queue: str, *, demo: bool = False) -> Any:
        """Builds this workflow's env from its module's ``make_env`` (or, with ``demo``, its
        ``make_demo_env``), if it has one."""
        factory = getattr(self.module, "make_env", None)
        if demo:
            homes = [self.module]
            if factory is not None and factory.__module__ in sys.modules:
                homes.append(sys.modules[factory.__module__])
            factory = next(
                (h.make_demo_env for h in homes if hasattr(h, "make_demo_env")),
                factory,
            )
        return factory(data_dir, client, task_queue) if factory else None


def _module_names(path: Sequence[str], prefix: str) -> list[str]:
    """The dotted names of the public modules under ``path``, sub-packages included, sorted.

    Like ``pkgutil.walk_packages``, but a module or package whose name starts with ``_`` is
    skipped without being imported, and a package that fails to import raises.
    """
    names: list[str] = []
    for info in sorted(pkgutil.iter_modules(path), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        name = f"{prefix}{info.name}"
        if info.ispkg:
            names += _module_names(importlib.import_module(name).__path__, f"{name}.")
        else:
            names.append(name)
    return names


def _workflow_modules() -> list[ModuleType]:
    return [importlib.import_module(name) for name in _module_names(__path__, f"{__name__}.")]


def example_name(module: ModuleType) -> str:
    """A module's dotted name below this package, e.g. ``human_in_the_loop.approval_by_polling``."""
    return module.__name__.removeprefix(f"{__name__}.")


def discover_workflows() -> list[PortedWorkflow]:
    """Every ``WorkflowEntrypoint`` subclass defined in a public module of this package or of
    one of its sub-packages."""
    found: list[PortedWorkflow] = []
    for module in _workflow_modules():
        # In definition order: a module's namespace keeps the order its classes were defined in.
        classes = list(
            dict.fromkeys(
                obj
                for obj in vars(module).values()
                if inspect.isclass(obj)
                and issubclass(obj, WorkflowEntrypoint)
                and obj is not WorkflowEntrypoint
                and obj.__module__ == module.__name__
            )
        )
        demo = getattr(module, "DEMO_WORKFLOW", classes[0] if classes else None)
        activities = tuple(getattr(module, "ACTIVITIES", ()))
        found += [PortedWorkflow(c, module, c is demo, activities) for c in classes]
    return found
