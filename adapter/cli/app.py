"""``tempflare``: operate tempflare workflows from a shell, the way ``wrangler workflows`` does.

Commands::

    tempflare dev [MODULE|FOLDER]              dev server + Web UI + a worker for the workflows
    tempflare workflows list | describe NAME
    tempflare instances list NAME [--status S]
    tempflare instances describe NAME ID|latest [--step-output]
    tempflare instances trigger NAME [PARAMS] [--id ID] [--count N]
    tempflare instances send-event NAME ID TYPE [PAYLOAD]
    tempflare instances pause | resume | delete NAME ID|latest
    tempflare instances terminate NAME ID|latest [--rollback]
    tempflare instances restart NAME ID|latest [--from-step-name N --from-step-count C
                                                 --from-step-type T]
    tempflare instances terminate-all NAME [--status S]
    tempflare codec-server [--port 8081] [--origin URL]

Every command takes ``--json`` and the connection options of the ``temporal`` CLI
(``--address``, ``--namespace``, ``--profile``, ``--api-key``, ``--tls``, ``--tls-cert-path``,
``--tls-key-path``, ``--tls-ca-path``, ``--tls-server-name``); unset, they come from the
``TEMPORAL_*`` environment variables and the envconfig profile (:func:`adapter.connect`).
Payloads are encrypted/decrypted when ``TEMPFLARE_ENCRYPTION_KEY(_FILE)`` is set.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import importlib.util
import inspect
import json
import os
import pkgutil
import signal
import sys
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.client import Client, TLSConfig, WorkflowExecutionDescription
from temporalio.common import SearchAttributeKey

from .._client.client import Workflow, WorkflowInstance, map_status
from .._client.connection import connect
from .._shared.constants import DEFAULT_TASK_QUEUE, STATUS_SEARCH_ATTRIBUTE
from .._shared.entrypoint import WorkflowEntrypoint
from .._shared.errors import InstanceNotFoundError, InvalidValueError, TempflareError
from .._shared.types import InstanceStatus, StepRecord
from .steps import REDACTED, row_json

_T = TypeVar("_T")
_STATUS_KEY = SearchAttributeKey.for_keyword(STATUS_SEARCH_ATTRIBUTE)
_STATUSES = [s.value for s in InstanceStatus]
console = Console(highlight=False)


# --------------------------------------------------------------------------------------------
# Shared options, connection, output
# --------------------------------------------------------------------------------------------

_CONNECTION_OPTIONS = [
    click.option("--address", help="host:port of the Temporal frontend [$TEMPORAL_ADDRESS]."),
    click.option("--namespace", "-n", help="Namespace [$TEMPORAL_NAMESPACE, else default]."),
    click.option("--profile", help="envconfig profile of the Temporal config file."),
    click.option("--api-key", help="API key, e.g. for Temporal Cloud [$TEMPORAL_API_KEY]."),
    click.option("--tls", is_flag=True, default=None, help="Connect with TLS."),
    click.option("--tls-cert-path", type=click.Path(dir_okay=False), help="Client certificate."),
    click.option("--tls-key-path", type=click.Path(dir_okay=False), help="Client private key."),
    click.option("--tls-ca-path", type=click.Path(dir_okay=False), help="Server CA certificate."),
    click.option("--tls-server-name", help="Server name to verify the certificate against."),
    click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables."),
]
_CONNECTION_KEYS = (
    "address",
    "namespace",
    "profile",
    "api_key",
    "tls",
    "tls_cert_path",
    "tls_key_path",
    "tls_ca_path",
    "tls_server_name",
)


def _connection_options(f: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(_CONNECTION_OPTIONS):
        f = option(f)
    return f


async def _connect(options: dict[str, Any]) -> Client:
    """A client from the command's connection options over envconfig (see module doc)."""
    extra: dict[str, Any] = {}
    if options.get("api_key"):
        extra["api_key"] = options["api_key"]
    paths = {k: options.get(k) for k in ("tls_cert_path", "tls_key_path", "tls_ca_path")}
    if any(paths.values()) or options.get("tls_server_name"):

        def read(key: str) -> bytes | None:
            path = paths.get(key)
            return Path(path).expanduser().read_bytes() if path else None

        extra["tls"] = TLSConfig(
            client_cert=read("tls_cert_path"),
            client_private_key=read("tls_key_path"),
            server_root_ca_cert=read("tls_ca_path"),
            domain=options.get("tls_server_name"),
        )
    elif options.get("tls"):
        extra["tls"] = True
    return await connect(
        options.get("address"),
        namespace=options.get("namespace"),
        profile=options.get("profile"),
        **extra,
    )


