"""Names tempflare shares between the workflow, the client and the server set-up."""

from __future__ import annotations

from typing import Final

#: Keyword search attributes that tempflare writes on every instance, so that status and the
#: current step can be listed and filtered without a worker (``temporal workflow list --query``).
STATUS_SEARCH_ATTRIBUTE: Final = "TempflareStatus"
STEP_SEARCH_ATTRIBUTE: Final = "TempflareStep"
SEARCH_ATTRIBUTES: Final[dict[str, str]] = {
    STATUS_SEARCH_ATTRIBUTE: "Keyword",
    STEP_SEARCH_ATTRIBUTE: "Keyword",
}

#: Reserved handler names; the ``tempflare.`` prefix cannot clash with an event type, whose
#: pattern forbids dots.
STATUS_QUERY: Final = "tempflare.status"
PAUSE_UPDATE: Final = "tempflare.pause"
RESUME_UPDATE: Final = "tempflare.resume"
#: Signal sent by ``terminate(rollback=True)`` just before its cancellation request.
TERMINATE_SIGNAL: Final = "tempflare.terminate"

#: The error type of a durable step attempt that reached a worker process without its callback,
#: which hands it back to the workflow (see ``adapter.step``).
STEP_ELSEWHERE: Final = "TempflareStepElsewhere"

DEFAULT_NAMESPACE: Final = "default"
DEFAULT_TASK_QUEUE: Final = "tempflare"
DEFAULT_ADDRESS: Final = "localhost:7233"
DEFAULT_UI_PORT: Final = 8233

#: Memo key that each ``wait_for_event`` upserts when it ends, so history records the wait.
STEP_RECORD_MEMO: Final = "tempflare.step"

#: Memo key of the step modifiers (testing toolkit, restart from a step) an instance starts with.
MODIFIERS_MEMO: Final = "tempflare.modifiers"

#: Memo key of a schedule's instances: the cron expression that started them.
SCHEDULE_MEMO: Final = "tempflare.schedule"
#: The search attribute Temporal sets on a workflow started by a schedule: the scheduled time.
SCHEDULED_START_TIME: Final = "TemporalScheduledStartTime"
