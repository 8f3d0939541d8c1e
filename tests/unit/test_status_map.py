"""Unit tests for mapping Temporal state to Cloudflare statuses (no server)."""

import pytest
from temporalio.client import WorkflowExecutionStatus as T

from adapter import InstanceStatus as S
from adapter._client.client import map_status


@pytest.mark.parametrize(
    ("temporal", "reported", "expected"),
    [
        (T.RUNNING, None, S.QUEUED),
        (T.RUNNING, "queued", S.QUEUED),
        (T.RUNNING, "running", S.RUNNING),
        (T.RUNNING, "waiting", S.WAITING),
        (T.RUNNING, "waitingForPause", S.WAITING_FOR_PAUSE),
        (T.RUNNING, "paused", S.PAUSED),
        (T.RUNNING, "complete", S.RUNNING),
        (T.RUNNING, "gibberish", S.UNKNOWN),
        (T.COMPLETED, "running", S.COMPLETE),
        (T.FAILED, "errored", S.ERRORED),
        (T.TIMED_OUT, None, S.ERRORED),
        (T.TERMINATED, "waiting", S.TERMINATED),
        (T.CANCELED, "running", S.TERMINATED),
        (T.CONTINUED_AS_NEW, "running", S.UNKNOWN),
        (None, None, S.UNKNOWN),
    ],
)
def test_map_status(temporal: T | None, reported: str | None, expected: S) -> None:
    assert map_status(temporal, reported) is expected


def test_final_statuses() -> None:
    assert {s for s in S if s.is_final} == {S.COMPLETE, S.ERRORED, S.TERMINATED}
