"""Train the search's re-ranking trees (retrieval/search/rerank_model.json) and measure them; writes
bench/results/rerank.json.

    .venv/bin/python bench/train_rerank.py [--corpus FILE] [--queries FILE] [--data-dir DIR] [--rounds 200] [--save]

Without --save it trains and measures, and reports the shipped trees beside the new ones; with --save the new
trees replace retrieval/search/rerank_model.json (retrain after any change to the features or to the steps before).
With NEWSDESK_EMBEDDER=onnx-int8 (and --data-dir an index built with it) the trees are trained on int8
vectors' features, saved beside fp32's (retrieval.search.rerank.trees_path), and the result goes to
bench/results/rerank-int8.json.

- Data: for every scored development question, the candidates the product's search re-ranks (its first 40
  by fused score) and their features (retrieval.search.rerank.FEATURES); a candidate's label is the number of gold
  facts it holds whole (the official metric's test), at most 3.
- Training: LightGBM lambdarank (graded labels, NDCG@10), on the "tune" half of bench/search.py's fixed
  random split only. The shipped trees never saw the "held-out" half, so every held-out figure reported
  by this script or bench/search.py is a measure on unseen questions.
- Check: the other way round too (trained on the held-out half, scored on the tune half), so the gain is
  shown on both halves; and the numpy evaluator in retrieval.search.rerank must give LightGBM's own predictions.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import lightgbm as lgb  # noqa: E402

from bench.common import MULTIHOP, write_result  # noqa: E402
from bench.search import halves, quality  # noqa: E402
from evaluation.passages import BenchmarkQuery, load_queries, open_eval_service, squash  # noqa: E402
from retrieval.core.config import Settings  # noqa: E402
from retrieval.embed.embedder import FP32_VECTORS  # noqa: E402
from retrieval.search.hybrid import Searcher, SearchOptions  # noqa: E402
from retrieval.search.rerank import FEATURES, MODEL_PATH, TreeModel, trees_path  # noqa: E402
from retrieval.service import Newsdesk  # noqa: E402
from tests.support.inside import searcher

Split = tuple[set[int], set[int]]  # (tune, held-out) question numbers
PARAMS: dict[str, Any] = {
    "objective": "lambdarank",
    "lambdarank_truncation_level": 10,
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_data_in_leaf": 40,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    "num_threads": 2,
    "deterministic": True,  # with force_col_wise: the same trees on every run, so --save is reproducible
    "force_col_wise": True,
    "seed": 1,
    "verbose": -1,
}


def collect(searcher: Searcher, queries: list[BenchmarkQuery]) -> list[tuple[np.ndarray, np.ndarray]]:
    """(feature rows, labels) of each question's candidates."""
    out = []
    for item in queries:
        ids, rows = searcher.rerank_rows(item.query)
        facts = [squash(e.fact) for e in item.evidence_list]
        texts = [squash(searcher.index.texts[cid]) for cid in ids]
        labels = np.array([min(3, sum(f in t for f in facts)) for t in texts], dtype=np.int64)
        out.append((rows, labels))
    return out


def train(data: list[tuple[np.ndarray, np.ndarray]], rounds: int) -> lgb.Booster:
    rows = np.vstack([r for r, _ in data])
    labels = np.concatenate([y for _, y in data])
    dataset = lgb.Dataset(rows, labels, group=[len(y) for _, y in data], feature_name=list(FEATURES))
    return lgb.train(PARAMS, dataset, num_boost_round=rounds)


def halves_figures(
    service: Newsdesk, model: TreeModel | None, queries: list[BenchmarkQuery], split: Split
) -> dict[str, Any]:
    """bench/search.py's figures (all, tune half, held-out half) of the product search with these trees
    (None: without re-ranking)."""
    options = SearchOptions() if model is not None else replace(SearchOptions(), rerank=False)
    return quality(searcher(service, options, model=model), queries, split)


def _shipped(service: Newsdesk, queries: list[BenchmarkQuery], split: Split) -> dict[str, Any] | str:
    try:
        shipped = trees_path(service.store.vectors)
        return halves_figures(service, TreeModel.load(shipped if shipped.exists() else None), queries, split)[
            "held_out_half"
        ]
    except (OSError, ValueError) as exc:
        return f"not usable: {exc}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=MULTIHOP / "corpus.json")
    parser.add_argument("--queries", type=Path, default=MULTIHOP / "queries-dev.json")
    parser.add_argument("--data-dir", type=Path, default=None, help="the 1x index (default: the eval index)")
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--save", action="store_true", help=f"write the new trees to {MODEL_PATH} (fp32)")
    args = parser.parse_args()

    service, _ = open_eval_service(Settings(), args.corpus, args.data_dir)
    queries = load_queries(args.queries)
    split = tune_ids, held_ids = halves(queries)
    tune = [q for i, q in enumerate(queries) if i in tune_ids]
    held = [q for i, q in enumerate(queries) if i in held_ids]
    collector = searcher(service, replace(SearchOptions(), rerank=False))
    started = time.perf_counter()
    tune_data, held_data = collect(collector, tune), collect(collector, held)
    print(f"features of {len(queries)} questions in {time.perf_counter() - started:.1f} s", file=sys.stderr)

    booster = train(tune_data, args.rounds)
    meta = {
        "trained_on": f"{args.queries.name}, the tune half ({len(tune)} questions; split seed of bench/search.py)",
        "params": PARAMS,
        "rounds": args.rounds,
    }
    model = TreeModel.from_lightgbm(booster.dump_model(), meta)
    rows = np.vstack([r for r, _ in tune_data + held_data])
    gap = float(np.abs(model.predict(rows) - booster.predict(rows)).max())
    if gap > 1e-9:
        raise SystemExit(f"the numpy trees disagree with LightGBM by {gap}; not saving")
    swapped = TreeModel.from_lightgbm(train(held_data, args.rounds).dump_model())

    fused = halves_figures(service, None, queries, split)
    reranked = halves_figures(service, model, queries, split)
    result: dict[str, Any] = {
        "questions": {"tune_half": len(tune), "held_out_half": len(held)},
        "trained_on": "tune half",
        "rounds": args.rounds,
        "params": PARAMS,
        "largest_difference_numpy_vs_lightgbm": gap,
        "held_out_half": {"fused": fused["held_out_half"], "reranked": reranked["held_out_half"]},
        "tune_half": {"fused": fused["tune_half"], "reranked": reranked["tune_half"]},
        "swapped (trained on held-out, scored on tune)": halves_figures(service, swapped, queries, split)["tune_half"],
        "shipped_model_held_out_half": _shipped(service, queries, split),
        "importance_gain": dict(
            sorted(
                zip(FEATURES, (round(float(g), 1) for g in booster.feature_importance("gain")), strict=True),
                key=lambda kv: -kv[1],
            )
        ),
    }
    result["model"] = {"trees": len(model.trees), "depth": model.depth, "saved": bool(args.save)}
    target = trees_path(service.store.vectors)
    if args.save:
        model.save(target)
        result["model"].update(path=str(target), bytes=target.stat().st_size)
    fp32 = service.store.vectors == FP32_VECTORS
    write_result("rerank" if fp32 else "rerank-int8", {"vectors": service.store.vectors, **result})


if __name__ == "__main__":
    main()
