"""Which sentences count as about the question's subject (ExtractiveOptions.subject_rule), offline, one run.

"sentence": a sentence that names the subject or refers back to one that does (or names what the question asks
besides it, in an article whose title names the subject); "unnamed" adds, in a passage that names the subject
(title or a sentence), a sentence naming no one ("There are 157,000 ultra-directional speakers" in a report on
the Sphere). Both rules answer the natural questions (bench/natural_questions.json, chosen on) and the fresh
held-out ones (bench/natural_questions_fresh.json, written after), and the 681 MultiHop-RAG dev questions
(inference hit rate, false abstentions and abstention recall over bench/answer.py's stratified folds).

Usage: python bench/subject_rule.py [--data-dir /tmp/nd-609-int8]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import bench.natural as natural  # noqa: E402
from bench.common import MULTIHOP, write_result  # noqa: E402
from evaluation.passages import open_eval_service  # noqa: E402
from retrieval.answer.extractive import ExtractiveOptions  # noqa: E402
from retrieval.core.config import Settings  # noqa: E402
from retrieval.core.types import Question  # noqa: E402

RULES: tuple[Literal["sentence"], Literal["unnamed"]] = ("sentence", "unnamed")
SETS = ("natural_questions.json", "natural_questions_fresh.json")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/nd-609-int8"))
    args = parser.parse_args()
    settings = Settings(llm=None, sentence_vectors=False)
    service, _ = open_eval_service(settings, MULTIHOP / "corpus.json", args.data_dir)
    answerer = service.chain.extractive
    shipped = answerer.options
    result: dict[str, Any] = {"shipped": shipped.subject_rule}
    for rule in RULES:
        answerer.options = replace(shipped, subject_rule=rule)
        for name in SETS:
            questions = json.loads((Path(__file__).parent / name).read_text(encoding="utf-8"))
            rows = []
            for q in questions:
                answer = service.ask(Question(question=q["question"]))
                rows.append(natural.judged(q, answer.answer, answer.abstained))
            figures = natural.rates(questions, rows, list(range(len(questions))))
            result.setdefault(name, {})[rule] = {k: round(v, 3) for k, v in figures.items()}
        found = natural.benchmark_rows(service, replace(ExtractiveOptions(), subject_rule=rule))
        result.setdefault("dev_681", {})[rule] = natural.benchmark_figures(found, 5, 5)
    answerer.options = shipped
    service.close()
    write_result("subject_rule", result)


if __name__ == "__main__":
    assert ExtractiveOptions().subject_rule in RULES
    main()
