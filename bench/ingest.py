"""Ingest benchmark on the MultiHop-RAG corpus, all in one run on one machine:

- Newsdesk full ingest (chunks/s) against the plain LangChain way (RecursiveCharacterTextSplitter +
  HuggingFaceEmbeddings + Chroma.from_documents) on the same articles and model;
- Newsdesk end to end against the raw encode speed of the same chunks with the same backend;
- re-ingest of the unchanged corpus (seconds);
- with --against-data-dir (an index of the same corpus built with the `--against` embedder, fp32 by default),
  the embedder against that one, on the same questions and sentences, interleaved so that both see the same
  machine: question-embedding latency, search latency (each over its own index), the background
  sentence-vector fill, and the development questions' retrieval figures (bench/search.py's halves).

Usage: python bench/ingest.py [--limit N] [--embedder onnx-int8] [--keep DIR] [--against-data-dir DIR]
       (N articles; default all 609. The embedder defaults to NEWSDESK_EMBEDDER's.)
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from bench.common import MULTIHOP, summarise, write_result  # noqa: E402
from bench.search import halves, quality  # noqa: E402
from evaluation.passages import load_queries  # noqa: E402
from retrieval.core.config import Settings  # noqa: E402
from retrieval.core.types import Article  # noqa: E402
from retrieval.embed.embedder import DEFAULT_EMBEDDER, make_embedder, packaged_model_path  # noqa: E402
from retrieval.embed.sentence_vectors import SentenceFiller, SentenceVectors  # noqa: E402
from retrieval.ingest.chunking import chunk_article  # noqa: E402
from retrieval.ingest.sources import load_sources  # noqa: E402
from retrieval.search.rerank import trees_for  # noqa: E402
from retrieval.service import Newsdesk  # noqa: E402
from tests.support.inside import chunk_texts, extractive, searcher


def newsdesk_run(corpus_file: Path, settings: Settings) -> dict[str, float]:
    service = Newsdesk(settings)
    start = time.perf_counter()
    report = service.ingest([str(corpus_file)])
    full = time.perf_counter() - start
    assert not report.failed, report.failed[:3]
    start = time.perf_counter()
    again = Newsdesk(settings).ingest([str(corpus_file)])  # a fresh process-like start: reads the index back
    reingest = time.perf_counter() - start
    assert again.chunks_embedded == 0 and not again.added
    articles = [a for a in load_sources([str(corpus_file)]) if isinstance(a, Article)]
    embed_texts = [
        c.embed_text
        for a in articles
        for c in chunk_article(
            a, service.embedder.count_tokens, settings.chunk_tokens, settings.chunk_overlap_sentences
        )
    ]
    start = time.perf_counter()
    service.embedder.embed_documents(embed_texts)
    raw = time.perf_counter() - start
    service.close()
    chunks = report.chunks_embedded
    return {
        "articles": len(report.added),
        "chunks": chunks,
        "seconds": round(full, 2),
        "chunks_per_s": round(chunks / full, 2),
        "raw_encode_seconds": round(raw, 2),
        "raw_encode_chunks_per_s": round(len(embed_texts) / raw, 2),
        "reingest_unchanged_seconds": round(reingest, 2),
    }


def langchain_run(corpus_file: Path, work: Path, limit: int | None) -> dict[str, float]:
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_huggingface import HuggingFaceEmbeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    articles = json.loads(corpus_file.read_text())[:limit]
    start = time.perf_counter()
    docs = [Document(page_content=a["body"], metadata={"title": a["title"], "source": a["source"]}) for a in articles]
    splits = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200).split_documents(docs)
    embeddings = HuggingFaceEmbeddings(model_name=str(packaged_model_path()), model_kwargs={"device": "cpu"})
    Chroma.from_documents(splits, embeddings, persist_directory=str(work / "langchain-chroma"))
    seconds = time.perf_counter() - start
    return {"articles": len(articles), "chunks": len(splits), "seconds": round(seconds, 2),
            "chunks_per_s": round(len(splits) / seconds, 2)}  # fmt: skip


def against_run(ours: Newsdesk, theirs: Newsdesk, questions_file: Path, fill_chunks: int | None) -> dict[str, Any]:
    """This embedder and its index against another's, on the same questions and sentences, interleaved."""
    queries = load_queries(questions_file)
    questions = [q.query for q in queries]
    names = (ours.settings.embedder, theirs.settings.embedder)
    pair = (ours, theirs)
    embed_ms: tuple[list[float], list[float]] = ([], [])
    search_ms: tuple[list[float], list[float]] = ([], [])
    # the raw embedders (every question embedded), and the re-ranking trees each index's vectors get
    searchers = [searcher(s, model=trees_for(s.store.vectors)) for s in pair]
    for warming in searchers:
        for question in questions[:20]:
            warming.search(f"{question} (warm-up)", 10)  # tokenizer, sessions, index snapshot
    for n, question in enumerate(questions):
        for side in (0, 1) if n % 2 == 0 else (1, 0):  # who goes first alternates
            started = time.perf_counter()
            pair[side].embedder.embed_query(question)
            embed_ms[side].append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            searchers[side].search(question, 10)
            search_ms[side].append((time.perf_counter() - started) * 1000)
    embed = [summarise(t) for t in embed_ms]
    search = [summarise(t) for t in search_ms]

    # the background fill: the sentence heads of the same chunks (the first `fill_chunks`), each embedder into
    # a store of its own, as the server's filler thread does it (fill_once, on its own session)
    texts = chunk_texts(ours)
    chosen = sorted(texts)[:fill_chunks] if fill_chunks else sorted(texts)
    fill: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="newsdesk-bench-fill-") as folder:
        for service in pair:
            store = SentenceVectors(
                Path(folder) / str(service.settings.embedder), service.embedder.name, service.embedder.dim
            )
            embed_here = getattr(service.embedder, "embed_here", service.embedder.embed_documents)
            filler = SentenceFiller(
                store, lambda: {c: texts[c] for c in chosen}, extractive(ours).sentence_heads, embed_here
            )
            started = time.perf_counter()
            added = filler.fill_once()
            seconds = time.perf_counter() - started
            fill.append({"chunks": len(chosen), "sentences": added, "seconds": round(seconds, 1),
                         "sentences_per_s": round(added / seconds, 1)})  # fmt: skip

    split = halves(queries)
    figures = [quality(searcher, queries, split) for searcher in searchers]
    return {
        "against": names[1],
        "against_index": str(theirs.settings.data_dir),
        "questions": len(questions),
        "question_embedding_ms": dict(zip(names, embed, strict=True)),
        "search_ms": dict(zip(names, search, strict=True)),
        "sentence_fill": dict(zip(names, fill, strict=True)),
        "retrieval": {
            name: {"held_out_half": f["held_out_half"], "tune_half": f["tune_half"], "all": f["all"]}
            for name, f in zip(names, figures, strict=True)
        },
        "retrieval_held_out_difference": {
            metric: round(figures[0]["held_out_half"][metric] - figures[1]["held_out_half"][metric], 4)
            for metric in ("Hits@4", "Hits@10", "MRR@10", "MAP@10")
        },
        "ratios": {
            "question_embedding_p50": round(embed[0]["p50_ms"] / embed[1]["p50_ms"], 2),
            "question_embedding_p95": round(embed[0]["p95_ms"] / embed[1]["p95_ms"], 2),
            "search_p95": round(search[0]["p95_ms"] / search[1]["p95_ms"], 2),
            "sentence_fill_seconds": round(fill[0]["seconds"] / fill[1]["seconds"], 2),
        },
        "targets": {"retrieval_held_out_difference": "each >= -0.005 (the issue's bar for a new default)"},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=None, help="only the first N articles")
    parser.add_argument("--corpus", type=Path, default=MULTIHOP / "corpus.json")
    parser.add_argument("--queries", type=Path, default=MULTIHOP / "queries-dev.json")
    parser.add_argument("--embedder", default=None, help="NEWSDESK_EMBEDDER for Newsdesk (default: the setting's)")
    parser.add_argument("--keep", type=Path, default=None, help="build the index here (an empty folder) and keep it")
    parser.add_argument("--against", default="onnx", help="the embedder to compare with (default: onnx, fp32)")
    parser.add_argument(
        "--against-data-dir",
        type=Path,
        default=None,
        help="an index of the same corpus built with --against (read: copy it first)",
    )
    parser.add_argument("--fill-chunks", type=int, default=None, help="time the sentence fill on N chunks only")
    args = parser.parse_args()  # fmt: skip
    work = Path(tempfile.mkdtemp(prefix="newsdesk-bench-ingest-"))
    try:
        corpus_file = args.corpus
        if args.limit:
            corpus_file = work / "corpus.json"
            corpus_file.write_text(json.dumps(json.loads(args.corpus.read_text())[: args.limit]))
        base = Settings(**({"embedder": args.embedder} if args.embedder else {}))
        settings = base.model_copy(update={"data_dir": args.keep or work / "newsdesk"})
        if args.keep is not None and (args.keep / "chroma").exists():
            raise SystemExit(f"{args.keep} already holds an index: --keep needs an empty folder")
        make_embedder(settings.embedder or DEFAULT_EMBEDDER, settings.model_cache_dir)  # export outside the timings
        ours = newsdesk_run(corpus_file, settings)
        baseline = langchain_run(corpus_file, work, None)
        result: dict[str, Any] = {
            "corpus": str(args.corpus),
            "limit": args.limit,
            "embedder": settings.embedder or DEFAULT_EMBEDDER,
            "newsdesk": ours,
            "langchain_baseline": baseline,
            "ratios": {
                "throughput_vs_langchain": round(ours["chunks_per_s"] / baseline["chunks_per_s"], 2),
                "end_to_end_vs_raw_encode": round(ours["chunks_per_s"] / ours["raw_encode_chunks_per_s"], 2),
            },
            "targets": {
                "throughput_vs_langchain": ">= 1.8",
                "end_to_end_vs_raw_encode": ">= 0.9",
                "reingest_unchanged_seconds": "< 3",
            },  # fmt: skip
        }
        if args.against_data_dir is not None:
            mine = Newsdesk(settings.model_copy(update={"sentence_vectors": False}))
            other = Newsdesk(
                base.model_copy(
                    update={"embedder": args.against, "data_dir": args.against_data_dir, "sentence_vectors": False}
                )
            )
            result["against"] = against_run(mine, other, args.queries, args.fill_chunks)
        write_result("ingest", result)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
