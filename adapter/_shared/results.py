"""What a step result and a run's output may be: checks that refuse anything that cannot be stored
as it is, shared by the worker (step results) and the workflow (outputs).

A step result must come back as it went in: JSON types (a ``dict`` with ``str`` keys, ``list``,
``str``, ``int``, finite ``float``, ``bool``, ``None``), or a value of the type the callback's
return annotation names (a pydantic model, a dataclass, ``datetime``...), which is decoded back to
that type. A ``set``, a ``tuple``, a ``datetime`` or a model returned by an unannotated callback
would come back as something else (a list, a string, a dict), so it is refused, naming the type.
The output of ``run()`` must be serialisable. Both are at most 1 MiB.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

from temporalio import workflow
from temporalio.api.common.v1 import Payload
from temporalio.common import RawValue
from temporalio.converter import PayloadConverter

from .errors import WorkflowFatalError
from .validation import MAX_PAYLOAD_BYTES, quote

_TYPES_HINT = (
    "Return JSON types (a dict with str keys, list, str, int, float, bool, None), or a value of "
    "the type the callback's return annotation names (-> MyModel, -> datetime), which comes "
    "back as that type."
)


def is_engine_exception(err: BaseException) -> bool:
    """Whether an exception that is not an ``Exception`` is the engine's own, not user code's.

    The worker cancels and evicts runs, and a run continues as new, by raising ``BaseException``
    subclasses through workflow code; they must pass. ``KeyboardInterrupt``, ``SystemExit`` and
    other ``BaseException`` subclasses raised by user code are the user's.
    """
    if isinstance(err, Exception):
        return False
    if isinstance(err, asyncio.CancelledError | GeneratorExit):
        return True
    return type(err).__module__.partition(".")[0] == "temporalio"


def encode_output(value: Any) -> RawValue:
    """Encodes the output of ``run()`` (in workflow code), checking that it can be stored.

    Raises:
        WorkflowFatalError: The output is not serialisable (naming its type) or over 1 MiB.
    """
    try:
        payload = workflow.payload_converter().to_payloads([value])[0]
    except Exception as err:
        raise WorkflowFatalError(
            f"The output of run() is not serialisable: {type(value).__name__} {quote(value)}: "
            f"{err}. Return JSON-serialisable data or a pydantic model."
        ) from None
    size = len(payload.data)
    if size > MAX_PAYLOAD_BYTES:
        raise WorkflowFatalError(
            f"The output of run() is too large: {size} bytes. The maximum allowed size is 1MiB "
            f"({MAX_PAYLOAD_BYTES} bytes); store large data elsewhere (e.g. R2) and return a "
            "reference."
        )
    return RawValue(payload)


def encode_step_result(
    converter: PayloadConverter, name: str, count: int, result: Any, result_type: Any
) -> Payload:
    """Encodes a step's result, checking that it comes back as it went in and fits in 1 MiB.

    Raises:
        WorkflowFatalError: The result is not serialisable, would come back as something else
            (the message says where and as what), or is over 1 MiB.
    """
    step = f'Step "{name}-{count}"'
    try:
        payload = converter.to_payloads([result])[0]
    except Exception as err:
        raise WorkflowFatalError(
            f"{step} returned a value which is not serialisable: {type(result).__name__}: "
            f"{err}. {_TYPES_HINT}"
        ) from None
    size = len(payload.data)
    if size > MAX_PAYLOAD_BYTES:
        raise WorkflowFatalError(
            f"{step} output is too large: {size} bytes. The maximum allowed size is 1MiB "
            f"({MAX_PAYLOAD_BYTES} bytes); store large data elsewhere (e.g. R2) and return a "
            "reference."
        )
    if not _plain_json(result):
        difference = _round_trip_difference(converter, payload, result, result_type)
        if difference:
            raise WorkflowFatalError(f"{step} returned a value that {difference}. {_TYPES_HINT}")
    return payload


def _plain_json(value: Any) -> bool:
    """Whether a value is made of JSON types only, which JSON gives back unchanged."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return True
    if kind is float:
        return math.isfinite(value)
    try:
        if kind is list:
            return all(map(_plain_json, value))
        if kind is dict:
            return all(type(k) is str and _plain_json(v) for k, v in value.items())
    except RecursionError:
        return False
    return False


def _round_trip_difference(
    converter: PayloadConverter, payload: Payload, sent: Any, result_type: Any
) -> str | None:
    """How a value would come back from its payload differently, or ``None`` if it would not."""
    try:
        hints = [result_type] if result_type is not None else None
        back = converter.from_payloads([payload], hints)[0]
    except Exception as err:
        return f"could not be read back as {getattr(result_type, '__name__', result_type)}: {err}"
    return _difference(sent, back, "result")


def _difference(sent: Any, back: Any, path: str) -> str | None:
    if isinstance(sent, float) and not math.isfinite(sent):
        return f"holds {sent!r} at {path}, which JSON cannot hold"
    if type(sent) is not type(back):
        return (
            f"holds a {type(sent).__name__} at {path}, which would come back as a "
            f"{type(back).__name__}"
        )
    if isinstance(sent, dict):
        if list(sent) != list(back):
            return (
                f"holds keys {quote(list(sent))} at {path}, which would come back as "
                f"{quote(list(back))}"
            )
        for key, value in sent.items():
            found = _difference(value, back[key], f"{path}[{key!r}]")
            if found:
                return found
        return None
    if isinstance(sent, list | tuple):
        for index, (item, item_back) in enumerate(zip(sent, back, strict=False)):
            found = _difference(item, item_back, f"{path}[{index}]")
            if found:
                return found
        return None if len(sent) == len(back) else f"changes length at {path}"
    if sent != back:
        return f"holds {quote(sent)} at {path}, which would come back as {quote(back)}"
    return None
