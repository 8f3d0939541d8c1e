"""Step callbacks in flight in one worker process, shared by the workflow side that registers
them and the worker side that runs them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class StepEntry:
    """A registered step callback and what one attempt needs to know."""

    callback: Callable[..., Any]
    name: str
    count: int
    config_view: dict[str, Any]
    timeout_seconds: float
    mock: Callable[[int], Any] | None = None
    #: The callback's return annotation: its result must come back as that type.
    result_type: Any = None


class StepRegistry:
    """Callbacks of the steps in flight in this worker process, keyed by run and step key."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], StepEntry] = {}

    def put(self, run_id: str, key: str, entry: StepEntry) -> None:
        """Registers a step callback for the duration of the step."""
        self._entries[(run_id, key)] = entry

    def pop(self, run_id: str, key: str) -> None:
        """Forgets a step callback once the step has finished."""
        self._entries.pop((run_id, key), None)

    def get(self, run_id: str, key: str) -> StepEntry | None:
        """Looks a step callback up."""
        return self._entries.get((run_id, key))
