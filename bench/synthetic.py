"""Indexes at 1x and 10x the MultiHop-RAG corpus for the memory, cold-start and Chroma-mode benchmarks.

Embedding 6,000 articles would take about an hour on two cores, and what these benchmarks measure (the RSS
of a serving process, its start-up, Chroma's latency) depends on how many chunks there are and how long
their texts are, not on the exact vector values. So:

- 1x: the 609 MultiHop articles, chunked by the real chunker (real texts and metadata). A sample of the
  chunks is embedded by the real model; every other chunk gets a perturbed copy of a sample vector
  (Gaussian noise, renormalised).
- 10x: the 1x chunks plus nine variants of every article: new id, title and url, each chunk's sentences
  shuffled, vectors perturbed again.

Chunks are written straight through Index.write and Index.commit (the same path ingest uses after
embedding), so the index on disk is exactly what a real ingest would leave. Built indexes are cached
under $NEWSDESK_BENCH_CACHE (default: the temp dir) and reused by later benchmarks in the same run.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from bench.common import MULTIHOP  # noqa: E402
from retrieval.core.config import Settings  # noqa: E402
from retrieval.core.types import Article  # noqa: E402
from retrieval.embed.embedder import Embedder, make_embedder  # noqa: E402
from retrieval.ingest.chunking import chunk_article  # noqa: E402
from retrieval.ingest.sources import load_sources, text_hash  # noqa: E402
from retrieval.ingest.sync import chunk_metadata, content_hash  # noqa: E402
from retrieval.storage.chroma import ChromaStore  # noqa: E402
from retrieval.storage.chroma_client import make_client  # noqa: E402
from retrieval.storage.index import Index  # noqa: E402

CACHE = Path(os.environ.get("NEWSDESK_BENCH_CACHE", Path(tempfile.gettempdir()) / "newsdesk-bench"))
SAMPLE = 192  # chunks embedded for real; the rest are perturbed copies of these
NOISE = 0.15
_SENTENCE = re.compile(r"(?<=[.!?])\s+")

METHOD = (
    "texts and metadata: the real chunker on the MultiHop articles (10x adds 9 variants per article with new "
    f"ids/titles/urls and shuffled sentences); vectors: {SAMPLE} chunks embedded by the real model, the "
    f"others perturbed copies of those (Gaussian noise sigma={NOISE}, renormalised); written through "
    "Index.write/commit like an ingest"
)


def model_cache() -> Path:
    return Path(os.environ.get("NEWSDESK_MODEL_CACHE_DIR", CACHE / "model-cache"))


def bench_settings(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"data_dir": data_dir, "model_cache_dir": model_cache()}
    values.update(overrides)
    return Settings(**values)


def multihop_articles(limit: int | None = None) -> list[Article]:
    articles = [a for a in load_sources([str(MULTIHOP / "corpus.json")]) if isinstance(a, Article)]
    return articles[:limit] if limit else articles


def _records(articles: list[Article], embedder: Embedder, settings: Settings) -> list[dict[str, Any]]:
    records = []
    for article in articles:
        chunks = chunk_article(article, embedder.count_tokens, settings.chunk_tokens, settings.chunk_overlap_sentences)
        c_hash, t_hash = content_hash(article), text_hash(article.body)
        for chunk in chunks:
            records.append(
                {
                    "id": chunk.id,
                    "text": chunk.text,
                    "embed_text": chunk.embed_text,
                    "meta": chunk_metadata(article, chunk, len(chunks), c_hash, t_hash),
                }
            )
    return records


def _variant(record: dict[str, Any], copy: int, rng: random.Random) -> dict[str, Any]:
    meta = dict(record["meta"])
    sentences = _SENTENCE.split(record["text"])
    rng.shuffle(sentences)
    text = " ".join(sentences)
    article_id = f"{meta['article_id']}-v{copy}"
    meta.update(
        article_id=article_id,
        title=f"{meta.get('title') or 'Untitled'} (variant {copy})",
        url=f"{meta.get('url') or 'https://example.invalid/' + article_id}#v{copy}",
        content_hash=hashlib.sha1(f"{meta['content_hash']}:{copy}".encode()).hexdigest()[:16],
        text_hash=hashlib.sha1(f"{meta['text_hash']}:{copy}".encode()).hexdigest()[:16],
    )
    digest = hashlib.sha1(text.encode()).hexdigest()[:10]
    return {"id": f"{article_id}:{meta['index']}:{digest}", "text": text, "meta": meta}


def _perturbed(base: np.ndarray, rows: int, rng: np.random.Generator) -> np.ndarray:
    picks = base[rng.integers(0, len(base), size=rows)]
    noisy = picks + rng.normal(0.0, NOISE / np.sqrt(base.shape[1]), size=picks.shape).astype(np.float32)
    return (noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype(np.float32)


def build_index(data_dir: Path, scale: int, embedder: Embedder, limit: int | None = None) -> dict[str, Any]:
    """Write a `scale`x index into data_dir (embedded Chroma + BM25). scale 0 = an empty index."""
    settings = bench_settings(data_dir)
    started = time.perf_counter()
    client = make_client(data_dir)
    index = Index(ChromaStore(client, embedder, settings.collection), data_dir / "lexical" / settings.collection)
    if scale == 0:
        index.commit()
        return {"scale": 0, "articles": 0, "chunks": 0, "build_seconds": round(time.perf_counter() - started, 1)}
    articles = multihop_articles(limit)
    base_records = _records(articles, embedder, settings)
    sample = embedder.embed_documents([r["embed_text"] for r in base_records[:SAMPLE]])
    rng, np_rng = random.Random(7), np.random.default_rng(7)
    batches = [(base_records, True)] + [
        ([_variant(r, copy, rng) for r in base_records], False) for copy in range(1, scale)
    ]
    written = 0
    for records, first in batches:
        vectors = _perturbed(sample, len(records), np_rng)
        if first:
            vectors[: len(sample)] = sample
        for start in range(0, len(records), 4000):
            part = records[start : start + 4000]
            ids, texts, metas = [r["id"] for r in part], [r["text"] for r in part], [r["meta"] for r in part]
            index.write(ids, vectors[start : start + 4000], texts, metas)
        written += len(records)
    index.commit()
    return {
        "scale": scale,
        "articles": len(articles) * scale,
        "chunks": written,
        "build_seconds": round(time.perf_counter() - started, 1),
    }


def cached_index(scale: int, embedder: Embedder | None = None, limit: int | None = None) -> tuple[Path, dict[str, Any]]:
    """The data dir of a `scale`x index, built once and reused (a stamp file says it is complete)."""
    data_dir = CACHE / (f"index-x{scale}" + (f"-limit{limit}" if limit else ""))
    stamp = data_dir / "built.json"
    if stamp.exists():
        return data_dir, json.loads(stamp.read_text())
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    embedder = embedder or make_embedder("onnx", model_cache())
    info = build_index(data_dir, scale, embedder, limit)
    info["method"] = METHOD
    stamp.write_text(json.dumps(info))
    return data_dir, info


def warm_model_cache() -> Embedder:
    """Export the ONNX model once before anything is timed (a Docker image has it built in)."""
    return make_embedder("onnx", model_cache())
