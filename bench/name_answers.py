"""Calibrating the part-by-part rule for name answers (retrieval/answer/parts.py) on the benchmark's dev questions.

For every dev question that asks for a name through several descriptions (MultiHop-RAG's inference queries),
the passages the product retrieves for it (the ones an LLM would be shown) are read, and the rule is asked
whether each candidate name stands:

- the gold name (a name run of the passages holding the gold answer's last word): it should stand;
- the three names the passages hold most often besides it and the question's own names: the wrong answers a
  model is likeliest to give. They should not.

`share` (of the question's parts that must point to the name) and `floor` (the least cosine of a part to its
best sentence) are chosen on the questions of four folds (the most gold names standing while at most
--distractors of the wrong names do) and measured on the fifth, over 5 folds x 5 seeds; reported with their
spread, and the setting the folds chose most often.

Usage: python bench/name_answers.py [--data-dir /tmp/nd-609-int8]
"""

from __future__ import annotations

import argparse
import collections
import itertools
import os
import random
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from bench.common import MULTIHOP, write_result  # noqa: E402
from evaluation.answers import load_answer_queries  # noqa: E402
from evaluation.passages import open_eval_service  # noqa: E402
from retrieval.answer.claim_words import names, split_words, words  # noqa: E402
from retrieval.answer.parts import PartsOptions, name_stands, question_parts  # noqa: E402
from retrieval.answer.support import Support  # noqa: E402
from retrieval.core.config import Settings  # noqa: E402
from retrieval.core.statistics import spread  # noqa: E402
from retrieval.core.text import QUESTION_FILLER  # noqa: E402
from retrieval.core.types import Question  # noqa: E402
from tests.support.inside import extractive  # noqa: E402

SHARES = (0.34, 0.5, 0.67, 1.0)
FLOORS = (0.2, 0.3, 0.4, 0.5)
GRID = list(itertools.product(SHARES, FLOORS))


Name = tuple[str, ...]


def candidates(passages_text: list[str], question: str, gold: str) -> tuple[Name | None, list[Name]]:
    """The gold name as the passages write it, and the three names they hold most besides it and the question's."""
    asked = split_words(words(question)) | set(QUESTION_FILLER)
    counts: collections.Counter[tuple[str, ...]] = collections.Counter()
    for text in passages_text:
        for run in names(text):
            if not all(w in asked for w in run):
                counts[run] += 1
    gold_words = words(gold)
    gold_last = gold_words[-1] if gold_words else ""
    found = [run for run in counts if gold_last and gold_last in split_words(run)]
    gold_run = max(found, key=lambda r: counts[r]) if found else None
    gold_parts = split_words(gold_words) - set(QUESTION_FILLER)
    initials = "".join(p[0] for w in gold_words if w not in QUESTION_FILLER for p in w.split("-") if p)

    def alias(run: tuple[str, ...]) -> bool:  # "Alameda" for Alameda Research, "SBF" for Sam Bankman-Fried
        return bool(split_words(run) & gold_parts) or (len(run) == 1 and len(run[0]) > 1 and run[0] == initials)

    others = [r for r, _ in counts.most_common() if not alias(r) and len("".join(r)) > 2]
    return gold_run, others[:3]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/nd-609-int8"))
    parser.add_argument("--distractors", type=float, default=0.10, help="wrong names standing, at most (train)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()

    service, _ = open_eval_service(Settings(), MULTIHOP / "corpus.json", args.data_dir)
    embedder = extractive(service).embedder
    queries = [q for q in load_answer_queries(MULTIHOP / "queries-dev.json") if q.question_type == "inference_query"]
    rows: list[dict[str, Any]] = []
    for q in queries:
        if len(question_parts(q.query)) < 2:
            continue
        passages = service.answer(Question(question=q.query)).passages
        checker = Support(passages, embedder)
        found, others = candidates([f"{p.title}. {p.text}" for p in passages], q.query, q.answer or "")
        row: dict[str, Any] = {"gold_found": found is not None, "gold": {}, "others": {}}
        for setting in GRID:
            options = PartsOptions(share=setting[0], floor=setting[1])
            row["gold"][setting] = found is not None and name_stands(found, q.query, checker, options) is not None
            stood = [name_stands(o, q.query, checker, options) is not None for o in others]
            row["others"][setting] = (sum(stood), len(stood))
        rows.append(row)

    def figures(chosen: list[dict[str, Any]], setting: tuple[float, float]) -> tuple[float, float]:
        gold = sum(r["gold"][setting] for r in chosen) / len(chosen)
        stood = sum(r["others"][setting][0] for r in chosen)
        shown = sum(r["others"][setting][1] for r in chosen) or 1
        return gold, stood / shown

    held_gold: list[float] = []
    held_wrong: list[float] = []
    picks: collections.Counter[tuple[float, float]] = collections.Counter()
    for seed in range(args.seeds):
        order = list(range(len(rows)))
        random.Random(seed).shuffle(order)
        for fold in range(args.folds):
            test = [rows[i] for i in order[fold :: args.folds]]
            train = [rows[i] for j, i in enumerate(order) if j % args.folds != fold]
            allowed = [s for s in GRID if figures(train, s)[1] <= args.distractors] or GRID
            best = max(allowed, key=lambda s: (figures(train, s)[0], -figures(train, s)[1]))
            picks[best] += 1
            right, wrong = figures(test, best)
            held_gold.append(right)
            held_wrong.append(wrong)
    result = {
        "questions": len(rows),
        "gold_in_passages": round(sum(r["gold_found"] for r in rows) / len(rows), 4),
        "held_out_gold_standing": spread(held_gold),
        "held_out_wrong_standing": spread(held_wrong),
        "chosen": {f"share={s[0]} floor={s[1]}": n for s, n in picks.most_common()},
        "grid": {f"share={s[0]} floor={s[1]}": [round(x, 4) for x in figures(rows, s)] for s in GRID},
    }
    print(result)
    write_result("name_answers", result)


if __name__ == "__main__":
    main()
