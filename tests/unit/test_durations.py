"""Unit tests for duration parsing (no server)."""

from datetime import timedelta

import pytest

from adapter import parse_duration
from adapter._shared.durations import ACCEPTED_FORMS, to_millis


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, timedelta(0)),
        (1500, timedelta(milliseconds=1500)),
        (2.5, timedelta(microseconds=2500)),
        (timedelta(minutes=3), timedelta(minutes=3)),
        ("1 second", timedelta(seconds=1)),
        ("10 seconds", timedelta(seconds=10)),
        ("1.5 minutes", timedelta(seconds=90)),
        ("2 hours", timedelta(hours=2)),
        ("1 day", timedelta(days=1)),
        ("3 weeks", timedelta(weeks=3)),
        ("1 month", timedelta(days=30)),
        ("2 months", timedelta(days=60)),
        ("1 year", timedelta(days=365.25)),
        ("250 milliseconds", timedelta(milliseconds=250)),
        ("250ms", timedelta(milliseconds=250)),
        ("30s", timedelta(seconds=30)),
        ("5m", timedelta(minutes=5)),
        ("24h", timedelta(hours=24)),
        ("2d", timedelta(days=2)),
        ("1w", timedelta(weeks=1)),
    ],
)
def test_accepted_forms(value: object, expected: timedelta) -> None:
    assert parse_duration(value) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "value",
    [
        "",
        "5",
        "24 h",
        "1 min",
        "5 Seconds",
        "ten seconds",
        "5 fortnights",
        "-1 second",
        "1 s",
        "1.second",
        -1,
        float("nan"),
        float("inf"),
        True,
        None,
        [],
        timedelta(seconds=-1),
    ],
)
def test_rejected_forms_name_value_and_list_accepted_forms(value: object) -> None:
    with pytest.raises(ValueError) as info:
        parse_duration(value, what="sleep")  # type: ignore[arg-type]
    message = str(info.value)
    assert "sleep" in message
    if not isinstance(value, timedelta) and value not in (-1,) and not isinstance(value, float):
        assert repr(value) in message
        assert ACCEPTED_FORMS in message


def test_to_millis_rounds() -> None:
    assert (
        to_millis(timedelta(seconds=1.2345)) == 1234 or to_millis(timedelta(seconds=1.2345)) == 1235
    )
    assert to_millis(timedelta(microseconds=1_999_600)) == 2000  # rounds, does not truncate
    assert to_millis(timedelta(minutes=10)) == 600_000
