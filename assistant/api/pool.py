"""The bounded pool that runs answers off the event loop.

Answering is blocking work (embedding, Chroma, llama.cpp), so each answer runs in one of
`concurrency` threads. At most `queue` more requests may wait for a thread; beyond that a
request is refused at once (the API answers 503 with Retry-After) instead of piling up. A
streaming answer checks between events whether its client is gone and then stops, so a
closed browser tab frees its slot after the sentence being made, not after the whole answer.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")

_DONE = object()


class PoolFullError(Exception):
    """Every answer slot is taken and the waiting line is full."""


class Slot:
    """A place in the pool; `release` may be called any number of times, it counts once."""

    def __init__(self, pool: AnswerPool) -> None:
        self._pool = pool
        self._released = False
        self._lock = threading.Lock()

    def release(self) -> None:
        with self._lock:
            if self._released:
                return
            self._released = True
        self._pool._give_back()


class AnswerPool:
    """`concurrency` worker threads and room for `queue` waiting requests."""

    def __init__(self, concurrency: int, queue: int) -> None:
        self.concurrency = concurrency
        self.capacity = concurrency + queue
        self._executor = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="answer")
        self._lock = threading.Lock()
        self._admitted = 0

    @property
    def in_use(self) -> int:
        """Requests running or waiting right now."""
        with self._lock:
            return self._admitted

    def reserve(self) -> Slot:
        """Take a place in the pool or raise PoolFullError; the caller releases the slot."""
        with self._lock:
            if self._admitted >= self.capacity:
                raise PoolFullError
            self._admitted += 1
        return Slot(self)

    def _give_back(self) -> None:
        with self._lock:
            self._admitted = max(0, self._admitted - 1)

    async def run(self, slot: Slot, function: Callable[[], T]) -> T:
        """Run `function` in a worker thread (a place must have been reserved); the place is
        given back by the worker, so a request abandoned while waiting still frees it."""
        loop = asyncio.get_running_loop()
        abandoned = threading.Event()

        def work() -> T | None:
            try:
                return None if abandoned.is_set() else function()
            finally:
                slot.release()

        try:
            result = await loop.run_in_executor(self._executor, work)
        except asyncio.CancelledError:
            abandoned.set()
            raise
        return result  # type: ignore[return-value]

    async def stream(self, slot: Slot, produce: Callable[[], Iterator[Any]]) -> AsyncIterator[Any]:
        """Iterate `produce()` in a worker thread, yielding its items on the event loop.

        An async generator: when the consumer stops early (the client disconnected), the
        worker notices before its next item, closes the iterator and gives the slot back.
        """
        loop = asyncio.get_running_loop()
        items: asyncio.Queue[Any] = asyncio.Queue()
        stop = threading.Event()

        def pump() -> None:
            try:
                if stop.is_set():
                    return
                iterator = produce()
                try:
                    for item in iterator:
                        loop.call_soon_threadsafe(items.put_nowait, (item, None))
                        if stop.is_set():
                            break
                finally:
                    close = getattr(iterator, "close", None)
                    if close is not None:
                        close()
            except BaseException as exc:  # delivered to the consumer, which re-raises it
                loop.call_soon_threadsafe(items.put_nowait, (_DONE, exc))
                return
            finally:
                slot.release()
            loop.call_soon_threadsafe(items.put_nowait, (_DONE, None))

        future = loop.run_in_executor(self._executor, pump)
        try:
            while True:
                item, error = await items.get()
                if item is _DONE:
                    if error is not None:
                        raise error
                    return
                yield item
        finally:
            stop.set()
            # Not awaited: a worker blocked inside a slow call finishes on its own time.
            future.add_done_callback(lambda f: f.exception())

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
