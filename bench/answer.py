"""Answer benchmark on MultiHop-RAG (dev questions), all in one run on one machine:

- calibration of the extractive answerer on a random half of the questions (stratified by type): for each
  point of a small grid of sentence-scoring weights, the abstention threshold with the best recall on null
  queries (the unanswerable ones) at <= 8% false abstentions; the grid point with the best inference hit
  rate + abstention recall wins; it is reported on that half and on the held-out half;
- the answer figures of `newsdesk eval answers` on each half with the threshold in use;
- extractive `ask` latency, warm: p50/p95 of the whole call, against search alone on the same questions
  (the baseline: what answering adds on top of retrieval).

Usage: python bench/answer.py [--data-dir DIR] [--latency-questions N]
The index is built once in DIR (default /tmp/newsdesk-bench-answer) and reused (ingest is incremental).
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from bench.common import MULTIHOP, summarise, write_result  # noqa: E402
from retrieval.answer import ExtractiveAnswerer, ExtractiveOptions  # noqa: E402
from retrieval.config import Settings  # noqa: E402
from retrieval.embeddings import Embedder  # noqa: E402
from retrieval.evaluate_answers import (  # noqa: E402
    AnswerQuery,
    Scored,
    answer_hit,
    calibrate,
    judge,
    load_answer_queries,
    report,
    split_half,
)
from retrieval.service import Newsdesk  # noqa: E402
from retrieval.types import Passage  # noqa: E402

GRID = {
    "dense_weight": (0.3, 0.5, 0.65),
    "agreement_weight": (0.1, 0.2),
    "name_weight": (0.0, 0.1),
    "passage_weight": (0.0, 0.2, 0.4),
    "coverage_weight": (0.0, 0.3),
}


class Memo:
    """The embedder, remembering what it embedded: the grid re-reads the same sentences many times."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.name, self.dim, self.max_tokens = embedder.name, embedder.dim, embedder.max_tokens
        self.seen: dict[str, np.ndarray] = {}

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self.embedder.count_tokens(texts)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.seen]
        if missing:
            self.seen.update(zip(missing, self.embedder.embed_documents(missing), strict=True))
        return np.stack([self.seen[t] for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        key = "\0query\0" + text
        if key not in self.seen:
            self.seen[key] = self.embedder.embed_query(text)
        return self.seen[key]


def grid_search(
    memo: Memo, retrieved: dict[str, list[Passage]], fit: list[AnswerQuery], held_out: list[AnswerQuery]
) -> dict[str, object]:
    def run(options: ExtractiveOptions, half: list[AnswerQuery]) -> list[tuple[AnswerQuery, float, bool]]:
        answerer = ExtractiveAnswerer(memo, options)
        out = []
        for q in half:
            draft = answerer.draft(q.query, retrieved[q.query])
            out.append((q, draft.score, q.answerable and answer_hit(draft.text, q.answer or "")))
        return out

    def inference_hits(rows: list[tuple[AnswerQuery, float, bool]], threshold: float) -> float:
        hits = [hit and score >= threshold for q, score, hit in rows if q.question_type == "inference_query"]
        return round(float(np.mean(hits)), 4) if hits else 0.0

    trials = []
    for values in itertools.product(*GRID.values()):
        options = ExtractiveOptions(abstain_below=float("-inf"), **dict(zip(GRID, values, strict=True)))
        rows = run(options, fit)
        cal = calibrate([Scored(q.answerable, s) for q, s, _ in rows], [])
        trials.append((inference_hits(rows, cal.threshold) + cal.fit["abstention_recall"], options, cal.threshold))
    _, best, threshold = max(trials, key=lambda t: t[0])
    fit_rows, held_rows = run(best, fit), run(best, held_out)
    cal = calibrate(
        [Scored(q.answerable, s) for q, s, _ in fit_rows], [Scored(q.answerable, s) for q, s, _ in held_rows]
    )
    chosen = asdict(replace(best, abstain_below=cal.threshold))
    return {
        "grid": {k: list(v) for k, v in GRID.items()},
        "chosen": chosen,
        "fit_half": {**cal.fit, "inference_hit_rate": inference_hits(fit_rows, cal.threshold)},
        "held_out_half": {**cal.held_out, "inference_hit_rate": inference_hits(held_rows, cal.threshold)},
    }


def latency(service: Newsdesk, questions: list[str]) -> dict[str, dict[str, float]]:
    for question in questions[:5]:
        service.ask(question)  # warm: caches, thread pools
    searched, asked = [], []
    for question in questions:
        started = time.perf_counter()
        service.search(question)
        searched.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        service.ask(question)
        asked.append((time.perf_counter() - started) * 1000)
    return {"ask": summarise(asked), "search_only": summarise(searched)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/newsdesk-bench-answer"))
    parser.add_argument("--latency-questions", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    settings = Settings(data_dir=args.data_dir, llm=None)
    service = Newsdesk(settings)
    ingest = service.ingest([str(MULTIHOP / "corpus.json")])
    assert not ingest.failed, ingest.failed[:3]
    queries = load_answer_queries(MULTIHOP / "queries-dev.json")
    fit, held_out = split_half(queries, args.seed)

    retrieved = {q.query: service.searcher.search(q.query, settings.top_k) for q in queries}
    calibration = grid_search(Memo(service.embedder), retrieved, fit, held_out)
    in_use = {**asdict(service.extractive.options)}
    figures = {}
    for name, half in (("fit_half", fit), ("held_out_half", held_out)):
        judged = judge(lambda q: service.answer(q), half)
        figures[name] = report(judged, service.chain.mode).model_dump()

    questions = [q.query for q in queries][: args.latency_questions]
    timings = latency(service, questions)
    ratio = timings["ask"]["p95_ms"] / timings["search_only"]["p95_ms"] if timings["search_only"]["p95_ms"] else 0.0
    write_result(
        "answer",
        {
            "corpus_chunks": len(service.index.texts),
            "questions": {"fit_half": len(fit), "held_out_half": len(held_out), "seed": args.seed},
            "calibration": calibration,
            "extractive_options_in_use": in_use,
            "answers": figures,
            "latency": {**timings, "ask_p95_over_search_p95": round(ratio, 2), "target_ask_p95_ms": 100},
        },
    )


if __name__ == "__main__":
    main()
