"""asyncio: stream a Session's events without blocking the event loop.

    async def main():
        with systrace.enable("openat", strings=True) as session:
            async for event in systrace.aiter_events(session):   # or: async for event in session
                print(event)

The iterators wait on `session.fileno()`, an eventfd that is readable while
events wait or once the session is finished, with `loop.add_reader()`, and
take the events with `session.poll(0)`, which does not wait. They end when
the session is closed (by another coroutine, a thread, or a signal handler)
and every event was taken. Several iterators may wait on one session (each
event goes to one of them); they share the loop's reader of the fd.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, AsyncIterator, Dict, List, Optional, Tuple

from ._native import Event, EventBatch, Session

if TYPE_CHECKING:  # asyncio is imported when an iterator first waits, not with systrace
    import asyncio

__all__ = ["AsyncEventIterator", "AsyncBatchIterator", "aiter_events", "aiter_batches"]

# The futures waiting on each (loop, fd): a loop keeps one reader callback
# per fd, so the iterators of one session share it (a second one's used to
# replace the first's, which then waited forever, even past the close).
_waiters: Dict[Tuple[Any, int], List["asyncio.Future[None]"]] = {}


class AsyncBatchIterator:
    """An async iterator of a session's EventBatch: each non-empty batch as it
    arrives, ending once the session is closed and drained.

    Waiting never blocks the loop: it awaits readiness of session.fileno()
    through loop.add_reader(), then takes the events with poll(0).
    """

    def __init__(self, session: Session) -> None:
        self._session = session
        self._fd: int = session.fileno()
        self._done = False

    def __aiter__(self) -> "AsyncBatchIterator":
        return self

    async def __anext__(self) -> EventBatch:
        while not self._done:
            batch = self._session.poll(0.0)
            if batch:
                return batch
            if self._session.exhausted:
                self._done = True
                break
            await self._readable()
        raise StopAsyncIteration

    async def _readable(self) -> None:
        """Wait until the session's eventfd is readable (events, or the end)."""
        import asyncio

        loop = asyncio.get_running_loop()
        ready: "asyncio.Future[None]" = loop.create_future()
        key = (loop, self._fd)
        waiting = _waiters.get(key)
        if waiting is None:
            waiting = _waiters[key] = []
            every = waiting

            def on_readable() -> None:
                for f in every:
                    if not f.done():
                        f.set_result(None)

            loop.add_reader(self._fd, on_readable)
        waiting.append(ready)
        try:
            await ready
        finally:
            waiting.remove(ready)
            if not waiting:
                del _waiters[key]
                loop.remove_reader(self._fd)


class AsyncEventIterator:
    """An async iterator of a session's events, one Event at a time, in the
    order of arrival; it ends once the session is closed and drained.

    This is what `async for event in session` uses. See AsyncBatchIterator
    for how it waits.
    """

    def __init__(self, session: Session) -> None:
        self._batches = AsyncBatchIterator(session)
        self._batch: Optional[EventBatch] = None
        self._next = 0

    def __aiter__(self) -> "AsyncEventIterator":
        return self

    async def __anext__(self) -> Event:
        batch = self._batch
        if batch is None or self._next >= len(batch):
            batch = self._batch = await self._batches.__anext__()
            self._next = 0
        event = batch[self._next]
        self._next += 1
        return event


def aiter_events(session: Session) -> AsyncIterator[Event]:
    """Stream `session`'s events in an asyncio program: `async for event in
    aiter_events(session)`. Ends after the session is closed and drained."""
    return AsyncEventIterator(session)


def aiter_batches(session: Session) -> AsyncIterator[EventBatch]:
    """Stream `session`'s events in batches (EventBatch, e.g. for
    batch.columns()): `async for batch in aiter_batches(session)`. Ends
    after the session is closed and drained."""
    return AsyncBatchIterator(session)
