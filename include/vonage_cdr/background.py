"""Run an iterator a few items ahead in a thread of its own, so producing and consuming overlap.

Why: the incremental read waits on the network (paced at the API's rate) while normalizing is CPU work, and
a load encodes its next batch while PostgreSQL takes the current one. Doing either in turn leaves one side
idle. The thread reads ``items`` at most ``depth`` items ahead (bounded memory), items come out in order,
an error raised while producing is raised to the consumer at that point, and a consumer that stops early
(an error of its own, ``break``) stops the thread before going on: ``items`` is never read by two threads
at once, and no page is fetched (and billed) after the consumer gave up.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

__all__ = ["ahead"]

T = TypeVar("T")
_DONE = object()


def ahead(items: Iterable[T], depth: int, *, name: str = "cdr-ahead") -> Iterator[T]:
    """Yield the items of ``items``, produced by a background thread up to ``depth`` items in advance."""
    results: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def put(kind: str, value: object) -> bool:
        while not stop.is_set():
            try:
                results.put((kind, value), timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if stop.is_set() or not put("item", item):
                    return
            put("done", _DONE)
        except BaseException as exc:  # handed to the consumer
            put("error", exc)

    thread = threading.Thread(target=produce, name=name, daemon=True)
    thread.start()
    try:
        while True:
            kind, value = results.get()
            if kind == "done":
                return
            if kind == "error":
                assert isinstance(value, BaseException)
                raise value
            yield value  # type: ignore[misc]
    finally:
        stop.set()
        thread.join()
