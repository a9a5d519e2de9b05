"""Embedded Chroma against a Chroma server (`chroma run` on loopback), on the same 1x index, in one run.

The same data folder is served both ways (a copy of the embedded store is the server's --path), and the
same real query vectors (MultiHop questions, embedded once) are sent to both, interleaved round by round.
Measured: the dense query alone (ChromaStore.query, the candidates search asks for), a whole search
(Newsdesk.search: embed the question, dense + BM25, fusion; in server mode it also checks at most every
2 s whether another process changed the index), and write throughput (upserts of perturbed chunks into a
fresh collection). Ratios are server / embedded: the baseline is embedded.

Usage: python bench/chroma_modes.py [--queries N] [--limit ARTICLES]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import MULTIHOP, summarise, write_result  # noqa: E402
from bench.synthetic import METHOD, bench_settings, cached_index, warm_model_cache  # noqa: E402
from retrieval.core.types import ChunkMeta  # noqa: E402
from retrieval.search.hybrid import SearchOptions  # noqa: E402
from retrieval.service import Newsdesk  # noqa: E402
from retrieval.storage.chroma import ChromaStore  # noqa: E402
from retrieval.storage.chroma_client import make_client  # noqa: E402
from tests.support.chroma_server import ChromaServer  # noqa: E402

WRITE_CHUNKS = 2000


def _ms(fn: Any) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def write_rate(store: ChromaStore, vectors: np.ndarray) -> float:
    ids = [f"w{i}" for i in range(len(vectors))]
    docs = [f"benchmark chunk {i}" for i in range(len(vectors))]
    metas: list[ChunkMeta] = [{"article_id": f"a{i // 10}", "index": i % 10} for i in range(len(vectors))]
    started = time.perf_counter()
    for start in range(0, len(ids), 200):  # batches the size an ingest writes
        store.upsert(
            ids[start : start + 200],
            vectors[start : start + 200],
            docs[start : start + 200],
            metas[start : start + 200],
        )
    return len(ids) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--limit", type=int, default=None, help="articles in the 1x index (default: all 609)")
    args = parser.parse_args()
    embedder = warm_model_cache()
    x1_dir, info = cached_index(1, embedder, args.limit)
    work = Path(tempfile.mkdtemp(prefix="newsdesk-modes-"))
    shutil.copytree(x1_dir / "chroma", work / "server-chroma")
    shutil.copytree(x1_dir / "lexical", work / "server-data" / "lexical")
    questions = [q["query"] for q in json.loads((MULTIHOP / "queries-dev.json").read_text())[: args.queries]]
    vectors = [embedder.embed_query(q) for q in questions]
    candidates = SearchOptions().candidates

    with ChromaServer(work / "server-chroma") as server:
        services = {
            "embedded": Newsdesk(bench_settings(x1_dir), embedder=embedder),
            "server": Newsdesk(bench_settings(work / "server-data", chroma_url=server.url), embedder=embedder),
        }
        assert services["embedded"].store.count() == services["server"].store.count() == info["chunks"]
        for service in services.values():  # warm both: first queries load the HNSW index
            for q in questions[:5]:
                service.search(q)
        query_ms: dict[str, list[float]] = {m: [] for m in services}
        search_ms: dict[str, list[float]] = {m: [] for m in services}
        for question, vector in zip(questions, vectors, strict=True):
            for mode, service in services.items():
                query_ms[mode].append(_ms(lambda s=service, v=vector: s.store.query(v, candidates)))
                search_ms[mode].append(_ms(lambda s=service, q=question: s.search(q)))

        rng = np.random.default_rng(3)
        fresh = rng.normal(size=(WRITE_CHUNKS, embedder.dim)).astype(np.float32)
        fresh /= np.linalg.norm(fresh, axis=1, keepdims=True)
        writes = {
            "embedded": write_rate(ChromaStore(make_client(work / "write-embedded"), embedder, "bench-write"), fresh),
            "server": write_rate(ChromaStore(make_client(work, server.url), embedder, "bench-write"), fresh),
        }

    query = {m: summarise(v) for m, v in query_ms.items()}
    search = {m: summarise(v) for m, v in search_ms.items()}
    write_result(
        "chroma_modes",
        {
            "what": "embedded PersistentClient vs HttpClient to `chroma run` on 127.0.0.1, same index, same queries",
            "index_method": METHOD,
            "load_average_1_5_15_min": [round(x, 1) for x in os.getloadavg()],
            "index": {k: v for k, v in info.items() if k != "method"},
            "dense_candidates": candidates,
            "dense_query": query,
            "search": search,
            "write_chunks_per_s": {m: round(v, 1) for m, v in writes.items()},
            "ratios": {
                "dense_query_p50_server_vs_embedded": round(query["server"]["p50_ms"] / query["embedded"]["p50_ms"], 2),
                "dense_query_p95_server_vs_embedded": round(query["server"]["p95_ms"] / query["embedded"]["p95_ms"], 2),
                "search_p50_server_vs_embedded": round(search["server"]["p50_ms"] / search["embedded"]["p50_ms"], 2),
                "search_p95_server_vs_embedded": round(search["server"]["p95_ms"] / search["embedded"]["p95_ms"], 2),
                "write_rate_server_vs_embedded": round(writes["server"] / writes["embedded"], 2),
            },
        },
    )


if __name__ == "__main__":
    main()
