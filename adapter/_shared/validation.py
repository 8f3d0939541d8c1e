"""Checks for everything a user hands to tempflare: one place, one style of error.

Pure logic with no I/O, safe in workflow code. Every check matches whole strings, raises a
:class:`~adapter.errors.TempflareError` that quotes the bad value (or its size) and says what is
accepted, and keeps the standard base class (``ValueError`` for a bad value, ``TypeError`` for
the wrong kind of thing). Durations are checked by :func:`adapter.durations.parse_duration` and
step configs by :func:`adapter.config.resolve_step_config`, in the same style.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from .errors import (
    InvalidEventTypeError,
    InvalidInstanceIdError,
    InvalidParamsError,
    InvalidValueError,
    StepConfigError,
    WrongTypeError,
)

MAX_STEP_NAME_LENGTH: Final = 256
MAX_EVENT_TYPE_LENGTH: Final = 100
MAX_INSTANCE_ID_LENGTH: Final = 100
#: Cloudflare's limit on params, event payloads, step results and outputs.
MAX_PAYLOAD_BYTES: Final = 1024 * 1024
MAX_BATCH: Final = 100
#: Temporal's limit on names such as task queues (``limit.maxIDLength``).
MAX_TASK_QUEUE_LENGTH: Final = 1000
#: Instance ids and event types: a letter, digit or underscore, then those and hyphens.
NAME_PATTERN: Final = re.compile(r"[a-zA-Z0-9_][a-zA-Z0-9\-_]*")
_CONTROL_CHARS: Final = re.compile(r"[\x00-\x1f\x7f]")
STEP_TYPES: Final = ("do", "sleep", "waitForEvent")


def quote(value: object, limit: int = 80) -> str:
    """A value as messages show it: its ``repr``, cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def validate_step_name(name: object) -> str:
    """Cloudflare's step-name rule: 1 to 256 characters, no control characters.

    Raises:
        StepConfigError: The name is not a string, is empty, too long, or has control characters.
    """
    if not isinstance(name, str) or not name:
        raise StepConfigError(f"Step name {quote(name)} must be a non-empty string.")
    if len(name) > MAX_STEP_NAME_LENGTH or _CONTROL_CHARS.search(name):
        raise StepConfigError(
            f"Step name {quote(name)} exceeds max length ({MAX_STEP_NAME_LENGTH} chars, got "
            f"{len(name)}) or has control characters; use a shorter, printable name."
        )
    return name


def _check_name(value: object, what: str, limit: int, error: type[Exception], fix: str) -> str:
    """Cloudflare's rule for ids and event types: 1 to ``limit`` characters of
    ``[a-zA-Z0-9_][a-zA-Z0-9-_]*``, matched in full (no trailing newline)."""
    if not isinstance(value, str) or len(value) > limit or not NAME_PATTERN.fullmatch(value):
        raise error(
            f"Invalid {what} {quote(value)}: it must be 1 to {limit} characters of letters, "
            f"digits, '-' and '_', not starting with '-'.{fix}"
        )
    return value


def validate_event_type(event_type: object) -> str:
    """Cloudflare's event-type rule: 1 to 100 characters of ``[a-zA-Z0-9_][a-zA-Z0-9-_]*``.

    Raises:
        InvalidEventTypeError: The type breaks the rule; the message quotes it.
    """
    return _check_name(event_type, "event type", MAX_EVENT_TYPE_LENGTH, InvalidEventTypeError, "")


def validate_instance_id(instance_id: object) -> str:
    """Cloudflare's id rule: 1 to 100 characters of ``[a-zA-Z0-9_][a-zA-Z0-9-_]*``.

    Raises:
        InvalidInstanceIdError: The id breaks the rule; the message quotes it.
    """
    return _check_name(
        instance_id,
        "instance id",
        MAX_INSTANCE_ID_LENGTH,
        InvalidInstanceIdError,
        " Omit it to get a random UUID.",
    )


