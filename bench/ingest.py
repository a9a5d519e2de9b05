"""Ingest benchmark on the MultiHop-RAG corpus, all in one run on one machine:

- Newsdesk full ingest (chunks/s) against the plain LangChain way (RecursiveCharacterTextSplitter +
  HuggingFaceEmbeddings + Chroma.from_documents) on the same articles and model;
- Newsdesk end to end against the raw encode speed of the same chunks with the same backend;
- re-ingest of the unchanged corpus (seconds).

Usage: python bench/ingest.py [--limit N]   (N articles; default all 609)
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from bench.common import MULTIHOP, write_result  # noqa: E402
from retrieval.chunking import chunk_article  # noqa: E402
from retrieval.config import Settings  # noqa: E402
from retrieval.embeddings import make_embedder, packaged_model_path  # noqa: E402
from retrieval.service import Newsdesk  # noqa: E402
from retrieval.sources import load_sources  # noqa: E402
from retrieval.types import Article  # noqa: E402


def newsdesk_run(corpus_file: Path, work: Path, settings: Settings) -> dict[str, float]:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=None, help="only the first N articles")
    parser.add_argument("--corpus", type=Path, default=MULTIHOP / "corpus.json")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="newsdesk-bench-ingest-"))
    try:
        corpus_file = args.corpus
        if args.limit:
            corpus_file = work / "corpus.json"
            corpus_file.write_text(json.dumps(json.loads(args.corpus.read_text())[: args.limit]))
        settings = Settings(data_dir=work / "newsdesk")
        make_embedder(settings.embedder, settings.model_cache_dir)  # export the ONNX model outside the timings
        ours = newsdesk_run(corpus_file, work, settings)
        baseline = langchain_run(corpus_file, work, None)
        write_result(
            "ingest",
            {
                "corpus": str(args.corpus),
                "limit": args.limit,
                "embedder": settings.embedder,
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
            },
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
