"""One answerer option's values side by side (ExtractiveOptions), offline, in one run: the natural question sets
(each on its own) and the 681 MultiHop-RAG dev questions (inference hit rate, false abstentions and abstention
recall over bench/answer.py's stratified folds), with every natural answer that changes between the values.

Its runs: subject_rule "sentence" vs "unnamed" (bench/results/subject_rule.json, eleventh session);
money_relation (bench/results/option_money_relation.json, twelfth).

Usage: python bench/option_compare.py --option money_relation --values false true [--data-dir /tmp/nd-609-int8]
       [--sets natural_questions.json natural_questions_fresh.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import bench.natural as natural  # noqa: E402
from bench.common import MULTIHOP, write_result  # noqa: E402
from evaluation.passages import open_eval_service  # noqa: E402
from retrieval.answer.extractive import ExtractiveOptions  # noqa: E402
from retrieval.core.config import Settings  # noqa: E402
from retrieval.core.types import Question  # noqa: E402

SETS = ("natural_questions.json", "natural_questions_fresh.json")


def parsed(option: str, text: str) -> Any:
    """A value as the option's type holds it ("true" for a bool, "0.7" for a float)."""
    kind = type(getattr(ExtractiveOptions(), option))
    if kind is bool:
        return text.lower() in {"1", "true", "yes"}
    return kind(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--option", required=True, choices=[f.name for f in fields(ExtractiveOptions)])
    parser.add_argument("--values", nargs="+", required=True)
    parser.add_argument("--sets", nargs="+", default=list(SETS))
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/nd-609-int8"))
    parser.add_argument("--no-benchmark", action="store_true", help="the natural sets only")
    args = parser.parse_args()
    values = [parsed(args.option, v) for v in args.values]
    settings = Settings(llm=None, sentence_vectors=False)
    service, _ = open_eval_service(settings, MULTIHOP / "corpus.json", args.data_dir)
    answerer = service.chain.extractive
    shipped = answerer.options
    result: dict[str, Any] = {"option": args.option, "shipped": getattr(shipped, args.option), "values": values}
    firsts: dict[str, dict[str, list[str]]] = {}
    for value in values:
        answerer.options = replace(shipped, **{args.option: value})
        for name in args.sets:
            questions = json.loads((Path(__file__).parent / name).read_text(encoding="utf-8"))
            rows = []
            for q in questions:
                answer = service.ask(Question(question=q["question"]))
                rows.append(natural.judged(q, answer.answer, answer.abstained))
                first = "(declined)" if answer.abstained else answer.answer.splitlines()[0]
                firsts.setdefault(q["question"], {}).setdefault(str(value), []).append(first)
            figures = natural.rates(questions, rows, list(range(len(questions))))
            result.setdefault(name, {})[str(value)] = {k: round(v, 3) for k, v in figures.items()}
        if not args.no_benchmark:
            found = natural.benchmark_rows(service, replace(ExtractiveOptions(), **{args.option: value}))
            result.setdefault("dev_681", {})[str(value)] = natural.benchmark_figures(found, 5, 5)
    answerer.options = shipped
    service.close()
    result["changed"] = [
        {"q": q, **{v: a[0][:240] for v, a in by.items()}}
        for q, by in firsts.items()
        if len({a[0] for a in by.values()}) > 1
    ]
    write_result(f"option_{args.option}", result)


if __name__ == "__main__":
    main()
