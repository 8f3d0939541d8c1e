"""Side effects of the error-categorisation and graceful-degradation patterns (seed 000,
"Error Handling Patterns / Pattern 1 and Pattern 3").

Both call ``api.example.com``, here the ``API`` service binding (a :class:`Fetcher`).
"""

from __future__ import annotations

from typing import Any, Final

import structlog

from adapter import NonRetryableError
from adapter.bindings import Fetcher

log = structlog.get_logger("seed000.api")

#: What ``fetch user preferences`` falls back to when the API cannot answer.
DEFAULT_PREFERENCES: Final[dict[str, Any]] = {
    "theme": "light",
    "language": "en",
    "notifications": True,
}


class ApiError(Exception):
    """``new Error(`API error: ${response.status}`)``: a failed call to the API."""


def should_retry(error: Exception) -> bool:
    """The seed's ``shouldRetry``: client errors (400, 401, 403, 404) are not retried."""
    # Don't retry on client errors (4xx)
    message = str(error)
    if "400" in message or "401" in message or "403" in message or "404" in message:
        return False

    # Retry on server errors (5xx) and network errors
    return True


async def call_api(api: Fetcher) -> Any:
    """The ``call API`` step: GET ``/data``, categorising failures.

    Raises:
        NonRetryableError: the API answered 400, 401, 403 or 404 (message ``API error: <status>``).
        ApiError: any other error status; the step retries.
        FetchError: a network error; the step retries.
    """
    try:
        response = await api.fetch("/data")

        if not response.ok:
            error = ApiError(f"API error: {response.status}")

            if not should_retry(error):
                raise NonRetryableError(str(error))

            raise error  # Will retry

        return await response.json()
    except NonRetryableError:
        raise
    except Exception:
        # Network error - retry
        raise


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
