"""Long instances: what a run carries into the run it continues as new into.

Temporal caps a run's history (51,200 events, 50 MB); a durable step costs about 7 events, so an
instance of 10,000 steps must span several runs. When the history grows past a threshold, the
run continues as new at the next ``step.do`` called while nothing else is under way (no attempt in
flight, no sleep or wait, no pause, no rollback, no handler running). The new run executes
``run()`` again from the start with the carried memo: completed ``do`` results are returned at
once (no activity, no event), failed ones raise their error again, completed sleeps return at
once, every event received so far is buffered again in order (so the same waits receive the same
events) and waits that timed out time out again. Deterministic workflow-side code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

#: Memo key of the carried state of a continued-as-new run.
CARRIED_MEMO: Final = "tempflare.carried"


@dataclass
class Carried:
    """The state one run hands to the next; also what the current run has done so far."""

    #: ``(name, count) -> result`` of completed ``step.do`` calls (JSON form).
    results: dict[tuple[str, int], Any] = field(default_factory=dict)
    #: ``(name, count) -> (error name, message, non-retryable)`` of failed ``step.do`` calls.
    errors: dict[tuple[str, int], tuple[str, str, bool]] = field(default_factory=dict)
    sleeps: set[tuple[str, int]] = field(default_factory=set)
    #: Event waits that ended (received or timed out), and those that timed out.
    waits: set[tuple[str, int]] = field(default_factory=set)
    timeouts: set[tuple[str, int]] = field(default_factory=set)
    #: Every event received, in order: ``(type, payload, timestamp)``.
    events: list[tuple[str, Any, str]] = field(default_factory=list)
    #: Whether a carried result came from a ``sensitive="output"`` step: then the memo is sealed.
    sensitive: bool = False
    #: How many runs came before this one.
    runs: int = 0

    @classmethod
    def from_memo(cls, raw: Mapping[str, Any] | None) -> Carried:
        """Reads the carried memo (``None``: a first run)."""
        if not raw:
            return cls()
        return cls(
            results={(n, c): v for n, c, v in raw.get("results", [])},
            errors={(n, c): (e, m, bool(nr)) for n, c, e, m, nr in raw.get("errors", [])},
            sleeps={(n, c) for n, c in raw.get("sleeps", [])},
            waits={(n, c) for n, c in raw.get("waits", [])},
            timeouts={(n, c) for n, c in raw.get("timeouts", [])},
            events=[(t, p, ts) for t, p, ts in raw.get("events", [])],
            sensitive=bool(raw.get("sensitive")),
            runs=int(raw.get("runs", 0)),
        )

    def to_memo(self) -> dict[str, Any]:
        """The memo value of the next run."""
        return {
            "results": [[n, c, v] for (n, c), v in self.results.items()],
            "errors": [[n, c, *e] for (n, c), e in self.errors.items()],
            "sleeps": [list(k) for k in sorted(self.sleeps)],
            "waits": [list(k) for k in sorted(self.waits)],
            "timeouts": [list(k) for k in sorted(self.timeouts)],
            "events": [list(e) for e in self.events],
            "sensitive": self.sensitive,
            "runs": self.runs + 1,
        }

    def received(self, event_type: str, payload: Any, when: datetime) -> None:
        """Records an event as it is received."""
        self.events.append((event_type, payload, when.isoformat()))
