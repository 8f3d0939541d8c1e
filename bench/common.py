"""What every benchmark shares: the dev server, rounds, figures, summary rows and printing.

A benchmark runs ``rounds`` rounds. Each round measures native temporalio and tempflare on the
same dev server, on fresh task queues, in alternating order (native first in odd rounds), and
yields a :class:`Round` of named figures. Figures come in pairs ``("tempflare", x)`` /
``("native", x)``; the per-round ratio is tempflare / native, and the summary reports the medians
of both sides and the median of the per-round ratios, so that a slow moment of the shared machine
hits one round and not the result.
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from adapter.devserver import dev_server_extra_args, ensure_temporal_cli

T = TypeVar("T")
A = TypeVar("A")
Side = Literal["tempflare", "native"]
SIDES: tuple[Side, Side] = ("tempflare", "native")


async def start_server() -> WorkflowEnvironment:
    """Starts the dev server that the whole run shares (in-memory SQLite, no UI)."""
    return await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(ensure_temporal_cli()),
        dev_server_extra_args=dev_server_extra_args(),
        data_converter=pydantic_data_converter,
    )


def fresh_queue(prefix: str) -> str:
    """A task queue name no earlier round used, so no worker or sticky cache carries over."""
    return f"bench-{prefix}-{uuid.uuid4().hex[:8]}"


def side_order(round_index: int) -> tuple[Side, Side]:
    """Native first in rounds 1, 3, 5..., tempflare first in rounds 2, 4..."""
    return ("native", "tempflare") if round_index % 2 == 0 else ("tempflare", "native")


def expected_total(steps: int) -> int:
    """What a workflow of ``steps`` steps returning 0, 1, 2... sums to."""
    return steps * (steps - 1) // 2


def check_results(results: Iterable[Any], steps: int, what: str) -> None:
    """Checks that every ``{"total", "steps"}`` result adds up.

    Raises:
        AssertionError: A result is wrong.
    """
    wanted = {"total": expected_total(steps), "steps": steps}
    for result in results:
        if result != wanted:
            raise AssertionError(f"{what}: got {result!r}, expected {wanted!r}")


async def gather_limited(
    function: Callable[[A], Awaitable[T]], items: Iterable[A], limit: int
) -> list[T]:
    """``function(item)`` for every item, at most ``limit`` at a time; results in input order."""
    semaphore = asyncio.Semaphore(limit)

    async def one(item: A) -> T:
        async with semaphore:
            return await function(item)

    return list(await asyncio.gather(*(one(item) for item in items)))


async def terminate_all(client: Client, workflow_ids: Iterable[str], *, limit: int = 50) -> None:
    """Terminates the given (running) workflows."""

    async def terminate(workflow_id: str) -> None:
        await client.get_workflow_handle(workflow_id).terminate(reason="benchmark done")

    await gather_limited(terminate, workflow_ids, limit)


async def history_length(handle: WorkflowHandle[Any, Any]) -> int:
    """Number of events in a (closed) workflow's history."""
    return len((await handle.fetch_history()).events)


async def mean_history_length(
    client: Client, workflow_ids: Sequence[str], *, limit: int = 20
) -> float:
    """Mean history length over the given workflows."""
    lengths = await gather_limited(
        lambda w: history_length(client.get_workflow_handle(w)), workflow_ids, limit
    )
    return statistics.fmean(lengths)


async def settle(seconds: float = 1.0) -> None:
    """Lets the previous measurement's aftermath (server queues, garbage) die down first, and a
    new worker's pollers reach the server, so that a timed section starts from quiet."""
    gc.collect()
    await asyncio.sleep(seconds)


class Stopwatch:
    """``with Stopwatch() as sw: ...`` then ``sw.seconds``."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._start = 0.0

    def __enter__(self) -> Stopwatch:
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._start


# ------------------------------------------------------------------------------- results


@dataclass
class Figure:
    """One measured quantity of a benchmark, for which each round gives both sides' values.

    Attributes:
        key: Its key in the rounds' dicts and the JSON output.
        label: How the summary names it.
        unit: Printed after the values.
        target: Human-readable target (``"≥ 1.0"``), or ``""``.
        check: Decides whether the target is met, from the summary's
            ``(tempflare, native, ratio)``; ``None`` for information-only figures.
        ratio: Whether a tempflare / native ratio is meaningful.
        fmt: Format of the values.
    """

    key: str
    label: str
    unit: str = ""
    target: str = ""
    check: Callable[[float | None, float | None, float | None], bool] | None = None
    ratio: bool = True
    fmt: str = ".2f"


def ratio_at_least(bound: float) -> Callable[[float | None, float | None, float | None], bool]:
    """Target met when the tempflare / native ratio is at least ``bound``."""
    return lambda _tf, _native, ratio: ratio is not None and ratio >= bound


def ratio_at_most(bound: float) -> Callable[[float | None, float | None, float | None], bool]:
    """Target met when the tempflare / native ratio is at most ``bound``."""
    return lambda _tf, _native, ratio: ratio is not None and ratio <= bound


def tempflare_at_most(bound: float) -> Callable[[float | None, float | None, float | None], bool]:
    """Target met when tempflare's own value (itself a ratio, say) is at most ``bound``."""
    return lambda tf, _native, _ratio: tf is not None and tf <= bound


@dataclass
class Round:
    """One round: per figure key, each side's value (a side may be missing)."""

    index: int
    order: tuple[Side, Side]
    values: dict[str, dict[Side, float]] = field(default_factory=dict)
    seconds: float = 0.0

    def put(self, key: str, side: Side, value: float) -> None:
        self.values.setdefault(key, {})[side] = value

    def ratio(self, key: str) -> float | None:
        pair = self.values.get(key, {})
        tf, native = pair.get("tempflare"), pair.get("native")
        if tf is None or native is None or native == 0:
            return None
        return tf / native


