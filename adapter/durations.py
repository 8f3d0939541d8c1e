"""Parses Cloudflare duration values (sleeps, retry delays, timeouts) into ``timedelta``.

Pure logic with no Temporal import, so it is safe in workflow code and fast to unit test.

Accepted forms:

* an ``int`` or ``float``: milliseconds, as in Cloudflare's current docs;
* a :class:`datetime.timedelta`;
* the documented grammar ``"N unit"`` or ``"N units"`` with unit ``millisecond``, ``second``,
  ``minute``, ``hour``, ``day``, ``week``, ``month`` (30 days) or ``year`` (365.25 days);
* the compact forms the seeds use: ``"250ms"``, ``"30s"``, ``"5m"``, ``"24h"``, ``"2d"``, ``"1w"``.

Anything else raises :class:`ValueError` that lists the accepted forms.
"""

from __future__ import annotations

import math
import re
from datetime import timedelta
from typing import Final, TypeAlias

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
_LONG_FORM = re.compile(rf"^{_NUMBER} +([a-z]+?)s?$")
_COMPACT_FORM = re.compile(rf"^{_NUMBER}(ms|s|m|h|d|w)$")


def parse_duration(value: Duration, *, what: str = "duration") -> timedelta:
    """Converts a Cloudflare-style duration into a non-negative ``timedelta``.

    Args:
        value: The duration, in any of the forms listed in the module docstring.
        what: What the value is for, used in the error message (e.g. ``'sleep "wait"'``).

    Returns:
        The duration as a ``timedelta``.

    Raises:
        ValueError: The value is negative, not finite, or not in an accepted form. The message
            quotes the value and lists the accepted forms.
    """
    if isinstance(value, timedelta):
        if value < timedelta(0):
            raise ValueError(f"Invalid {what} {value!r}: it must not be negative.")
        return value
    if isinstance(value, bool):
        raise ValueError(f"Invalid {what} {value!r}. Accepted: {ACCEPTED_FORMS}.")
    if isinstance(value, int | float):
        if not math.isfinite(value) or value < 0:
            raise ValueError(
                f"Invalid {what} {value!r}: milliseconds must be finite and non-negative."
            )
        return timedelta(milliseconds=value)
    if isinstance(value, str):
        text = value.strip()
        match = _LONG_FORM.match(text)
        if match and match.group(2) in _MS_PER_UNIT:
            return timedelta(milliseconds=float(match.group(1)) * _MS_PER_UNIT[match.group(2)])
        match = _COMPACT_FORM.match(text)
        if match:
            unit = _COMPACT_UNITS[match.group(2)]
            return timedelta(milliseconds=float(match.group(1)) * _MS_PER_UNIT[unit])
    raise ValueError(f"Invalid {what} {value!r}. Accepted: {ACCEPTED_FORMS}.")


def to_millis(delta: timedelta) -> int:
    """Returns a ``timedelta`` as whole milliseconds, as Cloudflare reports durations."""
    return round(delta.total_seconds() * 1000)