def _command(f: Callable[..., Awaitable[Any]]) -> Callable[..., None]:
    """Runs an async command with a connected client; errors print as one line (or JSON)."""

    @functools.wraps(f)
    def wrapper(**kwargs: Any) -> None:
        as_json = kwargs.pop("as_json", False)
        options = {k: kwargs.pop(k, None) for k in _CONNECTION_KEYS}

        async def run() -> Any:
            client = await _connect(options)
            return await f(client, as_json=as_json, **kwargs)

        try:
            asyncio.run(run())
        except (TempflareError, ValueError, OSError) as err:
            _fail(err, as_json)
        _exit(0)

    return _connection_options(wrapper)


def _exit(code: int) -> NoReturn:
    """Ends the process now: the SDK's Rust runtime threads can abort an interpreter that
    finalizes while they still hold a client (``PyGILState_Release`` at shutdown)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _fail(err: BaseException, as_json: bool) -> NoReturn:
    if as_json:
        click.echo(json.dumps({"error": {"name": type(err).__name__, "message": str(err)}}))
    else:
        console.print(f"[bold red]Error:[/] {type(err).__name__}: {err}", soft_wrap=True)
    _exit(1)


def _print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, default=str))


def _params(text: str | None, what: str) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise InvalidValueError(
            f"{what} {text!r} is not JSON ({err.msg}). Quote it for the shell, e.g. "
            "'{\"order\": 1}'."
        ) from None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _short(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if value else "-"


def _clock(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%H:%M:%S.%f")[:-3] if value else "-"


def _cell(value: Any, width: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= width else text[: width - 1] + "…"


def _status_of(execution: Any) -> InstanceStatus:
    try:
        return map_status(execution.status, execution.typed_search_attributes.get(_STATUS_KEY))
    except ValueError:
        return InstanceStatus.UNKNOWN


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


async def _executions(
    client: Client, workflow: str | None = None, limit: int | None = None
) -> list[Any]:
    query = f"WorkflowType = {_quote(workflow)}" if workflow else None
    return [e async for e in client.list_workflows(query, limit=limit)]


async def _resolve(client: Client, workflow: str, instance_id: str) -> WorkflowInstance:
    """The instance ``instance_id`` of ``workflow``; ``latest`` is the newest one."""
    if instance_id == "latest":
        newest = await _executions(client, workflow, limit=1)
        if not newest:
            raise InstanceNotFoundError(f"latest (workflow {workflow!r} has no instance)")
        instance_id = newest[0].id
    try:
        description = await client.get_workflow_handle(instance_id).describe()
    except Exception as err:
        if "not found" in str(err).lower():
            raise InstanceNotFoundError(instance_id) from None
        raise
    if description.workflow_type != workflow:
        raise InvalidValueError(
            f"Instance {instance_id!r} belongs to workflow {description.workflow_type!r}, not "
            f"{workflow!r}. Name its own workflow, or list {workflow!r}'s instances with "
            f"`tempflare instances list {workflow}`."
        )
    return WorkflowInstance(client, instance_id)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
    )


async def _each(
    items: list[_T], action: Callable[[_T], Awaitable[Any]], label: str, show: bool
) -> list[Any]:
    """``action`` on every item, 10 at a time, with a progress bar on stderr when ``show``."""
    results: list[Any] = [None] * len(items)
    limit = asyncio.Semaphore(10)
    with _progress() if show else _NoProgress() as progress:
        task = progress.add_task(label, total=len(items))

        async def one(index: int, item: _T) -> None:
            async with limit:
                try:
                    results[index] = await action(item)
                except Exception as err:
                    results[index] = err
                progress.advance(task)

        await asyncio.gather(*(one(i, item) for i, item in enumerate(items)))
    return results


class _NoProgress:
    def __enter__(self) -> _NoProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def add_task(self, *args: Any, **kwargs: Any) -> TaskID:
        return TaskID(0)

    def advance(self, *args: Any) -> None:
        return None


# --------------------------------------------------------------------------------------------
# The command tree
# --------------------------------------------------------------------------------------------


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tempflare")
def cli() -> None:
    """Operate tempflare workflows on Temporal, like `wrangler workflows`."""


@cli.group()
def workflows() -> None:
    """Workflows that have instances on the server."""


@workflows.command("list")
@_command
async def workflows_list(client: Client, *, as_json: bool) -> None:
    """Every workflow with instances: counts and the newest start."""
    summary: dict[str, dict[str, Any]] = {}
    for execution in await _executions(client):
        row = summary.setdefault(
            execution.workflow_type,
            {"name": execution.workflow_type, "instances": 0, "live": 0, "latest": None},
        )
        row["instances"] += 1
        row["live"] += not _status_of(execution).is_final
        if row["latest"] is None or execution.start_time > row["latest"]:
            row["latest"] = execution.start_time
    rows = sorted(summary.values(), key=lambda r: r["name"])
    if as_json:
        _print_json([{**r, "latest": _iso(r["latest"])} for r in rows])
        return
    table = Table(title=f"Workflows in namespace {client.namespace}")
    for column in ("Name", "Instances", "Live", "Latest start (UTC)"):
        table.add_column(column)
    for r in rows:
        table.add_row(r["name"], str(r["instances"]), str(r["live"]), _short(r["latest"]))
    console.print(table)


@workflows.command("describe")
@click.argument("name")
@_command
async def workflows_describe(client: Client, *, name: str, as_json: bool) -> None:
    """One workflow: instances per status, task queue, newest instance."""
    executions = await _executions(client, name)
    if not executions:
        raise InvalidValueError(
            f"Workflow {name!r} has no instance in namespace {client.namespace!r}. "
            "`tempflare workflows list` shows the workflows that have some."
        )
    counts = {s: 0 for s in _STATUSES}
    for execution in executions:
        counts[_status_of(execution).value] += 1
    newest = max(executions, key=lambda e: e.start_time)
    document = {
        "name": name,
        "namespace": client.namespace,
        "task_queue": newest.task_queue,
        "instances": len(executions),
        "statuses": {k: v for k, v in counts.items() if v},
        "latest": {"id": newest.id, "created": _iso(newest.start_time)},
    }
    if as_json:
        _print_json(document)
        return
    table = Table(title=f"Workflow {name}", show_header=False)
    table.add_row("Namespace", client.namespace)
    table.add_row("Task queue", newest.task_queue)
    table.add_row("Instances", str(len(executions)))
    for status, count in document["statuses"].items():
        table.add_row(f"  {status}", str(count))
    table.add_row("Latest", f"{newest.id} ({_short(newest.start_time)})")
    console.print(table)


@cli.group()
def instances() -> None:
    """Instances of one workflow."""


@instances.command("list")
@click.argument("workflow")
@click.option("--status", "statuses", multiple=True, type=click.Choice(_STATUSES))
@click.option("--limit", type=int, default=100, show_default=True)
@_command
async def instances_list(
    client: Client, *, workflow: str, statuses: tuple[str, ...], limit: int, as_json: bool
) -> None:
    """Instances of WORKFLOW, newest first, optionally only those with a --status."""
    rows = []
    for execution in await _executions(client, workflow):
        status = _status_of(execution)
        if statuses and status.value not in statuses:
            continue
        rows.append((execution, status))
        if len(rows) >= limit:
            break
    if as_json:
        _print_json(
            [
                {
                    "id": e.id,
                    "status": s.value,
                    "created": _iso(e.start_time),
                    "ended": _iso(e.close_time),
                }
                for e, s in rows
            ]
        )
        return
    table = Table(title=f"Instances of {workflow}")
    for column in ("Id", "Status", "Created (UTC)", "Ended (UTC)"):
        table.add_column(column)
    for e, s in rows:
        table.add_row(e.id, s.value, _short(e.start_time), _short(e.close_time))
    console.print(table)


@instances.command("describe")
@click.argument("workflow")
@click.argument("instance_id", metavar="ID|latest")
@click.option("--step-output", is_flag=True, help="Show each step's output.")
@_command
async def instances_describe(
    client: Client, *, workflow: str, instance_id: str, step_output: bool, as_json: bool
) -> None:
    """One instance: status, output or error, and its table of steps."""
    instance = await _resolve(client, workflow, instance_id)
    description: WorkflowExecutionDescription = await instance.handle.describe()
    status = await instance.status()
    records = await instance.steps()
    document = {
        "id": instance.id,
        "workflow": workflow,
        "status": status.status.value,
        "created": _iso(description.start_time),
        "ended": _iso(description.close_time),
        "output": status.output,
        "error": status.error.model_dump() if status.error else None,
        "steps": [row_json(r, status.status, step_output) for r in records],
    }
    if as_json:
        _print_json(document)
        return
    head = Table(show_header=False, title=f"{workflow} instance {instance.id}")
    head.add_row("Status", status.status.value)
    head.add_row("Created (UTC)", _short(description.start_time))
    head.add_row("Ended (UTC)", _short(description.close_time))
    if status.error:
        head.add_row("Error", f"{status.error.name}: {status.error.message}")
    if status.output is not None:
        head.add_row("Output", _cell(status.output, 100))
    console.print(head)
    console.print(_steps_table(records, status.status, step_output))


def _steps_table(records: Iterable[StepRecord], status: InstanceStatus, step_output: bool) -> Table:
    table = Table(title="Steps (times UTC)")
    columns = ["Type", "Name", "Count", "Attempts", "Start", "End", "Duration"]
    for column in [*columns, "Outcome", *(["Output"] if step_output else [])]:
        table.add_column(column, no_wrap=column not in ("Name", "Output"))
    for record in records:
        r = row_json(record, status, step_output)
        duration = "-" if r["duration_s"] is None else f"{r['duration_s']:.3f}s"
        cells = [r["type"], r["name"], str(r["count"]), str(r["attempts"])]
        outcome = f"{r['outcome']} ({_cell(r['error'], 40)})" if "error" in r else r["outcome"]
        cells += [_clock(record.start), _clock(record.end), duration, outcome]
        if step_output:
            output = REDACTED if record.output_redacted else record.output
            cells.append("-" if output is None else _cell(output))
        table.add_row(*cells)
    return table


@instances.command("trigger")
@click.argument("workflow")
@click.argument("params", required=False)
@click.option("--id", "instance_id", help="Instance id (default: a new UUID).")
@click.option("--count", type=click.IntRange(1, 100), default=1, help="Start this many.")
@click.option("--task-queue", default=DEFAULT_TASK_QUEUE, show_default=True)
@_command
async def instances_trigger(
    client: Client,
    *,
    workflow: str,
    params: str | None,
    instance_id: str | None,
    count: int,
    task_queue: str,
    as_json: bool,
) -> None:
    """Start instance(s) of WORKFLOW with PARAMS (JSON)."""
    binding: Workflow[Any] = Workflow(client, workflow, task_queue=task_queue)
    value = _params(params, "PARAMS")
    if count == 1:
        created = [await binding.create({"id": instance_id, "params": value})]
    else:
        if instance_id:
            raise InvalidValueError("--id names one instance; leave it out with --count > 1.")
        started = await _each(
            list(range(count)),
            lambda _: binding.create({"params": value}),
            f"Starting {count} instances of {workflow}",
            show=not as_json,
        )
        errors = [r for r in started if isinstance(r, Exception)]
        if errors:
            raise errors[0]
        created = started
    if as_json:
        _print_json([{"id": i.id, "workflow": workflow} for i in created])
    else:
        for i in created:
            console.print(f"Started {workflow} instance [bold]{i.id}[/]")


@instances.command("send-event")
@click.argument("workflow")
@click.argument("instance_id", metavar="ID|latest")
@click.argument("event_type", metavar="TYPE")
@click.argument("payload", required=False)
@_command
async def instances_send_event(
    client: Client,
    *,
    workflow: str,
    instance_id: str,
    event_type: str,
    payload: str | None,
    as_json: bool,
) -> None:
    """Send an event of TYPE with PAYLOAD (JSON) to an instance."""
    instance = await _resolve(client, workflow, instance_id)
    await instance.send_event(event_type, _params(payload, "PAYLOAD"))
    _done(as_json, instance, f"sent event {event_type!r} to")


def _done(as_json: bool, instance: WorkflowInstance, what: str) -> None:
    if as_json:
        _print_json({"id": instance.id, "ok": True})
    else:
        console.print(f"{what.capitalize()} instance [bold]{instance.id}[/]")


def _simple(name: str, verb: str, help_text: str) -> None:
    @instances.command(name, help=help_text)
    @click.argument("workflow")
    @click.argument("instance_id", metavar="ID|latest")
    @_command
    async def command(client: Client, *, workflow: str, instance_id: str, as_json: bool) -> None:
        instance = await _resolve(client, workflow, instance_id)
        if name == "delete":
            await _delete(client, instance)
        else:
            await getattr(instance, name)()
        _done(as_json, instance, verb)


async def _delete(client: Client, instance: WorkflowInstance) -> None:
    delete = getattr(instance, "delete", None)
    if delete is not None:
        await delete()
        return
    await client.workflow_service.delete_workflow_execution(
        DeleteWorkflowExecutionRequest(
            namespace=client.namespace,
            workflow_execution=WorkflowExecution(workflow_id=instance.id),
        )
    )


_simple("pause", "paused", "Pause an instance (in-flight steps finish first).")
_simple("resume", "resumed", "Resume a paused instance.")
_simple("delete", "deleted", "Delete an instance and its history.")


@instances.command("terminate")
@click.argument("workflow")
@click.argument("instance_id", metavar="ID|latest")
@click.option(
    "--rollback",
    is_flag=True,
    help="Run the rollbacks of its completed steps first (status rollingBack; needs a worker).",
)
@_command
async def instances_terminate(
    client: Client, *, workflow: str, instance_id: str, rollback: bool, as_json: bool
) -> None:
    """Terminate an instance: at once, or after its rollbacks with --rollback."""
    instance = await _resolve(client, workflow, instance_id)
    await instance.terminate(rollback=rollback)
    _done(as_json, instance, "terminating (rollbacks first)" if rollback else "terminated")


@instances.command("restart")
@click.argument("workflow")
@click.argument("instance_id", metavar="ID|latest")
@click.option("--from-step-name", help="Restart from this step; earlier steps keep results.")
@click.option("--from-step-count", type=int, help="Which call of that name (default 1).")
@click.option("--from-step-type", type=click.Choice(["do", "sleep", "waitForEvent"]))
@_command
async def instances_restart(
    client: Client,
    *,
    workflow: str,
    instance_id: str,
    from_step_name: str | None,
    from_step_count: int | None,
    from_step_type: str | None,
    as_json: bool,
) -> None:
    """Restart an instance from the start, or from a step."""
    instance = await _resolve(client, workflow, instance_id)
    from_step: dict[str, Any] | None = None
    if from_step_name:
        from_step = {"name": from_step_name}
        if from_step_count is not None:
            from_step["count"] = from_step_count
        if from_step_type:
            from_step["type"] = from_step_type
    elif from_step_count is not None or from_step_type:
        raise InvalidValueError("--from-step-count/--from-step-type need --from-step-name.")
    await instance.restart(from_step)
    _done(as_json, instance, "restarted")


@instances.command("terminate-all")
@click.argument("workflow")
@click.option("--status", "statuses", multiple=True, type=click.Choice(_STATUSES))
@_command
async def instances_terminate_all(
    client: Client, *, workflow: str, statuses: tuple[str, ...], as_json: bool
) -> None:
    """Terminate every live instance of WORKFLOW (only those with a --status, if given)."""
    targets = []
    for execution in await _executions(client, workflow):
        status = _status_of(execution)
        if not status.is_final and (not statuses or status.value in statuses):
            targets.append(WorkflowInstance(client, execution.id))
    results = await _each(
        targets,
        lambda i: i.terminate(),
        f"Terminating {len(targets)} instances of {workflow}",
        show=not as_json and bool(targets),
    )
    failed = {t.id: str(r) for t, r in zip(targets, results, strict=True) if r is not None}
    done = [t.id for t in targets if t.id not in failed]
    if as_json:
        _print_json({"terminated": done, "failed": failed})
    else:
        console.print(f"Terminated {len(done)} instances of {workflow}")
        for instance_id, error in failed.items():
            console.print(f"[red]Failed[/] {instance_id}: {error}")
    if failed:
        _exit(1)


# --------------------------------------------------------------------------------------------
# dev and codec-server
# --------------------------------------------------------------------------------------------


def _modules(target: str) -> list[Any]:
    """The modules of a dotted name, a ``.py`` file, a package folder or a plain folder."""
    path = Path(target)
    if path.is_dir() and (path / "__init__.py").is_file():
        sys.path.insert(0, str(path.resolve().parent))
        package = importlib.import_module(path.resolve().name)
        names = [
            info.name
            for info in pkgutil.walk_packages(package.__path__, prefix=package.__name__ + ".")
            if not info.name.rsplit(".", 1)[-1].startswith("_")
        ]
        return [package, *map(importlib.import_module, names)]
    if path.is_dir() or path.suffix == ".py":
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        modules = []
        for file in files:
            if file.name.startswith("_") and file != path:
                continue
            name = f"_tempflare_dev_{file.stem}_{abs(hash(str(file.resolve())))}"
            spec = importlib.util.spec_from_file_location(name, file)
            if spec is None or spec.loader is None:
                continue
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
            modules.append(module)
        return modules
    sys.path.insert(0, str(Path.cwd()))
    return [importlib.import_module(target)]


def load_workflows(
    target: str,
) -> tuple[list[type[WorkflowEntrypoint[Any, Any]]], list[Callable[..., Any]]]:
    """The ``WorkflowEntrypoint`` subclasses defined in a module (dotted name or ``.py`` file)
    or in the modules of a folder, and the registered activities those modules list in
    ``ACTIVITIES``."""
    found: list[type[WorkflowEntrypoint[Any, Any]]] = []
    activities: list[Callable[..., Any]] = []
    for module in _modules(target):
        activities += [a for a in getattr(module, "ACTIVITIES", ()) if a not in activities]
        for value in vars(module).values():
            if (
                inspect.isclass(value)
                and issubclass(value, WorkflowEntrypoint)
                and value is not WorkflowEntrypoint
                and value.__module__ == module.__name__
                and value not in found
            ):
                found.append(value)
    if not found:
        raise InvalidValueError(
            f"No WorkflowEntrypoint subclass in {target!r}. Name a module (dotted, or a .py "
            "file) or a folder whose modules define workflows."
        )
    return found, activities


def _load_env(spec: str | None) -> Any:
    """``module:callable`` -> what the callable returns (the workflows' ``self.env``)."""
    if not spec:
        return None
    module_name, sep, attribute = spec.partition(":")
    if not sep or not attribute:
        raise InvalidValueError(f"--env {spec!r} must be module:callable, e.g. myapp.env:make_env")
    sys.path.insert(0, str(Path.cwd()))
    factory = getattr(importlib.import_module(module_name), attribute)
    return factory()


@cli.command("dev")
@click.argument("target", default="workflows")
@click.option("--port", type=int, default=7233, show_default=True, help="gRPC port.")
@click.option("--ui-port", type=int, default=8233, show_default=True, help="Web UI port.")
@click.option("--db-filename", type=click.Path(dir_okay=False), help="Keep state in this file.")
@click.option("--task-queue", default=DEFAULT_TASK_QUEUE, show_default=True)
@click.option("--codec-endpoint", help="Codec server URL for the Web UI to decode payloads.")
@click.option("--env", "env_factory", help="module:callable whose result is the workflows' env.")
@click.option("--json", "as_json", is_flag=True, help="Print the start-up details as JSON.")
def dev(
    target: str,
    env_factory: str | None,
    port: int,
    ui_port: int,
    db_filename: str | None,
    task_queue: str,
    codec_endpoint: str | None,
    as_json: bool,
) -> None:
    """The dev server, its Web UI and a worker for the workflows in TARGET.

    TARGET is a dotted module, a .py file, or a folder (default: workflows); every
    WorkflowEntrypoint subclass defined there runs, with the registered activities its modules
    list in ACTIVITIES. Stops on Ctrl-C or SIGTERM.
    """
    from .._worker.worker import create_worker, ensure_search_attributes
    from ..devserver import DevServer

    try:
        found, activities = load_workflows(target)
        env = _load_env(env_factory)
        server = DevServer(
            port=port,
            ui_port=ui_port,
            db_filename=Path(db_filename) if db_filename else None,
            extra_args=["--ui-codec-endpoint", codec_endpoint] if codec_endpoint else [],
        )
        server.start()
    except (TempflareError, ValueError, OSError, ImportError) as err:
        _fail(err, as_json)

    async def serve() -> None:
        client = await connect(server.address)
        await ensure_search_attributes(client)
        worker = create_worker(
            client, task_queue=task_queue, workflows=found, env=env, activities=activities
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        async with worker:
            names = [w.workflow_name for w in found]
            info = {
                "address": server.address,
                "ui": server.ui_url,
                "task_queue": task_queue,
                "workflows": names,
            }
            if as_json:
                click.echo(json.dumps({"ready": info}), nl=True)
            else:
                console.print(
                    f"[bold green]Ready[/]: Temporal at {server.address}, Web UI at "
                    f"{server.ui_url}, worker on task queue {task_queue!r} for {', '.join(names)}"
                )
                console.print(
                    f"Try: tempflare instances trigger {names[0]} --address {server.address}"
                )
            sys.stdout.flush()
            await stop.wait()

    try:
        asyncio.run(serve())
    finally:
        server.stop()
    _exit(0)


@cli.command("codec-server")
@click.option("--port", type=int, default=8081, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option(
    "--origin",
    "origins",
    multiple=True,
    help="Web UI origin allowed by CORS (repeatable; default any), e.g. http://localhost:8233.",
)
def codec_server(port: int, host: str, origins: tuple[str, ...]) -> None:
    """Serve /encode and /decode for the Web UI with the keys of TEMPFLARE_ENCRYPTION_KEY(_FILE)."""
    from .._shared.encryption import KEY_ENV, KEY_FILE_ENV, EncryptionCodec, load_encryption_keys
    from .codec_server import CodecServer

    try:
        keys = load_encryption_keys()
        if not keys:
            raise InvalidValueError(
                f"codec-server needs a key: set {KEY_ENV} or {KEY_FILE_ENV} (the worker's)."
            )
        server = CodecServer(EncryptionCodec(keys), port=port, host=host, origins=origins or ["*"])
    except (TempflareError, ValueError, OSError) as err:
        _fail(err, False)
    console.print(
        f"[bold green]Ready[/]: codec server at {server.url} (keys {', '.join(keys)}); start the "
        f"dev server with --ui-codec-endpoint {server.url}"
    )
    sys.stdout.flush()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
