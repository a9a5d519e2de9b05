"""Runs one real ingest in its own process, printing a line after each batch, so a test can kill it."""

from __future__ import annotations

import sys

from retrieval.config import Settings
from retrieval.service import Newsdesk


def main() -> None:
    folder = sys.argv[1]
    service = Newsdesk(Settings())
    print("ready", flush=True)
    report = service.ingest(
        [folder], prune=True, progress=lambda done, total: print(f"batch {done}/{total}", flush=True)
    )
    print("done", report.model_dump_json(), flush=True)


if __name__ == "__main__":
    main()
