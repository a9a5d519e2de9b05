"""The ONNX backend (the default) gives the same vectors as sentence-transformers on torch."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from retrieval.embed.embedder import (
    Embedder,
    OnnxEmbedder,
    TorchEmbedder,
    export_onnx,
    packaged_model_path,
    quantise_onnx,
)

pytestmark = pytest.mark.integration

TEXTS = [
    "Xiaomi wants to build and operate its own factory, with an annual output of 300,000 vehicles.",
    "Apple is meeting with suppliers for essential EV components, including batteries.",
    "short",
    "A much longer passage " * 60,  # past the 256-token window: both backends truncate alike
]


def test_onnx_matches_torch(embedder: Embedder) -> None:
    torch_embedder = TorchEmbedder(batch_size=4)
    onnx_vectors = embedder.embed_documents(TEXTS)
    torch_vectors = torch_embedder.embed_documents(TEXTS)
    assert onnx_vectors.shape == torch_vectors.shape == (4, 384)
    cosine = (onnx_vectors * torch_vectors).sum(axis=1)
    assert cosine.min() >= 0.9999
    np.testing.assert_allclose(np.linalg.norm(onnx_vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.count_tokens(TEXTS) == torch_embedder.count_tokens(TEXTS)


def test_batching_and_order_do_not_change_vectors(embedder: Embedder, int8_embedder: OnnxEmbedder) -> None:
    """A text's vector depends on the text only: int8 too, whose activations are scaled per run (it runs each
    text alone; in a batch of 8, a short text beside a long one moved to cosine .98 of its vector alone)."""
    for model in (embedder, int8_embedder):
        together = model.embed_documents(TEXTS)
        alone = np.stack([model.embed_query(t) for t in TEXTS])
        np.testing.assert_allclose(together, alone, atol=1e-5)
        np.testing.assert_allclose(model.embed_documents(TEXTS[::-1])[::-1], together, atol=1e-5)
    np.testing.assert_allclose(int8_embedder.embed_here(TEXTS), int8_embedder.embed_documents(TEXTS), atol=1e-5)


def test_the_export_is_cached(model_cache: Path) -> None:
    path = export_onnx(packaged_model_path(), model_cache)
    stamp = path.stat().st_mtime_ns
    assert export_onnx(packaged_model_path(), model_cache) == path
    assert path.stat().st_mtime_ns == stamp


def test_the_int8_copy_is_made_once_from_the_export_and_cached_beside_it(model_cache: Path) -> None:
    path = quantise_onnx(packaged_model_path(), model_cache)
    assert path.parent == model_cache and path.stem.startswith(export_onnx(packaged_model_path(), model_cache).stem)
    assert path.stat().st_size < export_onnx(packaged_model_path(), model_cache).stat().st_size / 3  # 8-bit weights
    stamp = path.stat().st_mtime_ns
    assert quantise_onnx(packaged_model_path(), model_cache) == path and path.stat().st_mtime_ns == stamp
    assert not [p for p in model_cache.iterdir() if p.name.endswith(".tmp")]


def test_int8_vectors_are_close_to_fp32_but_another_kind(embedder: Embedder, int8_embedder: OnnxEmbedder) -> None:
    """Close enough to rank alike (bench/ingest.py measures the ranking), not the same: the index records which."""
    fp32, int8 = embedder.embed_documents(TEXTS), int8_embedder.embed_documents(TEXTS)
    cosine = (fp32 * int8).sum(axis=1)
    assert cosine.min() >= 0.97 and cosine.max() < 0.9999
    np.testing.assert_allclose(np.linalg.norm(int8, axis=1), 1.0, atol=1e-5)
    assert int8_embedder.count_tokens(TEXTS) == embedder.count_tokens(TEXTS)


def test_questions_under_load_fall_back_to_the_single_threaded_sessions(embedder: Embedder) -> None:
    """While the all-cores session is busy, a question runs on a per-core session: same vector, no waiting."""
    assert isinstance(embedder, OnnxEmbedder)
    expected = embedder.embed_query(TEXTS[0])
    with embedder.quick_lock:  # as if another request held it
        fallback = embedder.embed_query(TEXTS[0])
    np.testing.assert_allclose(fallback, expected, atol=1e-5)
    with ThreadPoolExecutor(8) as pool:
        vectors = list(pool.map(embedder.embed_query, TEXTS * 4))
    np.testing.assert_allclose(np.stack(vectors), embedder.embed_documents(TEXTS * 4), atol=1e-5)


def test_the_all_cores_session_is_left_alone_while_another_batch_runs(
    embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Beside a running batch, a question on every core would share a core with it: it takes its own."""
    assert isinstance(embedder, OnnxEmbedder)
    quick_runs: list[int] = []
    real = embedder.quick

    class Counting:
        def run(self, *args: Any, **kwargs: Any) -> Any:
            quick_runs.append(1)
            return real.run(*args, **kwargs)

    monkeypatch.setattr(embedder, "quick", Counting())
    expected = embedder.embed_query(TEXTS[1])
    assert quick_runs == [1]  # idle: every core
    monkeypatch.setattr(embedder, "_running", 1)  # as if another request's batch were running
    beside = embedder.embed_query(TEXTS[1])
    assert quick_runs == [1]
    np.testing.assert_allclose(beside, expected, atol=1e-5)


def test_a_long_write_never_starves_a_question(embedder: Embedder) -> None:
    """Issue 25, item 5: a write's thousands of batches queued ahead of an answer's few in the shared pool (new
    questions waited minutes behind a 1.9 MB article). Questions have their own lane: measured against the idle
    latency in the same run, while the write is still embedding."""
    assert isinstance(embedder, OnnxEmbedder)
    write = [f"Sentence {i} of a very long article about the harbour, its ferries and its piers." for i in range(8000)]
    answer = [f"Candidate answer sentence {i} about the plant's planned annual output." for i in range(40)]

    def timed() -> float:
        start = time.perf_counter()
        embedder.embed_documents(answer)
        return time.perf_counter() - start

    idle = max(timed() for _ in range(3))
    writing = threading.Thread(target=embedder.embed_documents, args=(write,))
    writing.start()
    time.sleep(0.3)
    busy = [timed() for _ in range(3)]
    still_writing = writing.is_alive()
    writing.join()
    assert still_writing, "the write finished before the questions ran: the test proves nothing"
    assert max(busy) < max(1.5, 8 * idle), f"idle {idle:.3f}s, beside a write {busy}"
