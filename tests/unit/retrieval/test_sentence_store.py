"""The sentence-vector store on its own: lookups by exact text, persistence, compaction, damaged files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from retrieval.embed.sentence_vectors import SentenceVectors

DIM = 8


def _vectors(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)


@pytest.fixture
def store(tmp_path: Path) -> SentenceVectors:
    return SentenceVectors(tmp_path / "sv", "model-a", DIM)


def test_vectors_come_back_by_exact_text_only(store: SentenceVectors) -> None:
    texts = ["Xiaomi plans a plant.", "Apple's car slips to 2026.", "A third sentence here."]
    vectors = _vectors(3)
    store.add(texts, vectors)
    found = store.get(["Apple's car slips to 2026.", "apple's car slips to 2026.", "unknown", texts[0]])
    assert set(found) == {texts[1], texts[0]}
    np.testing.assert_array_equal(found[texts[1]], vectors[1])
    np.testing.assert_array_equal(found[texts[0]], vectors[0])
    assert store.missing(["unknown", texts[2], "unknown", "other"]) == ["unknown", "other"]
    assert len(store) == 3


def test_segments_survive_a_restart_and_later_segments_add_to_them(tmp_path: Path, store: SentenceVectors) -> None:
    store.add(["one sentence", "two sentence"], _vectors(2, 1))
    store.add(["three sentence"], _vectors(1, 2))
    again = SentenceVectors(tmp_path / "sv", "model-a", DIM)
    assert again.segments == 2 and len(again) == 3
    np.testing.assert_array_equal(again.get(["three sentence"])["three sentence"], _vectors(1, 2)[0])


def test_compaction_merges_segments_and_keeps_only_what_is_asked(tmp_path: Path, store: SentenceVectors) -> None:
    texts = [f"sentence number {i}" for i in range(10)]
    vectors = _vectors(10, 3)
    for i in range(0, 10, 3):
        store.add(texts[i : i + 3], vectors[i : i + 3])
    assert store.segments == 4
    store.compact(keep=texts[::2])
    assert store.segments == 1 and len(store) == 5
    found = store.get(texts)
    assert set(found) == set(texts[::2])
    for i in range(0, 10, 2):
        np.testing.assert_array_equal(found[texts[i]], vectors[i])
    assert len(list((tmp_path / "sv").glob("*.keys.npy"))) == 1  # the merged segments' files are gone
    store.compact(keep=[])
    assert len(store) == 0 and store.get(texts) == {}


def test_a_damaged_segment_is_dropped_and_the_rest_is_kept(tmp_path: Path, store: SentenceVectors) -> None:
    store.add(["kept sentence"], _vectors(1, 4))
    store.add(["lost sentence"], _vectors(1, 5))
    newest = sorted((tmp_path / "sv").glob("*.vectors.npy"))[-1]
    newest.write_bytes(b"not a numpy file")
    again = SentenceVectors(tmp_path / "sv", "model-a", DIM)
    assert set(again.get(["kept sentence", "lost sentence"])) == {"kept sentence"}
    assert again.missing(["kept sentence", "lost sentence"]) == ["lost sentence"]


def test_vectors_of_another_model_are_not_used(tmp_path: Path, store: SentenceVectors) -> None:
    store.add(["a sentence of model a"], _vectors(1, 6))
    other = SentenceVectors(tmp_path / "sv", "model-b", DIM)
    assert len(other) == 0 and other.get(["a sentence of model a"]) == {}


def test_duplicate_texts_in_one_batch_are_stored_once(store: SentenceVectors) -> None:
    store.add(["same", "same", "other"], _vectors(3, 7))
    assert len(store) == 2
    np.testing.assert_array_equal(store.get(["same"])["same"], _vectors(3, 7)[0])


def test_a_write_cut_short_leaves_nothing_behind(tmp_path: Path, store: SentenceVectors) -> None:
    store.add(["complete sentence"], _vectors(1, 8))
    (tmp_path / "sv" / ".123-abc.vectors.npy").write_bytes(b"half")  # the temporary file of a write
    (tmp_path / "sv" / "123-abc.vectors.npy").write_bytes(b"vectors whose keys were never written")
    again = SentenceVectors(tmp_path / "sv", "model-a", DIM)
    assert len(again) == 1 and again.segments == 1
    assert sorted(p.name for p in (tmp_path / "sv").iterdir() if "123-abc" in p.name) == []


def test_a_text_stored_in_two_segments_is_found_once(store: SentenceVectors) -> None:
    store.add(["twice", "a"], _vectors(2, 9))
    store.add(["twice", "b"], _vectors(2, 10))
    assert len(store) == 3
    np.testing.assert_array_equal(store.get(["twice"])["twice"], _vectors(2, 9)[0])  # the older vector
    store.compact()
    assert len(store) == 3 and set(store.get(["twice", "a", "b"])) == {"twice", "a", "b"}
