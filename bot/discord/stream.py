"""From the synchronous answer stream to the event loop, and edits at a rate Discord accepts.

`stream_answer` runs the service's generator in a worker thread so the event loop never blocks;
`Throttled` publishes the latest value (the growing answer, the re-index progress) at most once per interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Generic, TypeVar

import discord

from retrieval.core.types import Answer, Question, StreamEvent
from retrieval.service import Newsdesk

log = logging.getLogger(__name__)

T = TypeVar("T")

STREAM_EDIT_SECONDS = 1.0  # Discord allows about 5 edits per 5 s per channel; once a second stays well clear


async def stream_answer(
    service: Newsdesk,
    question: Question,
    on_text: Callable[[str], None] | None = None,
) -> Answer:
    """Ask the service in a worker thread; on_text gets the text so far after each token. The question's
    `as_of` is when it was asked (the message's own time), which "last week" and "latest" are read against.

    Returns the final, citation-checked Answer of the `done` event, which is what must be shown in the end
    (streamed tokens are provisional). Engine errors are raised as they are.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[StreamEvent | Exception | None] = asyncio.Queue()
    stop = threading.Event()

    def put(item: StreamEvent | Exception | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closing: nobody is listening any more
            loop.call_soon_threadsafe(queue.put_nowait, item)

    def events() -> Iterator[StreamEvent]:
        return service.ask_stream(question)

    worker = asyncio.ensure_future(asyncio.to_thread(_relay, events, put, stop))
    text = ""
    try:
        while True:
            item = await queue.get()
            if isinstance(item, Exception):
                raise item
            if item is None:
                raise RuntimeError("the answer stream ended without a final answer")
            if item.type == "token" and item.text:
                text += item.text
                if on_text is not None:
                    on_text(text)
            elif item.type == "done" and item.answer is not None:
                return item.answer
    finally:
        stop.set()
        if worker.done() and not worker.cancelled():
            worker.exception()  # _relay() never raises; this just marks the result as seen


def _relay(
    events: Callable[[], Iterator[StreamEvent]],
    put: Callable[[StreamEvent | Exception | None], None],
    stop: threading.Event,
) -> None:
    """In the worker thread: hand each event over until stopped, then None (the end) or the exception."""
    try:
        stream = events()
        try:
            for event in stream:
                if stop.is_set():
                    break
                put(event)
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()
    except Exception as exc:  # handed over to the event loop, which raises it
        put(exc)
    else:
        put(None)


class Throttled(Generic[T]):
    """Publishes the latest pushed value at most once per interval, dropping the ones in between.

    The first publication comes no sooner than one interval after entering, so a result that is ready
    quickly is shown once, in full, without a preview flashing first. Leaving waits for a publication in
    flight (so that it cannot land after the final edit) and drops what is still pending.
    """

    def __init__(self, publish: Callable[[T], Awaitable[None]], interval: float) -> None:
        self._publish = publish
        self.interval = interval
        self._value: list[T] = []
        self._wake = asyncio.Event()
        self._closing = asyncio.Event()
        self._last = time.monotonic()
        self._task: asyncio.Task[None] | None = None
        self.published = 0

    def push(self, value: T) -> None:
        self._value = [value]
        self._wake.set()

    async def __aenter__(self) -> Throttled[T]:
        self._last = time.monotonic()
        self._task = asyncio.create_task(self._pump())
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        self._closing.set()
        self._wake.set()
        if self._task is None:
            return
        if exc_type is not None:
            self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise

    async def _pump(self) -> None:
        while True:
            await self._wake.wait()
            if self._closing.is_set():
                return
            delay = self._last + self.interval - time.monotonic()
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), delay)
                if self._closing.is_set():
                    return
            self._wake.clear()
            (value,) = self._value
            try:
                await self._publish(value)
            except discord.HTTPException:
                log.warning("could not update a message in place; the final version will still be sent", exc_info=True)
            self._last = time.monotonic()
            self.published += 1
