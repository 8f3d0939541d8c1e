"""Side effects of retrying by error category (seed 000, "Error Handling Patterns / Pattern 1:
Categorize Errors for Retry Logic").

``call_api`` calls ``api.example.com``, here the ``API`` service binding (a :class:`Fetcher`), and
turns client errors into ``NonRetryableError``.
"""

from __future__ import annotations

from typing import Any

from adapter import NonRetryableError
from adapter.bindings import Fetcher


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