@dataclass
class SummaryRow:
    """A line of the final table: medians over the rounds and the median per-round ratio."""

    benchmark: str
    figure: Figure
    tempflare: float | None
    native: float | None
    ratio: float | None
    met: bool | None

    def as_json(self) -> dict[str, Any]:
        return {
            "benchmark": self.benchmark,
            "figure": self.figure.key,
            "label": self.figure.label,
            "unit": self.figure.unit,
            "tempflare": self.tempflare,
            "native": self.native,
            "ratio": self.ratio,
            "target": self.figure.target or None,
            "met": self.met,
        }


@dataclass
class BenchResult:
    """All rounds of one benchmark, plus notes and extra data for the JSON output."""

    name: str
    description: str
    figures: list[Figure]
    rounds: list[Round] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> list[SummaryRow]:
        rows = []
        for fig in self.figures:
            tf = _median([r.values.get(fig.key, {}).get("tempflare") for r in self.rounds])
            native = _median([r.values.get(fig.key, {}).get("native") for r in self.rounds])
            ratio = _median([r.ratio(fig.key) for r in self.rounds]) if fig.ratio else None
            met = fig.check(tf, native, ratio) if fig.check is not None else None
            rows.append(SummaryRow(self.name, fig, tf, native, ratio, met))
        return rows

    def as_json(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "notes": self.notes,
            "rounds": [
                {
                    "round": r.index + 1,
                    "order": list(r.order),
                    "seconds": r.seconds,
                    "values": r.values,
                    "ratios": {
                        f.key: r.ratio(f.key) for f in self.figures if f.ratio and r.ratio(f.key)
                    },
                }
                for r in self.rounds
            ],
            "summary": [row.as_json() for row in self.summary()],
            **self.extra,
        }


def _median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


# ------------------------------------------------------------------------------- printing


def _num(value: float | None, fmt: str) -> str:
    return "—" if value is None else format(value, fmt)


def print_header(result: BenchResult, rounds: int) -> None:
    print(f"\n=== {result.name}: {result.description} ({rounds} rounds)", flush=True)


def print_round(result: BenchResult, rnd: Round) -> None:
    """Prints one round's figures side by side with their ratio."""
    print(f"  round {rnd.index + 1} ({' then '.join(rnd.order)}, {rnd.seconds:.0f} s)", flush=True)
    for fig in result.figures:
        pair = rnd.values.get(fig.key)
        if not pair:
            continue
        ratio = rnd.ratio(fig.key) if fig.ratio else None
        print(
            f"    {fig.label:<44} tempflare {_num(pair.get('tempflare'), fig.fmt):>10}  "
            f"native {_num(pair.get('native'), fig.fmt):>10} {fig.unit:<10}"
            + (f" ratio {ratio:.3f}" if ratio is not None else ""),
            flush=True,
        )


def print_summary(results: Sequence[BenchResult]) -> None:
    """Prints the final table: figure | tempflare | native | ratio | target."""
    header = ("figure", "tempflare", "native", "ratio", "target")
    lines: list[tuple[str, ...]] = []
    for result in results:
        for row in result.summary():
            fig = row.figure
            unit = f" {fig.unit}" if fig.unit else ""
            target = fig.target
            if row.met is not None:
                target += " ✓" if row.met else " ✗"
            lines.append(
                (
                    f"{result.name}: {fig.label}",
                    _num(row.tempflare, fig.fmt) + unit,
                    _num(row.native, fig.fmt) + unit,
                    _num(row.ratio, ".3f"),
                    target.strip(),
                )
            )
    widths = [max(len(line[i]) for line in [header, *lines]) for i in range(len(header))]

    def fmt(cells: tuple[str, ...]) -> str:
        first = cells[0].ljust(widths[0])
        rest = [c.rjust(w) for c, w in zip(cells[1:-1], widths[1:-1], strict=True)]
        return " | ".join([first, *rest, cells[-1].ljust(widths[-1])]).rstrip()

    print("\n" + fmt(header))
    print("-+-".join("-" * w for w in widths))
    for line in lines:
        print(fmt(line))
    print("\nratio = median over rounds of tempflare / native in the same round", flush=True)


# ------------------------------------------------------------------------------- options


@dataclass(frozen=True)
class Options:
    """What the command line sets for every benchmark."""

    rounds: int = 3
    durable_instances: int = 100
    durable_steps: int = 5
    batched_instances: int = 50
    batched_steps: int = 20
    batch_size: int = 100
    status_calls: int = 50
    status_sizes: tuple[int, ...] = (10, 1000)
    per_step_sizes: tuple[int, ...] = (10, 100, 1000)
    memory_instances: int = 10_000
    memory_checkpoint: int = 2_000
    memory_small_cache: int = 100
    memory_rounds: int = 1
    #: Which step the sleepers run: "durable" (tempflare's default, against a native regular
    #: activity) or "batched" (against a native local activity).
    memory_mode: str = "durable"


Benchmark = Callable[[WorkflowEnvironment, Options], Awaitable[BenchResult]]


async def run_rounds(
    result: BenchResult,
    rounds: int,
    measure: Callable[[Round], Awaitable[None]],
) -> BenchResult:
    """Runs ``measure`` once per round (alternating sides), printing each round as it ends."""
    print_header(result, rounds)
    for index in range(rounds):
        rnd = Round(index=index, order=side_order(index))
        with Stopwatch() as sw:
            await measure(rnd)
        rnd.seconds = sw.seconds
        result.rounds.append(rnd)
        print_round(result, rnd)
    for note in result.notes:
        print(f"  note: {note}", flush=True)
    return result
