"""Step modifiers of the testing toolkit, as data that travels with an instance in its memo.

Read inside the workflow (deterministically: the memo is part of the start event), so they work
whatever process runs the worker, and never touch another instance.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from pydantic import BaseModel, Field, PrivateAttr
from temporalio.exceptions import ApplicationError

#: Returned by a step mock for an attempt that should run the real callback.
USE_CALLBACK: Final = object()


class StepSelector(BaseModel):
    """Selects a step by name and 1-based index among steps of that name."""

    name: str
    index: int = Field(default=1, ge=1)

    def matches(self, name: str, count: int) -> bool:
        """Whether this selects the ``count``-th step called ``name``."""
        return self.name == name and self.index == count


class AttemptSlot(BaseModel):
    """Consecutive attempts of a step that fail in a set way (``times=None``: all of them)."""

    step: StepSelector
    error_name: str
    message: str
    times: int | None = None


class MockedResult(BaseModel):
    """A step whose callback never runs; it returns ``value``."""

    step: StepSelector
    value: Any = None


class MockedEvent(BaseModel):
    """An event buffered for the instance from its start."""

    type: str
    payload: Any = None


class Modifications(BaseModel):
    """Everything the introspector's ``modify`` calls asked for, for one instance."""

    disable_sleeps: bool = False
    disabled_sleeps: list[StepSelector] = []
    disable_retry_delays: bool = False
    disabled_retry_delays: list[StepSelector] = []
    attempt_slots: list[AttemptSlot] = []
    results: list[MockedResult] = []
    events: list[MockedEvent] = []
    event_timeouts: list[StepSelector] = []
    _results_index: dict[tuple[str, int], MockedResult] | None = PrivateAttr(default=None)

    def step_mock(self, name: str, count: int) -> Callable[[int], Any] | None:
        """A function of the attempt number that replaces the callback, or ``None``."""
        slots = [s for s in self.attempt_slots if s.step.matches(name, count)]
        if self._results_index is None:  # a restart of a long instance holds many results
            self._results_index = {}
            for r in self.results:
                self._results_index.setdefault((r.step.name, r.step.index), r)
        result = self._results_index.get((name, count))
        if not slots and result is None:
            return None

        def mock(attempt: int) -> Any:
            remaining = attempt
            for slot in slots:
                if slot.times is None or remaining <= slot.times:
                    raise ApplicationError(
                        slot.message,
                        type=slot.error_name,
                        non_retryable=slot.error_name == "NonRetryableError",
                    )
                remaining -= slot.times
            return USE_CALLBACK if result is None else result.value

        return mock

    def sleeps_disabled(self, name: str, count: int) -> bool:
        """Whether this sleep returns at once."""
        return self.disable_sleeps or any(s.matches(name, count) for s in self.disabled_sleeps)

    def retry_delays_disabled(self, name: str, count: int) -> bool:
        """Whether this step retries without waiting."""
        return self.disable_retry_delays or any(
            s.matches(name, count) for s in self.disabled_retry_delays
        )

    def event_timeout_forced(self, name: str, count: int) -> bool:
        """Whether this event wait times out at once."""
        return any(s.matches(name, count) for s in self.event_timeouts)
