"""One index, one kind of vectors: the collection records the embedder's vectors when it is made, and a process
with the other embedder is refused with a message naming the setting that fits and the re-index command.
Two small hashing embedders stand for the model's fp32 and int8 vectors
(tests/integration/retrieval/test_embedder_vectors.py checks the real ones name their kinds)."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluation.passages import eval_data_dir
from retrieval.core.config import Settings
from retrieval.core.errors import EmbedderMismatch
from retrieval.embed.embedder import FP32_VECTORS, INT8_VECTORS, Embedder, int8_kernels
from retrieval.storage.chroma import ChromaStore
from retrieval.storage.chroma_client import make_client
from retrieval.storage.vector_label import BUILT_ON_KEY, EMBEDDER_KEY
from tests.support.fake_embedder import HashingEmbedder


@pytest.fixture
def embedder() -> Embedder:
    return HashingEmbedder(vectors=FP32_VECTORS)


@pytest.fixture
def int8_embedder() -> Embedder:
    return HashingEmbedder(vectors=INT8_VECTORS)


def _store(folder: Path, embedder: Embedder) -> ChromaStore:
    return ChromaStore(make_client(folder), embedder)


def _add_chunk(store: ChromaStore, embedder: Embedder) -> None:
    text = "The pier is closed until June."
    store.upsert(["a:0:x"], embedder.embed_documents([text]), [text], [{"article_id": "a"}])


def test_a_new_index_records_its_vectors_and_keeps_them_through_syncs(tmp_path: Path, int8_embedder: Embedder) -> None:
    store = _store(tmp_path, int8_embedder)
    assert store.collection.metadata[EMBEDDER_KEY] == INT8_VECTORS
    _add_chunk(store, int8_embedder)
    store.set_metadata({"last_sync": "2024-05-02T10:00:00+00:00", "version": "1"})  # what every commit writes
    again = _store(tmp_path, int8_embedder)
    assert again.collection.metadata == {
        "last_sync": "2024-05-02T10:00:00+00:00",
        "version": "1",
        EMBEDDER_KEY: INT8_VECTORS,
        BUILT_ON_KEY: int8_kernels(),
    }
    assert again.vectors_note is None


def test_an_int8_index_searched_from_another_class_of_cpu_says_so(
    tmp_path: Path, int8_embedder: Embedder, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """int8 kernels differ between CPUs with and without VNNI: the index records the class that embedded it, a
    process on the other class says so (log and stats), and fp32 indexes, the same everywhere, record none."""
    monkeypatch.setattr("retrieval.storage.vector_label.int8_kernels", lambda: "vnni")
    store = _store(tmp_path, int8_embedder)
    _add_chunk(store, int8_embedder)
    monkeypatch.setattr("retrieval.storage.vector_label.int8_kernels", lambda: "no-vnni")
    elsewhere = _store(tmp_path, int8_embedder)
    note = elsewhere.vectors_note or ""
    assert "class vnni" in note and "NEWSDESK_EMBEDDER=onnx" in note
    elsewhere.set_metadata({"last_sync": "2024-05-02T10:00:00+00:00", "version": "2"})  # a sync keeps the record
    assert elsewhere.collection.metadata[BUILT_ON_KEY] == "vnni"
    assert _store(tmp_path / "fp32", embedder).collection.metadata == {EMBEDDER_KEY: FP32_VECTORS}


def test_the_other_embedder_is_refused_with_the_way_out(
    tmp_path: Path, embedder: Embedder, int8_embedder: Embedder
) -> None:
    _add_chunk(_store(tmp_path, int8_embedder), int8_embedder)
    with pytest.raises(EmbedderMismatch) as caught:
        _store(tmp_path, embedder)
    message = caught.value.message
    assert caught.value.status_code == 409 and caught.value.code == "embedder_mismatch"
    assert INT8_VECTORS in message and "set NEWSDESK_EMBEDDER=onnx-int8 to use this index" in message
    assert f"delete {tmp_path}" in message and "`NEWSDESK_EMBEDDER=onnx newsdesk ingest corpus/ --prune`" in message
    assert _store(tmp_path, int8_embedder).count() == 1  # nothing was lost


def test_an_index_made_before_the_label_holds_fp32_vectors(
    tmp_path: Path, embedder: Embedder, int8_embedder: Embedder
) -> None:
    store = _store(tmp_path, embedder)
    _add_chunk(store, embedder)
    store.collection.modify(metadata={"last_sync": "2024-05-02T10:00:00+00:00"})  # as the old code left it
    assert EMBEDDER_KEY not in (_store(tmp_path, embedder).collection.metadata or {})  # opens as it was
    with pytest.raises(EmbedderMismatch, match=f"holds {FP32_VECTORS} vectors"):
        _store(tmp_path, int8_embedder)


def test_an_empty_index_takes_the_label_of_whoever_fills_it(
    tmp_path: Path, embedder: Embedder, int8_embedder: Embedder
) -> None:
    _store(tmp_path, embedder)  # e.g. `newsdesk stats` on a new data directory
    store = _store(tmp_path, int8_embedder)
    assert store.collection.metadata[EMBEDDER_KEY] == INT8_VECTORS
    _add_chunk(store, int8_embedder)
    with pytest.raises(EmbedderMismatch):
        _store(tmp_path, embedder)


def test_a_replica_sees_the_collection_change_embedder(
    tmp_path: Path, embedder: Embedder, int8_embedder: Embedder
) -> None:
    """A process polling a shared collection that was rebuilt with the other embedder stops searching it."""
    reader = _store(tmp_path, embedder)
    reader.client.delete_collection(reader.name)
    _add_chunk(_store(tmp_path, int8_embedder), int8_embedder)
    with pytest.raises(EmbedderMismatch):
        reader.change_marker()


def test_evaluation_indexes_are_kept_apart_by_vectors(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.json"
    fp32, torch, int8 = (eval_data_dir(Settings(data_dir=tmp_path, embedder=e), corpus)
                         for e in ("onnx", "torch", "onnx-int8"))  # fmt: skip
    assert fp32 == torch != int8
