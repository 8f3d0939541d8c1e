"""The public surface is frozen, every public name lives in the layer it belongs to, imports between
adapter's layers go one way, every module says what it is for, and every Cloudflare name has its
camelCase alias."""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import adapter
import adapter.testing

ADAPTER = Path(adapter.__file__).parent

#: Every public name of ``adapter`` and the private package that defines it.
PUBLIC = {
    "BatchItemError": "adapter._client",
    "CreateBatchResult": "adapter._client",
    "ConnectionConfigError": "adapter._shared",
    "Durability": None,  # a type alias
    "Duration": None,  # a type alias
    "EncryptionCodec": "adapter._shared",
    "ErrorInfo": "adapter._shared",
    "InstanceAlreadyExistsError": "adapter._shared",
    "InstanceFinishedError": "adapter._shared",
    "InstanceNotFoundError": "adapter._shared",
    "InstanceEvent": "adapter._shared",
    "InstanceStatus": "adapter._shared",
    "InstanceStatusDetails": "adapter._shared",
    "InvalidDurationError": "adapter._shared",
    "InvalidEventTypeError": "adapter._shared",
    "InvalidInstanceIdError": "adapter._shared",
    "InvalidParamsError": "adapter._shared",
    "InvalidValueError": "adapter._shared",
    "NonRetryableError": "adapter._shared",
    "RetryConfig": "adapter._shared",
    "ScheduleInfo": "adapter._shared",
    "StepConfig": "adapter._shared",
    "StepConfigError": "adapter._shared",
    "StepContext": "adapter._shared",
    "SensitiveOutputCodec": "adapter._shared",
    "StepAttemptRecord": "adapter._shared",
    "StepInfo": "adapter._shared",
    "StepRecord": "adapter._shared",
    "StepNotFoundError": "adapter._shared",
    "TempflareClientError": "adapter._shared",
    "TempflareError": "adapter._shared",
    "TemporalConnectionError": "adapter._shared",
    "Workflow": "adapter._client",
    "WorkflowEntrypoint": "adapter._shared",
    "WorkflowEvent": "adapter._shared",
    "WorkflowFatalError": "adapter._shared",
    "WorkflowInstance": "adapter._client",
    "WorkflowLogger": "adapter._workflow",
    "WorkflowStep": "adapter._workflow",
    "WorkflowStepError": "adapter._shared",
    "WorkflowStepEvent": "adapter._shared",
    "WorkflowTerminatedError": "adapter._shared",
    "WorkflowTimeoutError": "adapter._shared",
    "WrongTypeError": "adapter._shared",
    "connect": "adapter._client",
    "create_worker": "adapter._worker",
    "ensure_search_attributes": "adapter._worker",
    "get_logger": "adapter._workflow",
    "parse_duration": "adapter._shared",
}

TESTING_PUBLIC = [
    "IntrospectionError",
    "WorkflowInstanceIntrospector",
    "WorkflowInstanceModifier",
    "WorkflowIntrospector",
    "introspectWorkflow",
    "introspectWorkflowInstance",
    "introspect_workflow",
    "introspect_workflow_instance",
]

#: Cloudflare's Python SDK surface: ``adapter.workers`` (``workers``) and its ``workflows``.
WORKERS_PUBLIC = {
    "adapter.workers": ["WorkflowEntrypoint", "WorkflowStep", "event_dict", "step_event_dict"],
    "adapter.workers.workflows": [
        "NonRetryableError",
        "Workflow",
        "WorkflowInstance",
        "status_dict",
    ],
}