def validate_task_queue(task_queue: object) -> str:
    """A Temporal task queue name: a non-empty printable string of at most 1000 characters.

    Raises:
        WrongTypeError: It is not a string.
        InvalidValueError: It is empty, blank, too long, or has control characters.
    """
    if not isinstance(task_queue, str):
        raise WrongTypeError(f"task_queue must be a string, got {quote(task_queue)}.")
    if (
        not task_queue.strip()
        or len(task_queue) > MAX_TASK_QUEUE_LENGTH
        or _CONTROL_CHARS.search(task_queue)
    ):
        raise InvalidValueError(
            f"Invalid task_queue {quote(task_queue)}: it must be 1 to {MAX_TASK_QUEUE_LENGTH} "
            "printable characters, not blank (the workers' and the binding's must match)."
        )
    return task_queue


def check_payload_size(size: int, what: str) -> None:
    """Cloudflare's 1 MiB limit on a stored payload.

    Raises:
        InvalidParamsError: The payload is larger; the message gives its size.
    """
    if size > MAX_PAYLOAD_BYTES:
        raise InvalidParamsError(
            f"The {what} is {size} bytes; the limit is 1 MiB ({MAX_PAYLOAD_BYTES} bytes). "
            "Store large data elsewhere and pass a reference."
        )


def validate_batch(items: object) -> list[Mapping[str, Any]]:
    """The items of ``create_batch``: 1 to 100 ``{"id", "params"}`` mappings.

    Raises:
        WrongTypeError: ``items`` is not a list (or other sequence) of mappings.
        InvalidValueError: There are no items or more than 100, or an item has unknown keys.
    """
    if (
        isinstance(items, Mapping)
        or isinstance(items, str | bytes)
        or not hasattr(items, "__iter__")
    ):
        raise WrongTypeError(
            f"create_batch takes a list of {{'id', 'params'}} items, got {quote(items)}."
        )
    batch = list(items)
    if not 1 <= len(batch) <= MAX_BATCH:
        raise InvalidValueError(
            f"create_batch takes 1 to {MAX_BATCH} items, got {len(batch)}; split the batch."
        )
    for item in batch:
        validate_options(item, "create_batch item", {"id", "params"})
    return batch


def options_or_arguments(
    first: object, second: object, call: str, keys: tuple[str, str]
) -> tuple[Any, Any]:
    """The two arguments of a call that also takes Cloudflare's options dict: ``create(id,
    params)`` or ``create({"id", "params"})``, ``send_event(type, payload)`` or
    ``send_event({"type", "payload"})``.

    Raises:
        InvalidValueError: Both a dict and a second argument were given, or the dict has an
            unknown key.
    """
    if not isinstance(first, Mapping):
        return first, second
    if second is not None:
        raise InvalidValueError(
            f"{call} takes either a dict {{{keys[0]!r}, {keys[1]!r}}} or ({keys[0]}, {keys[1]}), "
            f"not both: move the {keys[1]} into the dict."
        )
    options = validate_options(first, f"{call} options", set(keys))
    return options.get(keys[0]), options.get(keys[1])


