"""Calibrating attribution's support threshold on real model answers, without running the model again.

Input: the JSON-lines records of bench/llm_answers.py (each LLM answer's raw text and the chunk ids of
the passages it was written from), over the same benchmark index. Every sentence the model wrote (short
verdicts and declines aside) is scored twice with the product's Attributor:

- against the passages of its own question (mostly supported: the model read them);
- against the passages of another question of the sample (never supported: other stories).

A threshold is chosen on the records of some folds (the lowest one that accepts at most --accept of the
sentences scored against other questions' passages) and evaluated on the held-out fold, over several
folds and seeds. Reported: the held-out share of own-passage sentences kept, the held-out share of
other-passage sentences wrongly accepted (mean, min, max), and the median of the chosen thresholds.

Usage: python bench/attribution.py --records /tmp/llm_answers.jsonl [--data-dir /tmp/nd-eval]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from bench.common import MULTIHOP, write_result  # noqa: E402
from evaluation.passages import open_eval_service  # noqa: E402
from retrieval.answer.attribution import Attributor, is_decline, is_verdict, split_claims  # noqa: E402
from retrieval.core.config import Settings  # noqa: E402
from retrieval.core.statistics import spread  # noqa: E402
from retrieval.core.types import Passage  # noqa: E402
from retrieval.search.hybrid import passage_from  # noqa: E402
from tests.support.inside import extractive


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=Path, default=Path("/tmp/llm_answers.jsonl"))
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/nd-eval"))
    parser.add_argument("--accept", type=float, default=0.05, help="other-passage sentences accepted, at most")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()

    service, _ = open_eval_service(Settings(), MULTIHOP / "corpus.json", args.data_dir)
    texts, metadata, _ = service.index.snapshot()
    attributor = Attributor(extractive(service).embedder)
    rows = [json.loads(line) for line in args.records.read_text().splitlines()]
    rows = [r for r in rows if r["run"] != "offline" and r["written"].strip()]

    def passages(row: dict[str, Any]) -> list[Passage]:
        return [passage_from(c, texts[c], metadata[c], 0.0) for c in row["chunks"] if c in texts]

    rng = random.Random(0)
    scored: list[tuple[int, float, float]] = []  # (record, own support, other support)
    for i, row in enumerate(rows):
        sentences = [c.text for c in split_claims(row["written"]) if not is_decline(c.text) and not is_verdict(c.text)]
        if not sentences:
            continue
        other = rows[rng.choice([j for j in range(len(rows)) if rows[j]["query"] != row["query"]])]
        own = attributor.best_support(sentences, passages(row), row["search_query"])
        wrong = attributor.best_support(sentences, passages(other), row["search_query"])
        scored.extend((i, a, b) for a, b in zip(own, wrong, strict=True))

    records = sorted({i for i, _, _ in scored})
    kept: list[float] = []
    accepted: list[float] = []
    chosen: list[float] = []
    for seed in range(args.seeds):
        order = records[:]
        random.Random(seed).shuffle(order)
        for f in range(args.folds):
            test = set(order[f :: args.folds])
            train = [s for s in scored if s[0] not in test]
            negatives = sorted((b for _, _, b in train), reverse=True)
            threshold = negatives[int(args.accept * len(negatives))] + 1e-6 if negatives else 0.0
            chosen.append(threshold)
            held = [s for s in scored if s[0] in test]
            kept.append(sum(a >= threshold for _, a, _ in held) / max(1, len(held)))
            accepted.append(sum(b >= threshold for _, _, b in held) / max(1, len(held)))

    write_result(
        "attribution",
        {
            "records": len(records),
            "sentences": len(scored),
            "accept_budget": args.accept,
            "held_out": {"own_passages_kept": spread(kept), "other_passages_accepted": spread(accepted)},
            "thresholds": {"median": round(statistics.median(chosen), 4), **spread(chosen)},
            "in_use": {
                "threshold": attributor.options.support.above,
                **{
                    name: round(sum(v >= attributor.options.support.above for v in values) / max(1, len(values)), 4)
                    for name, values in (
                        ("own_passages_kept", [a for _, a, _ in scored]),
                        ("other_passages_accepted", [b for _, _, b in scored]),
                    )
                },
            },
        },
    )


if __name__ == "__main__":
    main()
