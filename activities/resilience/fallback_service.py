"""Side effects of the fallback to a second service (seed 003, "Common Patterns / Graceful
Degradation"): a primary and a fallback data API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapter.bindings import fetch


@dataclass
class DegradationEnv:
    """``this.env`` of the graceful-degradation workflow: the two data APIs."""

    PRIMARY_URL: str
    FALLBACK_URL: str


async def get_data(url: str) -> Any:
    """``fetch(url)`` as a step result: the JSON body; an error status fails the attempt.

    Raises:
        RuntimeError: The API answered an error status.
    """
    response = await fetch(url)
    if not response.ok:
        raise RuntimeError(f"API error: {response.status}")
    return await response.json()
