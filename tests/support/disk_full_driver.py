"""One real service on a data directory the caller has mounted as a small tmpfs (tests/integration/
test_storage_faults.py): a write reaches Chroma while the disk is full, as when another process fills the disk
between the service's check and its write, then the service is asked to write again and again.

Prints one line per step, as it ends (a step that hangs shows as the missing line).

    python -m tests.support.disk_full_driver CORPUS_DIR ARTICLES_JSON
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from retrieval.core.config import Settings
from retrieval.core.errors import StorageError
from retrieval.ingest.sources import make_article
from retrieval.service import Newsdesk


def fill(data_dir: Path) -> None:
    """Fill the disk, leaving 64 KB."""
    filler = data_dir / "filler"
    subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=64k"], capture_output=True)
    subprocess.run(["truncate", "-s", "-64K", str(filler)], check=True)


def step(name: str, action: object) -> None:
    started = time.perf_counter()
    try:
        result = action() if callable(action) else action
        outcome = f"ok {result}"
    except StorageError as exc:
        outcome = f"refused {exc.message}"
    print(f"{name} {time.perf_counter() - started:.2f}s {outcome}", flush=True)


def main() -> None:
    corpus, articles_file = sys.argv[1], Path(sys.argv[2])
    settings = Settings()
    service = Newsdesk(settings)
    service.ingest([corpus])
    loose = json.loads(articles_file.read_text())
    articles = [make_article(fields, origin="driver", key=f"driver:{i}") for i, fields in enumerate(loose)]
    fill(settings.data_dir)

    # a write that reaches Chroma although the disk is full: Chroma fails, and its writer may be left broken
    # (a later write can then wait for ever, holding the GIL: once after three such failures, once after two)
    chunks = {
        "ids": [f"filler-{i}" for i in range(200)],
        "embeddings": np.ones((200, service.embedder.dim), dtype=np.float32),
        "documents": ["filler text " * 100] * 200,
    }
    step("chroma", lambda: service.store._call("write chunks", "upsert", **chunks))
    for i, article in enumerate(articles[:6]):
        step(f"write{i}", lambda article=article: len(service.add_articles([article]).added))
        step(f"read{i}", lambda: bool(service.search("Xiaomi plant output", 3)))
    os.remove(settings.data_dir / "filler")
    step("after", lambda: len(service.add_articles(articles[6:8]).added))
    step("found", lambda: service.search(articles[6].title, 1)[0].title == articles[6].title)
    print("done", flush=True)


if __name__ == "__main__":
    main()
