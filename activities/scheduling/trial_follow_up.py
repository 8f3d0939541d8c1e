"""Side effects of the user-lifecycle workflow (seed 001, "User Lifecycle").

``sendEmail`` is not defined in the seed; here it POSTs ``{"to", "subject"}`` to an e-mail
API (``env.EMAIL_API_URL``). The ``users`` table is the seed's implicit schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from adapter.bindings import D1Database, fetch

SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    subscription_status TEXT NOT NULL DEFAULT 'trialing'
);
"""


@dataclass
class LifecycleEnv:
    """``this.env`` of the lifecycle workflow: D1 and the e-mail API's base URL."""

    DB: D1Database
    EMAIL_API_URL: str


class UserNotFoundError(LookupError):
    """The user row is missing (the TypeScript would throw a ``TypeError`` on ``null``)."""


async def apply_schema(db: D1Database) -> None:
    """Creates the ``users`` table if it is missing."""
    await db.exec(SCHEMA)


async def send_email(env: LifecycleEnv, to: str, subject: str) -> dict[str, Any]:
    """Sends an e-mail through the e-mail API.

    Returns:
        The API's JSON answer.

    Raises:
        RuntimeError: The API answered an error status (the step is retried).
    """
    response = await fetch(
        f"{env.EMAIL_API_URL}/email",
        {"method": "POST"},
        json={
            "to": to,
            "subject": subject,
        },
    )
    if not response.ok:
        raise RuntimeError(f"Email API error: {response.status}")
    answer: dict[str, Any] = await response.json()
    return answer


async def check_conversion(env: LifecycleEnv, user_id: str) -> bool:
    """Whether the user's subscription is ``active`` now.

    Raises:
        UserNotFoundError: There is no such user.
    """
    user = await (
        env.DB.prepare("SELECT subscription_status FROM users WHERE id = ?").bind(user_id).first()
    )
    if user is None:
        raise UserNotFoundError(f"User {user_id!r} not found")
    return bool(user["subscription_status"] == "active")