def validate_batch_options(options: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """``create_batch({"count": n, "params": ...})`` or ``create_batch({"instances": [...]})``:
    the items to create (``count`` items with no id and the same params, or the instances).

    Raises:
        WrongTypeError: ``instances`` is not a list of dicts, or ``count`` not an integer.
        InvalidValueError: Unknown keys, both or neither of ``count`` and ``instances``,
            ``params`` beside ``instances``, or not 1 to 100 items.
    """
    if "id" in options:
        raise InvalidValueError(
            f"create_batch {quote(dict(options))} looks like one instance: pass a list of items "
            "[{'id', 'params'}, ...], {'instances': [...]} or {'count': n, 'params': ...}."
        )
    validate_options(options, "create_batch options", {"count", "params", "instances"})
    if ("count" in options) == ("instances" in options):
        raise InvalidValueError(
            f"create_batch options {quote(dict(options))} need either 'count' (with optional "
            "'params') or 'instances' (a list of {'id', 'params'})."
        )
    if "instances" in options:
        if "params" in options:
            raise InvalidValueError(
                "create_batch({'instances': [...]}) takes each instance's params inside its item, "
                "not a shared 'params'; use {'count': n, 'params': ...} for identical instances."
            )
        return validate_batch(options["instances"])
    count = options["count"]
    if isinstance(count, bool) or not isinstance(count, int):
        raise WrongTypeError(f"create_batch count must be an integer, got {quote(count)}.")
    if not 1 <= count <= MAX_BATCH:
        raise InvalidValueError(
            f"create_batch count must be 1 to {MAX_BATCH}, got {count}; split the batch."
        )
    return [{"params": options.get("params")} for _ in range(count)]


def validate_id_list(ids: object, call: str) -> list[str]:
    """1 to 100 instance ids (``delete_batch``); each a non-empty string of at most 1000
    characters (ids Temporal made, e.g. a schedule's, are accepted as in ``get``).

    Raises:
        WrongTypeError: ``ids`` is not a list of strings.
        InvalidValueError: There are no ids or more than 100, or one is empty or too long.
    """
    if isinstance(ids, str | bytes | Mapping) or not hasattr(ids, "__iter__"):
        raise WrongTypeError(f"{call} takes a list of instance ids, got {quote(ids)}.")
    checked = list(ids)
    if not 1 <= len(checked) <= MAX_BATCH:
        raise InvalidValueError(
            f"{call} takes 1 to {MAX_BATCH} ids, got {len(checked)}; split the batch."
        )
    for instance_id in checked:
        if not isinstance(instance_id, str) or not 0 < len(instance_id) <= 1000:
            raise InvalidInstanceIdError(
                f"Invalid instance id {quote(instance_id)} in {call}: it must be a non-empty "
                "string of at most 1000 characters."
            )
    return checked


def validate_options(options: object, what: str, keys: set[str]) -> Mapping[str, Any]:
    """A Cloudflare options dict (``create({"id", "params"})``, ``send_event({"type",
    "payload"})``...): a mapping whose keys are all among ``keys`` (each optional).

    Raises:
        WrongTypeError: ``options`` is not a mapping.
        InvalidValueError: It has a key not in ``keys``.
    """
    expected = ", ".join(repr(k) for k in sorted(keys))
    if not isinstance(options, Mapping):
        raise WrongTypeError(f"{what} {quote(options)} must be a dict with keys {expected}.")
    unknown = sorted(map(str, set(options) - keys))
    if unknown:
        raise InvalidValueError(
            f"{what} {quote(dict(options))} has unknown key(s) {unknown}; expected {expected}."
        )
    return options


def validate_from_step(from_step: object) -> tuple[str, int, str]:
    """``restart(from_step=...)``: ``{"name": str, "count": int >= 1, "type": ...}``.

    Returns:
        ``(name, count, type)`` with the defaults ``count=1`` and ``type="do"`` filled in.

    Raises:
        WrongTypeError: ``from_step`` is not a mapping.
        InvalidValueError: A key is unknown, or a value has the wrong type or range.
    """
    if not isinstance(from_step, Mapping):
        raise WrongTypeError(
            f"from_step must be a dict {{'name': str, 'count': int, 'type': str}}, "
            f"got {quote(from_step)}."
        )
    unknown = sorted(map(str, set(from_step) - {"name", "count", "type"}))
    name = from_step.get("name")
    count = from_step.get("count", 1)
    kind = from_step.get("type", "do")
    if (
        unknown
        or not isinstance(name, str)
        or not name
        or isinstance(count, bool)
        or not isinstance(count, int)
        or count < 1
        or kind not in STEP_TYPES
    ):
        raise InvalidValueError(
            f"Invalid from_step {quote(dict(from_step))}: expected {{'name': str, "
            f"'count': int >= 1, 'type': one of {list(STEP_TYPES)}}}."
        )
    return name, count, kind


__all__ = [
    "MAX_BATCH",
    "MAX_EVENT_TYPE_LENGTH",
    "MAX_INSTANCE_ID_LENGTH",
    "MAX_PAYLOAD_BYTES",
    "MAX_STEP_NAME_LENGTH",
    "check_payload_size",
    "options_or_arguments",
    "quote",
    "validate_batch",
    "validate_batch_options",
    "validate_event_type",
    "validate_from_step",
    "validate_id_list",
    "validate_instance_id",
    "validate_options",
    "validate_step_name",
    "validate_task_queue",
]
