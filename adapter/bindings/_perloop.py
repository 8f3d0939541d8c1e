"""One client per event loop, for drivers whose connections belong to the loop that made them.

asyncpg pools and ``redis.asyncio`` clients cannot be used from another event loop, and a
binding is used both from the worker's loop and from sync step bodies that run their own
(``asyncio.run`` in a worker thread). :class:`PerLoop` creates the client on first use in each
loop, forgets those of loops that have closed, and closes the rest on :meth:`close`.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class PerLoop(Generic[T]):
    """Lazily created, per-event-loop clients.

    Args:
        create: Makes a client (runs in the loop that will use it).
        what: Named in the error raised after :meth:`close`.
    """

    def __init__(self, create: Callable[[], Awaitable[T]], what: str) -> None:
        self._create = create
        self._what = what
        self._tasks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task[T]] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()
        self._closed = False

    async def get(self) -> T:
        """The current loop's client, created on first use (concurrent callers share it)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._closed:
                raise RuntimeError(f"{self._what} has been closed")
            for dead in [other for other in self._tasks if other.is_closed()]:
                del self._tasks[dead]
            task = self._tasks.get(loop)
            if task is None:

                async def create() -> T:
                    return await self._create()

                task = loop.create_task(create())
                self._tasks[loop] = task
        try:
            return await asyncio.shield(task)
        except BaseException:
            if task.done():
                with self._lock:
                    if self._tasks.get(loop) is task:
                        del self._tasks[loop]
            raise

    def _take(self, everything: bool) -> list[tuple[asyncio.AbstractEventLoop, T]]:
        loop = None if everything else asyncio.get_running_loop()
        with self._lock:
            self._closed = True
            taken = [
                (other, task) for other, task in self._tasks.items() if everything or other is loop
            ]
            self._tasks.clear()
        return [
            (other, task.result())
            for other, task in taken
            if not other.is_closed()
            and task.done()
            and not task.cancelled()
            and task.exception() is None
        ]

    async def aclose(self, close: Callable[[T], Awaitable[object]]) -> None:
        """Closes the current loop's client with ``close``; later :meth:`get` calls fail."""
        for _, client in self._take(everything=False):
            await close(client)

    def close(self, close: Callable[[T], object]) -> None:
        """Closes every client whose loop still runs with the sync ``close``."""
        for _, client in self._take(everything=True):
            close(client)
