"""Side effects of the graceful degradation to defaults (seed 000, "Error Handling Patterns /
Pattern 3: Graceful Degradation").

``fetch_user_preferences`` calls ``api.example.com``, here the ``API`` service binding (a
:class:`Fetcher`), and falls back to :data:`DEFAULT_PREFERENCES` on any failure.
"""

from __future__ import annotations

from typing import Any, Final

import structlog

from adapter.bindings import Fetcher

log = structlog.get_logger(__name__)

#: What ``fetch user preferences`` falls back to when the API cannot answer.
DEFAULT_PREFERENCES: Final[dict[str, Any]] = {
    "theme": "light",
    "language": "en",
    "notifications": True,
}


class ApiError(Exception):
    """``new Error('Failed to fetch preferences')``: the API answered an error status."""


async def fetch_user_preferences(api: Fetcher, user_id: str) -> dict[str, Any]:
    """The ``fetch user preferences`` step: the user's preferences, or defaults on any failure."""
    try:
        response = await api.fetch(f"/users/{user_id}/preferences")
        if not response.ok:
            raise ApiError("Failed to fetch preferences")
        preferences: dict[str, Any] = await response.json()
        return preferences
    except Exception as error:
        log.warning(
            "Failed to fetch preferences, using defaults",
            user_id=user_id,
            error=f"{type(error).__name__}: {error}",
        )

        # Fallback to defaults
        return dict(DEFAULT_PREFERENCES)
