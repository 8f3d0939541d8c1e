"""What a step callback declares: a registered Temporal activity it stands for, and its return
type (so its result decodes to that type on replay). Pure introspection, used by the workflow
side and by the worker."""

from __future__ import annotations

import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any


@dataclass(frozen=True)
class RemoteActivity:
    name: str
    ret_type: Any


def activity_definition(callback: Any) -> RemoteActivity | None:
    target = callback.func if isinstance(callback, partial) else callback
    defn = getattr(target, "__temporal_activity_definition", None)
    if defn is None or defn.name is None:
        return None
    return RemoteActivity(name=defn.name, ret_type=defn.ret_type)


def return_type(callback: Callable[..., Any]) -> Any:
    """The callback's declared return type, so results decode to the same type on replay."""
    while isinstance(callback, partial):
        callback = callback.func
    if "return" not in getattr(callback, "__annotations__", {}):
        return None  # lambdas and unannotated functions, without resolving any hint
    try:
        hint = typing.get_type_hints(callback).get("return")
    except Exception:
        return None
    if hint is None or hint is type(None):
        return None
    if typing.get_origin(hint) in (Awaitable, typing.Coroutine) or (
        typing.get_origin(hint) is not None
        and getattr(typing.get_origin(hint), "__name__", "") in ("Awaitable", "Coroutine")
    ):
        args = typing.get_args(hint)
        return args[-1] if args else None
    return hint
