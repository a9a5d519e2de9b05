"""Runs one real ingest in its own process, printing a line after each batch, so a test can kill it.

`python -m tests.support.ingest_driver FOLDER [PAUSE]`: PAUSE names a gap the driver holds open for half a
second, after printing a line, so a test can kill the process inside it:
- `between-writes`: Chroma has a batch's change, the lexical file not yet ("chroma-written");
- `before-marker`: the sync is recorded in Chroma, the file's marker not yet ("chroma-committed");
- `before-follows`: the sync is committed, its new articles not yet matched against the follows: the process
  dies there ("synced", then exit code 9).
"""

from __future__ import annotations

import sys
import time
from typing import Any

from retrieval.core.config import Settings
from retrieval.service import Newsdesk
from retrieval.storage.lexical import LexicalStore


def hold(line: str) -> None:
    print(line, flush=True)
    time.sleep(0.5)


def pause_at(gap: str) -> None:
    if gap == "between-writes":
        write = LexicalStore.write

        def paused_write(self: LexicalStore, *args: Any, **kwargs: Any) -> None:
            hold("chroma-written")
            write(self, *args, **kwargs)

        LexicalStore.write = paused_write  # type: ignore[method-assign]
    elif gap == "before-marker":
        put = LexicalStore.put

        def paused_put(self: LexicalStore, values: dict[str, str | None]) -> None:
            if values.get("marker"):
                hold("chroma-committed")
            put(self, values)

        LexicalStore.put = paused_put  # type: ignore[method-assign,assignment]
    elif gap == "before-follows":
        from tests.support.inside import die_before_matching_follows

        die_before_matching_follows()


def main() -> None:
    folder = sys.argv[1]
    service = Newsdesk(Settings())
    if len(sys.argv) > 2:
        pause_at(sys.argv[2])
    print("ready", flush=True)
    report = service.ingest(
        [folder], prune=True, progress=lambda done, total: print(f"batch {done}/{total}", flush=True)
    )
    print("done", report.model_dump_json(), flush=True)


if __name__ == "__main__":
    main()
