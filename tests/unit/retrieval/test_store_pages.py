"""The store reads and writes in bounded pages: every row is written, read back and deleted across page edges."""

from __future__ import annotations

from pathlib import Path

import chromadb
import pytest
from chromadb.config import Settings as ChromaSettings

from retrieval.core.types import ChunkMeta
from retrieval.storage import chroma_pages
from retrieval.storage.chroma import ChromaStore
from tests.support.fake_embedder import HashingEmbedder


@pytest.mark.parametrize("rows", [0, 1, 3, 7])
def test_every_row_crosses_the_page_edges(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rows: int) -> None:
    monkeypatch.setattr(chroma_pages, "PAGE", 3)
    embedder = HashingEmbedder()
    client = chromadb.PersistentClient(path=str(tmp_path), settings=ChromaSettings(anonymized_telemetry=False))
    chroma = ChromaStore(client, embedder)
    ids = [f"c{i}" for i in range(rows)]
    texts = [f"text number {i}" for i in range(rows)]
    metas: list[ChunkMeta] = [{"article_id": f"a{i // 2}", "index": i % 2} for i in range(rows)]
    chroma.upsert(ids, embedder.embed_documents(texts), texts, metas)

    assert sorted(chroma.all_ids()) == ids
    assert chroma.all_metadata() == dict(zip(ids, metas, strict=True))
    assert chroma.documents() == {i: (t, m) for i, t, m in zip(ids, texts, metas, strict=True)}
    assert set(chroma.documents(ids=ids[:4])) == set(ids[:4])
    assert chroma.present([*ids, "missing"]) == set(ids)

    chroma.update_metadata(ids, [{**m, "story_id": "s"} for m in metas])
    assert all(m["story_id"] == "s" for m in chroma.all_metadata().values())

    records = [chroma.record_changes([cid])[0] for cid in ids]
    assert [r for r, _ in chroma.changes_since(0)] == records
    assert chroma.changed_chunks(records) == sorted(ids)

    chroma.delete(ids[1:])
    assert chroma.all_ids() == ids[:1]
