"""Search: quality ablation and latency at 1x and 10x, in one run; writes bench/results/search.json.

    .venv/bin/python bench/search.py [--corpus FILE] [--queries FILE] [--scale 10] [--no-ablation]

- Quality: every idea of retrieval.search.hybrid switched off or on in turn over the same 1x index, scored with
  the official MultiHop-RAG metric on all development questions, and on two fixed random halves (a
  "tune" half the weights were chosen on and the re-ranking trees were trained on, and a "held-out" half
  they never saw: bench/train_rerank.py uses the same split).
- Latency: Searcher.search (what every face calls) over the development questions, on the 609-article
  index (the `newsdesk eval retrieval` index, real vectors) and on a 10x index: the same chunks plus nine
  variants of every article (new id, title, url, outlet and date; sentences shuffled; vectors the
  original chunk's plus Gaussian noise, renormalised), written through Index.write/commit like an ingest.
  Embedding 6,000 articles would take an hour on two cores and does not change what a search costs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from bench.common import MULTIHOP, summarise, write_result  # noqa: E402
from evaluation.passages import BenchmarkQuery, breakdown, load_queries, open_eval_service, score_query  # noqa: E402
from retrieval.core.config import Settings  # noqa: E402
from retrieval.core.types import ChunkMeta  # noqa: E402
from retrieval.embed.embedder import FP32_VECTORS, Embedder  # noqa: E402
from retrieval.search.hybrid import Searcher, SearchOptions  # noqa: E402
from retrieval.search.rerank import trees_for  # noqa: E402
from retrieval.service import Newsdesk  # noqa: E402
from retrieval.storage.chroma import ChromaStore  # noqa: E402
from retrieval.storage.chroma_client import make_client  # noqa: E402
from retrieval.storage.index import Index  # noqa: E402
from tests.support.inside import chunk_texts, lexical_file, searcher

CACHE = Path(os.environ.get("NEWSDESK_BENCH_CACHE", Path(tempfile.gettempdir()) / "newsdesk-bench"))
NOISE = 0.05
SPLIT_SEED = 3
_SENTENCE = re.compile(r"(?<=[.!?])\s+")

BEST = SearchOptions()
FUSED = replace(BEST, rerank=False)  # the steps before the learned re-ranking
DENSE = SearchOptions.dense_only()
ABLATION: list[tuple[str, SearchOptions]] = [
    ("dense only (MiniLM cosine)", SearchOptions.dense_only()),
    ("BM25 only", SearchOptions.lexical_only()),
    ("dense + BM25, equal-weight RRF", replace(DENSE, lexical=True, fusion="rrf", lexical_weight=0.5)),
    ("dense + BM25, score fusion 0.8/0.2", replace(DENSE, lexical=True, lexical_weight=0.8)),
    ("  + outlet and date bonuses", replace(FUSED, clause_weight=0.0, lead_with_outlets=False, max_per_article=0)),
    ("  + best chunk of each named outlet first", replace(FUSED, clause_weight=0.0, max_per_article=0)),
    ("  + clause sub-queries (chunk BM25)", replace(FUSED, sentence_weight=0.0, max_per_article=0)),
    ("  + best-sentence BM25 in clauses", replace(FUSED, max_per_article=0)),
    ("  + at most 4 passages per article", FUSED),
    ("  + learned re-ranking of the first 40 (product)", BEST),
    ("product, but at most 1 per article", replace(BEST, max_per_article=1)),
    ("product, but at most 2 per article", replace(BEST, max_per_article=2)),
    ("product, clauses searched by Chroma too", replace(BEST, clause_dense=True)),
    ("product, but RRF instead of score fusion", replace(BEST, fusion="rrf", lexical_weight=0.5)),
]  # fmt: skip


def halves(queries: list[BenchmarkQuery]) -> tuple[set[int], set[int]]:
    order = list(range(len(queries)))
    random.Random(SPLIT_SEED).shuffle(order)
    return set(order[: len(order) // 2]), set(order[len(order) // 2 :])


def quality(searcher: Searcher, queries: list[BenchmarkQuery], split: tuple[set[int], set[int]]) -> dict[str, Any]:
    scored = []
    for item in queries:
        texts = [p.text for p in searcher.search(item.query, 10)]
        scored.append((item.question_type, score_query(texts, [e.fact for e in item.evidence_list])))
    tune, held = split
    return {
        "all": breakdown(scored).as_json(),
        "tune_half": breakdown([s for i, s in enumerate(scored) if i in tune]).overall.model_dump(by_alias=True),
        "held_out_half": breakdown([s for i, s in enumerate(scored) if i in held]).overall.model_dump(by_alias=True),
    }


def latency(index: Index, embedder: Embedder, queries: list[str], options: SearchOptions = BEST) -> dict[str, float]:
    """A fresh searcher on the raw embedder: no vector remembered from an earlier pass, every query embedded."""
    searcher = Searcher(index, embedder, options, model=trees_for(index.store.vectors))
    for query in queries[:20]:
        searcher.search(f"{query} (warm-up)", 10)  # tokenizer, ONNX sessions, index snapshot
    times = []
    for query in queries:
        started = time.perf_counter()
        searcher.search(query, 10)
        times.append((time.perf_counter() - started) * 1000)
    return summarise(times)


def _variant(
    text: str, meta: ChunkMeta, copy: int, outlets: list[str], rng: random.Random
) -> tuple[str, tuple[str, ChunkMeta]]:
    sentences = _SENTENCE.split(text)
    rng.shuffle(sentences)
    body = " ".join(sentences)
    article_id = f"{meta['article_id']}-v{copy}"
    day = int(meta.get("published_day") or 20231001)
    shifted = time.strftime("%Y-%m-%d", time.strptime(str(day), "%Y%m%d"))
    new: ChunkMeta = {
        **meta,
        "article_id": article_id,
        "title": f"{meta.get('title') or 'Untitled'} (variant {copy})",
        "url": f"{meta.get('url') or 'https://example.invalid/' + article_id}#v{copy}",
        "source": outlets[int(hashlib.sha1(article_id.encode()).hexdigest(), 16) % len(outlets)],
        "published_at": f"{shifted}T12:00:00+00:00",
        "content_hash": hashlib.sha1(f"{meta.get('content_hash')}:{copy}".encode()).hexdigest()[:16],
        "text_hash": hashlib.sha1(f"{meta.get('text_hash')}:{copy}".encode()).hexdigest()[:16],
    }
    return f"{article_id}:{meta.get('index')}:{hashlib.sha1(body.encode()).hexdigest()[:10]}", (body, new)


def scaled_index(base: Newsdesk, scale: int) -> tuple[Newsdesk, dict[str, Any]]:
    """A `scale`x copy of the base index (cached under CACHE, keyed by the base index's fingerprint and the
    kind of its vectors)."""
    ids = sorted(base.index.lexical.position)
    key = f"{fingerprint(ids)}:{scale}:{NOISE}"
    if base.store.vectors != FP32_VECTORS:  # fp32 copies keep the key they had before
        key += f":{base.store.vectors}"
    stamp_key = hashlib.sha1(key.encode()).hexdigest()[:12]
    data_dir = CACHE / f"search-x{scale}-{stamp_key}"
    settings = base.settings.model_copy(update={"data_dir": data_dir})
    stamp = data_dir / "built.json"
    if stamp.exists():
        return Newsdesk(settings, embedder=base.embedder), json.loads(stamp.read_text())
    started = time.perf_counter()
    store = ChromaStore(make_client(data_dir), base.embedder, settings.collection)
    index = Index(store, data_dir / "lexical" / settings.collection)
    chunks = lexical_file(base).rows(ids)
    got = base.store.collection.get(ids=ids, include=["embeddings"])
    position = {cid: i for i, cid in enumerate(got["ids"])}
    vectors = np.asarray([got["embeddings"][position[c]] for c in ids], dtype=np.float32)
    outlets = sorted({str(m.get("source")) for _, m in chunks.values() if m.get("source")})
    rng, np_rng = random.Random(7), np.random.default_rng(7)
    for start in range(0, len(ids), 4000):
        part = ids[start : start + 4000]
        index.write(part, vectors[start : start + 4000], [chunks[c][0] for c in part], [chunks[c][1] for c in part])
    for copy in range(1, scale):
        noisy = vectors + np_rng.normal(0.0, NOISE, size=vectors.shape).astype(np.float32)
        noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
        for start in range(0, len(ids), 4000):
            part = ids[start : start + 4000]
            rows = [_variant(*chunks[c], copy, outlets, rng) for c in part]
            texts = [body for _, (body, _) in rows]
            index.write([r[0] for r in rows], noisy[start : start + 4000], texts, [meta for _, (_, meta) in rows])
    index.commit()
    info = {"scale": scale, "chunks": len(ids) * scale, "build_seconds": round(time.perf_counter() - started, 1)}
    stamp.write_text(json.dumps(info))
    del index
    return Newsdesk(settings, embedder=base.embedder), info


def fingerprint(ids: list[str]) -> str:
    return hashlib.sha1("\n".join(ids).encode()).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=MULTIHOP / "corpus.json")
    parser.add_argument("--queries", type=Path, default=MULTIHOP / "queries-dev.json")
    parser.add_argument("--data-dir", type=Path, default=None, help="the 1x index (default: the eval index)")
    parser.add_argument("--scale", type=int, default=10)
    parser.add_argument("--no-ablation", action="store_true")
    args = parser.parse_args()

    settings = Settings()
    base, _ = open_eval_service(settings, args.corpus, args.data_dir)
    queries = load_queries(args.queries)
    texts = [q.query for q in queries]
    result: dict[str, Any] = {"questions": len(queries), "chunks_1x": len(chunk_texts(base))}

    if not args.no_ablation:
        split = halves(queries)
        rows = []
        for name, options in ABLATION:
            started = time.perf_counter()
            trees = trees_for(base.store.vectors)  # the trees for the index's kind of vectors
            figures = quality(searcher(base, options, model=trees), queries, split)
            rows.append({"search": name.strip(), **figures, "seconds": round(time.perf_counter() - started, 1)})
            overall = figures["all"]
            print(f"{name:48s} H4 {overall['Hits@4']:.4f} H10 {overall['Hits@10']:.4f} "
                  f"MRR {overall['MRR@10']:.4f} MAP {overall['MAP@10']:.4f}", file=sys.stderr, flush=True)  # fmt: skip
        result["ablation"] = rows
        result["split"] = f"random halves of the scored questions, seed {SPLIT_SEED}"

    one = latency(base.index, base.embedder, texts)
    scaled, info = scaled_index(base, args.scale)
    many = latency(scaled.index, base.embedder, texts)
    one_again = latency(base.index, base.embedder, texts)  # the machine is shared: measure 1x again after 10x
    # the same without the learned re-ranking: what it costs, in the same run
    fused_one = latency(base.index, base.embedder, texts, FUSED)
    fused_many = latency(scaled.index, base.embedder, texts, FUSED)
    result["latency"] = {
        "1x": {**one, "chunks": len(chunk_texts(base))},
        "1x_again": one_again,
        f"{args.scale}x": {**many, "chunks": len(chunk_texts(scaled)), **info},
        "p95_ratio": round(many["p95_ms"] / min(one["p95_ms"], one_again["p95_ms"]), 2),
        "without_reranking": {"1x": fused_one, f"{args.scale}x": fused_many},
        "reranking_p95_ratio": {
            "1x": round(min(one["p95_ms"], one_again["p95_ms"]) / fused_one["p95_ms"], 2),
            f"{args.scale}x": round(many["p95_ms"] / fused_many["p95_ms"], 2),
        },
        "method": __doc__.split("- Latency: ")[1].strip() if __doc__ else "",
    }
    write_result("search", result)


if __name__ == "__main__":
    main()
