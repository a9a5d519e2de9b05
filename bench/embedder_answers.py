"""Retrieval and offline answers with one embedder's index against another's (issues 19, 28: int8 against fp32).

Each side searches its own index of the same corpus with its own embedder (and the re-ranking trees its kind
of vectors gets), then the shipped extractive answerer (retrieval/answer/extractive.py's defaults, its shipped
abstention threshold) answers the 681 development questions from those passages. Figures, per side: inference hit rate,
false abstentions, abstention recall, hit rate by type, over all questions and over bench/answer.py's held-out
folds (5 stratified folds x 5 seeds: the spread a fold-sized sample gives); and the paired differences (this
side minus the other) with the number of questions whose outcome changed.

Both sides share one fact tagger (a sentence's facts do not depend on the embedder) and embed every sentence
on the fly (no stored sentence vectors), so only the vectors differ.

Usage: python bench/embedder_answers.py [--embedder onnx-int8] [--data-dir DIR] [--against onnx]
       [--against-data-dir DIR]
Each DIR: an index of corpus.json built with its embedder (brought up to date: ingest is incremental); by
default the evaluation index of that embedder (`newsdesk eval`'s, built on first use).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from bench.answer import INFERENCE, NULL, Row, answer_rows, rates  # noqa: E402
from bench.common import MULTIHOP, write_result  # noqa: E402
from bench.search import halves, quality  # noqa: E402
from evaluation.answers import AnswerQuery, load_answer_queries, stratified_folds  # noqa: E402
from evaluation.passages import load_queries, open_eval_service  # noqa: E402
from retrieval.answer.extractive import ExtractiveAnswerer, ExtractiveOptions  # noqa: E402
from retrieval.answer.facts import EntityTagger  # noqa: E402
from retrieval.core.config import Settings  # noqa: E402
from retrieval.embed.remembered import RememberedQueries  # noqa: E402
from retrieval.service import Newsdesk  # noqa: E402

FIGURES = ("inference_hit_rate", "false_abstention_rate", "abstention_recall")


def side_rows(service: Newsdesk, queries: list[AnswerQuery], tagger: EntityTagger) -> list[Row]:
    """Every question answered with abstention off (the shipped threshold is applied by `rates`)."""
    retrieved = {q.query: service.searcher.search(q.query, service.settings.top_k) for q in queries}
    memo = RememberedQueries(service.embedder, size=sys.maxsize)
    options = replace(ExtractiveOptions(), abstain_below=float("-inf"))
    return answer_rows(ExtractiveAnswerer(memo, options, tagger), queries, retrieved)


def by_type(rows: list[Row], threshold: float) -> dict[str, float]:
    kinds = sorted({row.kind for row in rows} - {NULL})
    return {
        kind: round(
            sum(r.hit and not r.declined and r.score >= threshold for r in rows if r.kind == kind)
            / sum(r.kind == kind for r in rows),
            4,
        )
        for kind in kinds
    }


def spread(values: list[float]) -> dict[str, float]:
    return {
        "mean": round(statistics.fmean(values), 4),
        "sd": round(statistics.stdev(values), 4),
        "min": round(min(values), 4),
        "max": round(max(values), 4),
    }


def compare(ours: list[Row], theirs: list[Row], threshold: float, folds: int, seeds: int) -> dict[str, Any]:
    everyone = list(range(len(ours)))
    overall = [rates(rows, everyone, threshold) for rows in (ours, theirs)]
    held: tuple[list[dict[str, float]], list[dict[str, float]]] = ([], [])
    kinds = [row.kind for row in ours]
    for seed in range(seeds):
        for part in stratified_folds(kinds, folds, seed):
            for side, rows in enumerate((ours, theirs)):
                held[side].append(rates(rows, part, threshold))

    def declined(row: Row) -> bool:
        return row.declined or row.score < threshold

    return {
        "all": [{name: round(r[name], 4) for name in (*FIGURES, "sentences_per_answer")} for r in overall],
        "hit_rate_by_type": [by_type(rows, threshold) for rows in (ours, theirs)],
        "folds": [{name: spread([h[name] for h in side]) for name in FIGURES} for side in held],
        "difference_all": {name: round(overall[0][name] - overall[1][name], 4) for name in FIGURES},
        "difference_by_fold": {
            name: spread([a[name] - b[name] for a, b in zip(held[0], held[1], strict=True)]) for name in FIGURES
        },
        "questions_changed": {
            "hit": sum(a.hit and not declined(a) for a in ours) - sum(b.hit and not declined(b) for b in theirs),
            "declined_either_way": sum(declined(a) != declined(b) for a, b in zip(ours, theirs, strict=True)),
            "inference_hit_either_way": sum(
                (a.hit and not declined(a)) != (b.hit and not declined(b))
                for a, b in zip(ours, theirs, strict=True)
                if a.kind == INFERENCE
            ),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=None, help="the index built with --embedder")
    parser.add_argument("--embedder", default="onnx-int8")
    parser.add_argument("--against-data-dir", type=Path, default=None, help="the index built with --against")
    parser.add_argument("--against", default="onnx")
    parser.add_argument("--corpus", type=Path, default=MULTIHOP / "corpus.json")
    parser.add_argument("--queries", type=Path, default=MULTIHOP / "queries-dev.json")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()

    queries = load_answer_queries(args.queries)
    threshold = Settings().abstain_threshold  # the shipped one
    names = (args.embedder, args.against)
    folders = (args.data_dir, args.against_data_dir)
    services = [
        open_eval_service(Settings(llm=None, embedder=name, sentence_vectors=False), args.corpus, folder)[0]
        for name, folder in zip(names, folders, strict=True)
    ]
    # retrieval first (the product's search over each index, the MultiHop-RAG metric): held-out half as in
    # bench/search.py, so the figures sit beside that benchmark's
    scored = load_queries(args.queries)
    split = halves(scored)
    retrieval = {name: quality(s.searcher, scored, split) for name, s in zip(names, services, strict=True)}
    tagger = services[1].extractive.tagger
    tagger.size = sys.maxsize  # the second side reads the first's tagged sentences
    rows = [side_rows(service, queries, tagger) for service in services]
    for service in services:
        service.close()
    figures = compare(rows[0], rows[1], threshold, args.folds, args.seeds)
    result: dict[str, Any] = {
        "corpus": str(args.corpus),
        "questions": len(queries),
        "threshold": threshold,
        "indexes": {name: str(service.settings.data_dir) for name, service in zip(names, services, strict=True)},
        "retrieval_held_out_half": {name: r["held_out_half"] for name, r in retrieval.items()},
        "retrieval_all": {name: r["all"] for name, r in retrieval.items()},
        "all": dict(zip(names, figures["all"], strict=True)),
        "hit_rate_by_type": dict(zip(names, figures["hit_rate_by_type"], strict=True)),
        "held_out_folds": dict(zip(names, figures["folds"], strict=True)),
        "difference_all": figures["difference_all"],
        "difference_by_fold": figures["difference_by_fold"],
        "questions_changed": figures["questions_changed"],
        "targets": {
            "difference_all": "each within one standard deviation of the other side's figure over the held-out "
            "folds (`held_out_folds.*.sd`): the answer figures unchanged"
        },
    }
    write_result("embedder_answers", result)


if __name__ == "__main__":
    main()
