"""The evidence gate before the LLM (NEWSDESK_LLM_ABSTAIN_THRESHOLD), chosen by cross-validation.

With an LLM, a question whose retrieved evidence is weak (the extractive answerer's confidence below the
threshold) is declined without asking the model. The gate does not depend on the model, so it is chosen
on every dev question (681, null queries included) with the offline scores alone:

- for each of --seeds seeds, the questions are split into --folds stratified folds; on the other folds the
  threshold is the highest one that declines at most --budget of the answerable questions (kept below the
  issue's 0.15 so the model's own declines have room); it is scored on the held-out fold;
- the reported figures are the held-out folds' (mean, min, max over folds and seeds), and the shipped
  threshold is the median of the fold choices.

Usage: python bench/llm_gate.py [--data-dir /tmp/nd-eval] [--budget 0.08]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from bench.common import MULTIHOP, write_result  # noqa: E402
from evaluation.answers import Scored, decline_rates, load_answer_queries, stratified_folds  # noqa: E402
from evaluation.passages import open_eval_service  # noqa: E402
from retrieval.core.config import Settings  # noqa: E402
from retrieval.core.statistics import spread  # noqa: E402
from tests.support.inside import extractive


def choose(rows: list[Scored], budget: float) -> float:
    """The highest threshold that declines at most `budget` of the answerable rows."""
    answerable = sorted(s.score for s in rows if s.answerable)
    allowed = int(budget * len(answerable))  # this many may fall below the threshold
    return answerable[allowed] if allowed < len(answerable) else answerable[-1]


def rates(rows: list[Scored], threshold: float) -> dict[str, float]:
    declined = decline_rates(rows, threshold)
    return {"null_declined": declined["abstention_recall"], "answerable_declined": declined["false_abstention_rate"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/nd-eval"))
    parser.add_argument("--budget", type=float, default=0.08)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()

    service, _ = open_eval_service(Settings(), MULTIHOP / "corpus.json", args.data_dir)
    answerer = extractive(service)
    scored: list[tuple[str, Scored]] = []
    for item in load_answer_queries(MULTIHOP / "queries-dev.json"):
        passages = service.search(item.query, service.settings.top_k)
        score = answerer.draft(item.query, passages).score if passages else float("-inf")
        scored.append((item.question_type, Scored(item.answerable, score)))

    chosen: list[float] = []
    held: list[dict[str, float]] = []
    for seed in range(args.seeds):
        parts = stratified_folds([t for t, _ in scored], args.folds, seed)
        for f, test in enumerate(parts):
            train = [scored[i][1] for g, part in enumerate(parts) if g != f for i in part]
            threshold = choose(train, args.budget)
            chosen.append(threshold)
            held.append(rates([scored[i][1] for i in test], threshold))

    shipped = round(statistics.median(chosen), 4)
    result: dict[str, Any] = {
        "questions": len(scored),
        "budget": args.budget,
        "folds": args.folds,
        "seeds": args.seeds,
        "held_out": {key: spread([h[key] for h in held]) for key in ("null_declined", "answerable_declined")},
        "thresholds": {"median": shipped, "min": round(min(chosen), 4), "max": round(max(chosen), 4)},
        "shipped_threshold_on_all_dev": rates([s for _, s in scored], shipped),
    }
    write_result("llm_gate", result)


if __name__ == "__main__":
    main()
