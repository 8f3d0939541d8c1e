"""The live state of one workflow run: event inbox, pause flags, steps in flight, and the status
it publishes to the Web UI and to search attributes. Deterministic workflow-side code."""

from __future__ import annotations

import asyncio
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeKey

from .._shared.constants import STATUS_SEARCH_ATTRIBUTE, STEP_SEARCH_ATTRIBUTE
from .._shared.types import InstanceStatus, WorkflowStepEvent

_STATUS_KEY = SearchAttributeKey.for_keyword(STATUS_SEARCH_ATTRIBUTE)
_STEP_KEY = SearchAttributeKey.for_keyword(STEP_SEARCH_ATTRIBUTE)


def _running_loop() -> object:
    """The running event loop (a workflow instance's, inside a workflow), or ``None``."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


@dataclass
class Waiter:
    """One ``wait_for_event`` call, waiting for an event of its type."""

    event: WorkflowStepEvent[Any] | None = None


@dataclass
class InstanceState:
    """The live state of one run: event inbox, pause flags and what is in progress."""

    use_search_attributes: bool = True
    buffer: defaultdict[str, deque[WorkflowStepEvent[Any]]] = field(
        default_factory=lambda: defaultdict(deque)
    )
    waiters: defaultdict[str, deque[Waiter]] = field(default_factory=lambda: defaultdict(deque))
    paused: bool = False
    pause_requested: bool = False
    in_flight: int = 0
    #: Names of the sleeps, event waits and retry waits under way, oldest first.
    waits: list[str] = field(default_factory=list)
    current_step: str | None = None
    #: The rollback handlers are running (after an error, or terminate with rollback).
    rolling_back: bool = False
    #: ``terminate(rollback=True)`` asked for the rollbacks before the cancellation it sends.
    rollback_on_cancel: bool = False
    final_status: InstanceStatus | None = None
    #: Every event received, in order, as ``(type, payload, ISO time)``: carried to a new run.
    received: list[tuple[str, Any, str]] = field(default_factory=list)
    _written: tuple[str, ...] | None = None
    _owner: object = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        # The workflow instance's event loop, running while the workflow object is built.
        self._owner = _running_loop()

    @property
    def status(self) -> InstanceStatus:
        """The Cloudflare status this run is in now."""
        if self.final_status is not None:
            return self.final_status
        if self.rolling_back and not self.holding:
            return InstanceStatus.ROLLING_BACK
        if self.paused:
            return InstanceStatus.PAUSED
        if self.pause_requested:
            return InstanceStatus.WAITING_FOR_PAUSE
        if self.in_flight == 0 and self.waits:
            return InstanceStatus.WAITING
        return InstanceStatus.RUNNING

    @property
    def holding(self) -> bool:
        """Whether a pause (asked for or in force) holds new attempts and stops timers."""
        return self.paused or self.pause_requested

    def publish(self) -> None:
        """Shows the status in the Web UI and, when it changed, writes it to the server.

        The current details (Web UI, ``temporal workflow describe``) always name the step under
        way; they cost nothing in history. The ``TempflareStatus``/``TempflareStep`` search
        attributes, which list queries and ``status()`` read with no worker running, are upserted
        only when the status changes (or, while waiting or paused, when what it waits on
        changes), so a run of steps costs no history events. Calls come at the points where the
        run starts an attempt, a timer or a wait, or a pause takes hold, in the order of the
        workflow's code, so replay issues the same upserts. Only the run that owns this state
        writes: see below.
        """
        if not workflow.in_workflow() or _running_loop() is not self._owner:
            # Evicted, or a run left open in a worker that was shut down, whose coroutines the
            # garbage collector is closing inside another run's activation: that run's history
            # is not ours to write into.
            return
        status = self.status
        label = self.waits[-1] if status is InstanceStatus.WAITING else self.current_step or ""
        details = f"**{status.value}**"
        workflow.set_current_details(f"{details} · step `{label}`" if label else details)
        if status.is_final or not self.use_search_attributes:
            return  # a closed run's status comes from Temporal's own execution status
        key = (
            (status.value,)
            if status in (InstanceStatus.RUNNING, InstanceStatus.ROLLING_BACK)
            else (status.value, label)
        )
        if key == self._written:
            return
        self._written = key
        workflow.upsert_search_attributes(
            [_STATUS_KEY.value_set(status.value), _STEP_KEY.value_set(label)]
        )

    def receive_event(self, event_type: str, payload: Any, when: datetime | None = None) -> None:
        """Buffers an event, then hands it to the oldest waiter of its type, if any.

        ``when``: the time an earlier run received it (continue-as-new); now otherwise.
        """
        timestamp = when or workflow.now()
        self.received.append((event_type, payload, timestamp.isoformat()))
        self.buffer[event_type].append(
            WorkflowStepEvent(payload=payload, timestamp=timestamp, type=event_type)
        )
        self.dispatch(event_type)

    def dispatch(self, event_type: str) -> None:
        """Pairs buffered events with waiters, oldest first, unless paused."""
        if self.holding:
            return
        buffered, waiters = self.buffer[event_type], self.waiters[event_type]
        while buffered and waiters:
            waiters.popleft().event = buffered.popleft()

    def request_pause(self) -> InstanceStatus:
        """Pauses now, or once the step attempts in flight finish."""
        if self.final_status is None and not self.holding:
            if self.in_flight:
                self.pause_requested = True
            else:
                self.paused = True
            self.publish()
        return self.status

    def resume(self) -> InstanceStatus:
        """Lifts a pause (or a pending one); does nothing otherwise."""
        if self.holding:
            self.paused = self.pause_requested = False
            for event_type in list(self.waiters):
                self.dispatch(event_type)
            self.publish()
        return self.status

    def begin_attempt(self, step: str, *, publish: bool = True) -> None:
        """Marks a step attempt as in flight; it becomes the current step."""
        self.current_step = step
        self.in_flight += 1
        if publish:
            self.publish()

    def end_attempt(self) -> None:
        """Marks a step attempt as finished; completes a pending pause.

        Back to ``running``, nothing is written: the next attempt or wait writes what follows.
        """
        self.in_flight -= 1
        if self.pause_requested and self.in_flight == 0:
            self.pause_requested = False
            self.paused = True
        if self.status is not InstanceStatus.RUNNING:
            self.publish()
