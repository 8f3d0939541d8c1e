"""Binding URLs: one string per binding picks its backend (``postgresql://``, ``redis://``...).

Helpers shared by the backends: the scheme of a target (``None`` for a plain path), the path
of a ``sqlite:///`` URL, a URL with its password hidden (for messages and ``repr``), and the
query options of a URL checked against the names a backend knows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from .._shared.errors import InvalidValueError

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


def scheme(target: str) -> str | None:
    """The lower-cased URL scheme of ``target``, or None for a filesystem path."""
    match = _SCHEME.match(target)
    return match.group(1).lower() if match else None


def sqlite_path(url: str) -> str:
    """The file of ``sqlite:///relative/path``, ``sqlite:////absolute/path`` or
    ``sqlite://:memory:``."""
    rest = url.split("://", 1)[1]
    if rest in (":memory:", "/:memory:"):
        return ":memory:"
    if not rest.startswith("/") or rest == "/":
        raise InvalidValueError(
            f"SQLite URL {url!r} has no path; use sqlite:///relative/file.sqlite, "
            "sqlite:////absolute/file.sqlite or sqlite://:memory:"
        )
    return rest[1:]


def sqlite_file(target: str) -> str | None:
    """The SQLite file ``target`` names, as a plain path or a ``sqlite://`` URL; None when it
    is a URL of another scheme."""
    kind = scheme(target)
    if kind is None:
        return target
    return sqlite_path(target) if kind == "sqlite" else None


def redact(url: str) -> str:
    """``url`` with any password replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    netloc = f"{parts.username or ''}:***@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def options(url: str, known: Iterable[str], what: str) -> dict[str, str]:
    """The query options of ``url`` (last value wins).

    Raises:
        InvalidValueError: for an option ``what`` does not know, naming the known ones.
    """
    allowed = set(known)
    found = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    unknown = sorted(set(found) - allowed)
    if unknown:
        raise InvalidValueError(
            f"{what} URL {redact(url)!r} has unknown options {unknown}; known: {sorted(allowed)}"
        )
    return found


def flag(value: str | None, name: str, url: str) -> bool:
    """A boolean URL option (``1``/``true``/``yes`` or ``0``/``false``/``no``)."""
    if value is None:
        return False
    lowered = value.lower()
    if lowered in ("1", "true", "yes", "on", ""):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise InvalidValueError(f"URL {redact(url)!r}: option {name}={value!r} is not a boolean")
