"""What a clean rebuild of the lexical index gives, to compare with one a history of syncs and kills left."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from retrieval.service import Newsdesk
from retrieval.storage.index import lexical_text
from retrieval.storage.lexical import LexicalStore, Row, contents


def rebuilt_contents(service: Newsdesk, folder: Path) -> dict[str, Any]:
    """The contents of a lexical file built in one go from what Chroma holds now."""
    fresh = LexicalStore(folder / "rebuilt.sqlite3")
    docs = service.store.documents()
    fresh.write([Row(cid, doc, meta, lexical_text(doc, meta)) for cid, (doc, meta) in sorted(docs.items())])
    try:
        return contents(fresh)
    finally:
        fresh.close()


def assert_lexical_matches_chroma(service: Newsdesk, folder: Path) -> None:
    """The service's lexical file says exactly what a clean rebuild from Chroma says, and is in step."""
    index = service.index
    assert index.file.get("pending") is None
    assert contents(index.file) == rebuilt_contents(service, folder)
    assert set(index.lexical.position) == set(service.store.all_ids())