#: What each layer may import from the rest of adapter (at run time; ``TYPE_CHECKING`` aside).
ALLOWED = {
    "adapter._shared": {"adapter._shared"},
    "adapter._workflow": {"adapter._shared", "adapter._workflow"},
    "adapter._worker": {"adapter._shared", "adapter._workflow", "adapter._worker"},
    "adapter._client": {"adapter._shared", "adapter._client"},
    "adapter.bindings": {"adapter._shared", "adapter.bindings"},
    "adapter.devserver": {"adapter._shared", "adapter._client", "adapter.devserver"},
    "adapter.workers": {
        "adapter._shared",
        "adapter._workflow",
        "adapter._client",
        "adapter.workers",
    },
    "adapter.cli": {
        "adapter._shared",
        "adapter._client",
        "adapter._worker",
        "adapter.devserver",
        "adapter.cli",
    },
}


def _modules() -> list[str]:
    names = ["adapter"]
    for info in pkgutil.walk_packages([str(ADAPTER)], prefix="adapter."):
        names.append(info.name)
    return sorted(names)


def test_adapter_all_is_frozen() -> None:
    assert sorted(adapter.__all__) == sorted(PUBLIC)


def test_adapter_testing_all_is_frozen() -> None:
    assert sorted(adapter.testing.__all__) == sorted(TESTING_PUBLIC)


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_each_public_name_comes_from_its_layer(name: str) -> None:
    value = getattr(adapter, name)
    layer = PUBLIC[name]
    if layer is None:
        return  # a type alias has no module of its own
    assert value.__module__.startswith(layer + "."), value.__module__


@pytest.mark.parametrize("module", sorted(WORKERS_PUBLIC))
def test_the_python_sdk_surface_is_frozen(module: str) -> None:
    assert sorted(importlib.import_module(module).__all__) == sorted(WORKERS_PUBLIC[module])


def test_public_names_of_testing_are_defined_in_adapter_testing() -> None:
    for name in TESTING_PUBLIC:
        assert getattr(adapter.testing, name).__module__.startswith("adapter.testing")


