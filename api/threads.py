"""Blocking work off the event loop, in a pool of threads hazardflow keeps for commands.

The store is synchronous, so a command runs in a thread. FastAPI runs a plain ``def``
endpoint through anyio's thread pool, whose hand-off (cancel scopes, a ``queue.Queue``
with its Python condition variable, per-call bookkeeping) was about a tenth of a server
process's CPU per command in the load benchmark's profile. Here a command crosses with
one put on a C ``SimpleQueue`` and one ``call_soon_threadsafe`` back; the endpoint is
``async def`` and awaits it. Exceptions travel back unchanged, to the same handlers.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from queue import SimpleQueue
from typing import Any, TypeVar

T = TypeVar("T")


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return  # the request went away; the command itself ran (or runs) to its end
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class Threads:
    """``await threads.run(fn, *args)``: ``fn(*args)`` in one of ``size`` daemon threads,
    started at first use (each server process makes its own)."""

    def __init__(self, size: int = 64, name: str = "command") -> None:
        self._size = size
        self._name = name
        self._queue: SimpleQueue[Any] = SimpleQueue()
        self._started = False
        self._lock = threading.Lock()

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        if not self._started:
            self._start()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put((fn, args, loop, future))
        return await future

    def _start(self) -> None:
        with self._lock:
            if self._started:
                return
            for n in range(self._size):
                threading.Thread(target=self._work, name=f"{self._name}-{n}",
                                 daemon=True).start()
            self._started = True

    def _work(self) -> None:
        while True:
            fn, args, loop, future = self._queue.get()
            result: Any = None
            error: BaseException | None = None
            try:
                result = fn(*args)
            except BaseException as raised:  # noqa: BLE001 - handed to the awaiting request
                error = raised
            try:
                loop.call_soon_threadsafe(_settle, future, result, error)
            except RuntimeError:
                pass  # the event loop closed (shutdown) while the command ran
            del fn, args, loop, future, result, error


commands = Threads()
