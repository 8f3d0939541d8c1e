"""Parses Cloudflare duration values (sleeps, retry delays, timeouts) into ``timedelta``.

Pure logic with no Temporal import, so it is safe in workflow code and fast to unit test.

Accepted forms:

* an ``int`` or ``float``: milliseconds, as in Cloudflare's current docs;
* a :class:`datetime.timedelta`;
* the documented grammar ``"N unit"`` or ``"N units"`` with unit ``millisecond``, ``second``,
  ``minute``, ``hour``, ``day``, ``week``, ``month`` (30 days) or ``year`` (365.25 days);
* the compact forms the seeds use: ``"250ms"``, ``"30s"``, ``"5m"``, ``"24h"``, ``"2d"``, ``"1w"``.

Anything else raises :class:`~adapter.errors.InvalidDurationError` (a ``ValueError``) that quotes
the value and lists the accepted forms.
"""

from __future__ import annotations

import math
import re
from datetime import timedelta
from typing import Final, TypeAlias

from .errors import InvalidDurationError

#: A duration as user code may write it.
Duration: TypeAlias = int | float | str | timedelta

ACCEPTED_FORMS: Final = (
    'integer milliseconds (e.g. 5000), a datetime.timedelta, "N unit" or "N units" with unit '
    "millisecond, second, minute, hour, day, week, month (30 days) or year (365.25 days) "
    '(e.g. "10 seconds", "1 day"), or a compact form "250ms", "30s", "5m", "24h", "2d", "1w"'
)

_MS_PER_UNIT: Final[dict[str, float]] = {
    "millisecond": 1,
    "second": 1_000,
    "minute": 60_000,
    "hour": 3_600_000,
    "day": 86_400_000,
    "week": 7 * 86_400_000,
    "month": 30 * 86_400_000,
    "year": 365.25 * 86_400_000,
}
_COMPACT_UNITS: Final[dict[str, str]] = {
    "ms": "millisecond",
    "s": "second",
    "m": "minute",
    "h": "hour",
    "d": "day",
    "w": "week",
}
_NUMBER = r"(\d+(?:\.\d+)?|\.\d+)"
_LONG_FORM = re.compile(rf"{_NUMBER} +([a-z]+?)s?")
_COMPACT_FORM = re.compile(rf"{_NUMBER}(ms|s|m|h|d|w)")


def parse_duration(value: Duration, *, what: str = "duration") -> timedelta:
    """Converts a Cloudflare-style duration into a non-negative ``timedelta``.

    Args:
        value: The duration, in any of the forms listed in the module docstring.
        what: What the value is for, used in the error message (e.g. ``'sleep "wait"'``).

    Returns:
        The duration as a ``timedelta``.

    Raises:
        InvalidDurationError: The value is negative, not finite, too large for any clock, or not
            in an accepted form. The message quotes the value and lists the accepted forms.
    """
    shown = _quote(value)
    if isinstance(value, timedelta):
        if value < timedelta(0):
            raise InvalidDurationError(f"Invalid {what} {shown}: it must not be negative.")
        return value
    if isinstance(value, bool):
        raise InvalidDurationError(f"Invalid {what} {shown}. Accepted: {ACCEPTED_FORMS}.")
    millis: float | None = None
    if isinstance(value, int | float):
        if not math.isfinite(value) or value < 0:
            raise InvalidDurationError(
                f"Invalid {what} {shown}: milliseconds must be finite and non-negative."
            )
        millis = value
    elif isinstance(value, str):
        text = value.strip()
        if match := _LONG_FORM.fullmatch(text):
            if match.group(2) in _MS_PER_UNIT:
                millis = float(match.group(1)) * _MS_PER_UNIT[match.group(2)]
        elif match := _COMPACT_FORM.fullmatch(text):
            millis = float(match.group(1)) * _MS_PER_UNIT[_COMPACT_UNITS[match.group(2)]]
    if millis is None:
        raise InvalidDurationError(f"Invalid {what} {shown}. Accepted: {ACCEPTED_FORMS}.")
    try:
        return timedelta(milliseconds=millis)
    except OverflowError:
        raise InvalidDurationError(
            f"Invalid {what} {shown}: it is too long for any clock (the longest sleep or event "
            "wait is 365 days)."
        ) from None


def _quote(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def to_millis(delta: timedelta) -> int:
    """Returns a ``timedelta`` as whole milliseconds, as Cloudflare reports durations."""
    return round(delta.total_seconds() * 1000)