def test_one_exception_root() -> None:
    """Every exception class adapter defines derives from TempflareError."""
    errors = []
    for module_name in _modules():
        module = importlib.import_module(module_name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if (
                value.__module__ == module_name
                and issubclass(value, BaseException)
                and not value.__name__.startswith("_")
            ):
                errors.append(value)
    assert len(errors) > 15
    strays = [e.__qualname__ for e in errors if not issubclass(e, adapter.TempflareError)]
    assert strays == []


def test_every_module_says_what_it_is_for() -> None:
    missing = [
        name for name in _modules() if not (importlib.import_module(name).__doc__ or "").strip()
    ]
    assert missing == []


def _runtime_imports(path: Path, module_name: str) -> set[str]:
    """The adapter modules a file imports, outside ``if TYPE_CHECKING:`` blocks."""
    tree = ast.parse(path.read_text())
    package = module_name if path.name == "__init__.py" else module_name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for orelse in child.orelse:
                    visit(orelse)
                continue
            if isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")
                    base = base[: len(base) - (child.level - 1)]
                    target = ".".join([*base, *([child.module] if child.module else [])])
                else:
                    target = child.module or ""
                found.add(target)
            elif isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            visit(child)

    visit(tree)
    return {name for name in found if name == "adapter" or name.startswith("adapter.")}


def _layer(module: str) -> str | None:
    for layer in ALLOWED:
        if module == layer or module.startswith(layer + "."):
            return layer
    return None


def test_imports_between_layers_go_one_way() -> None:
    wrong = []
    checked = 0
    for path in sorted(ADAPTER.rglob("*.py")):
        parts = path.relative_to(ADAPTER.parent).with_suffix("").parts
        module_name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        layer = _layer(module_name)
        if layer is None:
            continue  # adapter/__init__.py and adapter.testing sit on top of everything
        checked += 1
        for target in _runtime_imports(path, module_name):
            target_layer = _layer(target)
            if target_layer not in ALLOWED[layer]:
                wrong.append(f"{module_name} imports {target}")
    assert checked > 20
    assert wrong == []


def test_the_direction_check_sees_a_wrong_import(tmp_path: Path) -> None:
    """The checker itself: an import from the worker side in workflow code is found."""
    bad = tmp_path / "step.py"
    bad.write_text(
        "from typing import TYPE_CHECKING\n"
        "from .._worker.activity import x\n"
        "if TYPE_CHECKING:\n    from .._client.client import y\n"
    )
    assert _runtime_imports(bad, "adapter._workflow.step") == {"adapter._worker.activity"}


#: Cloudflare's camelCase names, where tempflare's own name is snake_case.
CAMEL_ALIASES = [
    (adapter.WorkflowStep, "sleepUntil", "sleep_until"),
    (adapter.WorkflowStep, "waitForEvent", "wait_for_event"),
    (adapter.Workflow, "createBatch", "create_batch"),
    (adapter.Workflow, "deleteBatch", "delete_batch"),
    (adapter.Workflow, "setSchedules", "set_schedules"),
    (adapter.Workflow, "getSchedules", "get_schedules"),
    (adapter.ScheduleInfo, "scheduledTime", "scheduled_time"),
    (adapter.WorkflowInstance, "sendEvent", "send_event"),
    (adapter.WorkflowEvent, "instanceId", "instance_id"),
    (adapter.WorkflowEvent, "workflowName", "workflow_name"),
    (adapter.testing, "introspectWorkflowInstance", "introspect_workflow_instance"),
    (adapter.testing, "introspectWorkflow", "introspect_workflow"),
    (adapter.testing.WorkflowInstanceModifier, "disableSleeps", "disable_sleeps"),
    (adapter.testing.WorkflowInstanceModifier, "disableRetryDelays", "disable_retry_delays"),
    (adapter.testing.WorkflowInstanceModifier, "mockStepResult", "mock_step_result"),
    (adapter.testing.WorkflowInstanceModifier, "mockStepError", "mock_step_error"),
    (adapter.testing.WorkflowInstanceModifier, "forceStepTimeout", "force_step_timeout"),
    (adapter.testing.WorkflowInstanceModifier, "mockEvent", "mock_event"),
    (adapter.testing.WorkflowInstanceModifier, "forceEventTimeout", "force_event_timeout"),
    (adapter.testing.WorkflowInstanceIntrospector, "waitForStepResult", "wait_for_step_result"),
    (adapter.testing.WorkflowInstanceIntrospector, "waitForStatus", "wait_for_status"),
    (adapter.testing.WorkflowInstanceIntrospector, "getOutput", "get_output"),
    (adapter.testing.WorkflowInstanceIntrospector, "getError", "get_error"),
    (adapter.testing.WorkflowIntrospector, "modifyAll", "modify_all"),
]


@pytest.mark.parametrize(("owner", "camel", "snake"), CAMEL_ALIASES)
def test_every_cloudflare_name_has_its_camel_case_alias(
    owner: object, camel: str, snake: str
) -> None:
    alias = inspect.getattr_static(owner, camel)
    if isinstance(alias, property):  # a dataclass field: the property reads it
        assert isinstance(owner, type)
        assert snake in {f.name for f in dataclasses.fields(owner)}
        instance = owner(**{f.name: f.name for f in dataclasses.fields(owner)})
        assert getattr(instance, camel) == snake
    else:
        assert alias is inspect.getattr_static(owner, snake)


def test_no_other_camel_case_name_lacks_its_snake_case_original() -> None:
    """Any camelCase attribute on a public class is an alias of a snake_case one."""
    owners = [getattr(adapter, n) for n in adapter.__all__ if inspect.isclass(getattr(adapter, n))]
    owners += [
        adapter.testing.WorkflowInstanceIntrospector,
        adapter.testing.WorkflowInstanceModifier,
        adapter.testing.WorkflowIntrospector,
    ]
    for owner in owners:
        for name in vars(owner):
            if name[0].islower() and any(c.isupper() for c in name) and not name.startswith("_"):
                snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in name)
                assert (owner, name, snake) in CAMEL_ALIASES, f"{owner.__qualname__}.{name}"
