"""Chroma takes a bounded number of rows a request: reads and writes go a page at a time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

PAGE = 5000


def batches(n: int) -> Iterator[slice]:
    """Slices of at most PAGE items covering n: Chroma takes a bounded number of rows a request."""
    for start in range(0, n, PAGE):
        yield slice(start, start + PAGE)


def pages(call: Callable[..., Any], action: str, **get: Any) -> Iterator[Any]:
    """Every page of a `get` through `call` (a store's _call or _log_call), PAGE rows at a time, in order."""
    offset = 0
    while True:
        page = call(action, "get", **get, limit=PAGE, offset=offset)
        yield page
        if len(page["ids"]) < PAGE:
            return
        offset += PAGE
