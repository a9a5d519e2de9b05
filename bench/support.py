"""Does the citation check accept exactly the sentences their quotes state? Measured on bench/support_pairs.json.

Each labelled pair (a claim, the question it answers, the passage it cites; see bench/support_set.py) is
run through attribution as the product runs it: the claim, cited [1], against its one passage. "Supported"
means the sentence is kept (cited or attributed). Two checkers, in the same run:

- `main`: the checker before issue 29, the Attributor of d4eba0c (`git show d4eba0c:retrieval/attribution.py`,
  cosine plus wording over any passage sentence, threshold 0.30, numbers anywhere in the passage);
- `new`: this tree's Attributor (retrieval/answer/support.py's rule).

The new rule's threshold is chosen on the training folds (the lowest that keeps precision >= --precision
there) and judged on the held-out fold, over --folds folds and --seeds seeds: the held-out precision and
recall of "supported" and the share of hard negatives (swapped names, negations, changed numbers, replaced
names, another article's sentence) accepted, each as mean, min and max. The in-use figures run the whole
pipeline at the threshold the code ships with, on every pair, beside `main`'s.

Usage: python bench/support.py [--pairs bench/support_pairs.json] [--data /path/to/multihop-rag]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.common import MULTIHOP, module_at, write_result  # noqa: E402
from bench.support_set import CONTEXT, sentences_of  # noqa: E402
from retrieval.answer import support  # noqa: E402
from retrieval.answer.attribution import AttributionOptions, Attributor  # noqa: E402
from retrieval.core.config import Settings  # noqa: E402
from retrieval.core.statistics import spread  # noqa: E402
from retrieval.core.types import Passage  # noqa: E402
from retrieval.embed.embedder import Embedder, make_embedder  # noqa: E402

BEFORE = "d4eba0c"  # the code before issue 29: its checker is the baseline
HARD = {"swap", "negation", "number", "name", "other_article", "relation"}


def main_attribution() -> ModuleType:
    """The `main` branch's attribution module, loaded beside this tree's (its imports map to where things are now)."""
    return module_at(BEFORE, "retrieval/attribution.py", "main_attribution")


def passages_of(pairs: Sequence[dict[str, Any]], data: Path) -> list[Passage]:
    corpus = {a["url"]: a for a in json.loads((data / "corpus.json").read_text())}
    found = []
    for i, pair in enumerate(pairs):
        if "passage" in pair:
            found.append(Passage(chunk_id=f"p{i}", article_id=f"a{i}", title=pair["title"], text=pair["passage"]))
            continue
        article = corpus[pair["url"]]
        if "span" in pair:  # the passage a real model was shown (bench/support_real.json)
            text = article["body"][pair["span"][0] : pair["span"][1]]
        else:
            sentences = sentences_of(article["body"])
            middle = pair["sentence"]
            text = " ".join(sentences[max(0, middle - CONTEXT) : middle + CONTEXT + 1])
        found.append(
            Passage(
                chunk_id=f"p{i}",
                article_id=pair["url"],
                title=article["title"],
                source=article["source"],
                published_at=article["published_at"],
                text=text,
            )
        )
    return found


def kept(attribute: Callable[..., Any], pair: dict[str, Any], passage: Passage) -> bool:
    """Whether attribution keeps the claim, cited [1] to its passage (every sentence of it kept)."""
    result = attribute(f"{pair['claim'].rstrip('.')} [1].", [passage], pair["question"])
    counts = result.counts
    return counts.cited + counts.attributed > 0 and counts.dropped == 0


def figures(labels: Sequence[bool], predicted: Sequence[bool], kinds: Sequence[str]) -> dict[str, float]:
    tp = sum(1 for y, p in zip(labels, predicted, strict=True) if y and p)
    fp = sum(1 for y, p in zip(labels, predicted, strict=True) if p and not y)
    fn = sum(1 for y, p in zip(labels, predicted, strict=True) if y and not p)
    hard = [p for p, k in zip(predicted, kinds, strict=True) if k in HARD]
    return {
        "precision": round(tp / (tp + fp), 4) if tp + fp else 1.0,
        "recall": round(tp / (tp + fn), 4) if tp + fn else 1.0,
        "hard_negatives_accepted": round(sum(hard) / len(hard), 4) if hard else 0.0,
    }


def _real(pairs: Sequence[dict[str, Any]], predicted: Sequence[bool]) -> dict[str, float]:
    """The figures on the sentences a real model wrote (kind "real") alone."""
    rows = [i for i, pair in enumerate(pairs) if pair["kind"] == "real"]
    return figures([bool(pairs[i]["supported"]) for i in rows], [predicted[i] for i in rows], ["real"] * len(rows))


def by_kind(pairs: Sequence[dict[str, Any]], predicted: Sequence[bool]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for pair, p in zip(pairs, predicted, strict=True):
        key = f"{pair['kind']} ({'supported' if pair['supported'] else 'not'})"
        row = found.setdefault(key, {"supported": pair["supported"], "pairs": 0, "accepted": 0})
        row["pairs"] += 1
        row["accepted"] += int(p)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=Path, default=Path(__file__).with_name("support_pairs.json"))
    parser.add_argument("--data", type=Path, default=MULTIHOP)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--precision", type=float, default=0.96, help="training-fold precision to keep, at least")
    args = parser.parse_args()

    pairs = json.loads(args.pairs.read_text())
    passages = passages_of(pairs, args.data)
    settings = Settings()
    embedder: Embedder = make_embedder(settings.embedder or "onnx", settings.model_cache_dir)
    labels = [bool(p["supported"]) for p in pairs]
    kinds = [p["kind"] for p in pairs]

    started = time.perf_counter()
    old = main_attribution().Attributor(embedder)
    old_kept = [kept(old.attribute, p, passage) for p, passage in zip(pairs, passages, strict=True)]
    old_seconds = time.perf_counter() - started

    started = time.perf_counter()
    new = Attributor(embedder)
    new_kept = [kept(new.attribute, p, passage) for p, passage in zip(pairs, passages, strict=True)]
    new_seconds = time.perf_counter() - started

    # the rule's score for each pair (0 when a hard check fails), for choosing the threshold on training folds
    scores = []
    for pair, passage in zip(pairs, passages, strict=True):
        checker = support.Support([passage], embedder, support.SupportOptions(above=float("inf")), pair["question"])
        scores.append(checker.check(checker.claim(pair["claim"], pair["question"])).score)

    held: dict[str, list[float]] = {}
    held_main: dict[str, list[float]] = {}
    chosen: list[float] = []
    for seed in range(args.seeds):
        order = list(range(len(pairs)))
        random.Random(seed).shuffle(order)
        for f in range(args.folds):
            test = set(order[f :: args.folds])
            train = [i for i in range(len(pairs)) if i not in test]
            threshold = _threshold([scores[i] for i in train], [labels[i] for i in train], args.precision)
            chosen.append(threshold)
            rows = sorted(test)
            for _name, predicted, store in (
                ("new", [scores[i] >= threshold for i in rows], held),
                ("main", [old_kept[i] for i in rows], held_main),
            ):
                got = figures([labels[i] for i in rows], predicted, [kinds[i] for i in rows])
                for key, value in got.items():
                    store.setdefault(key, []).append(value)

    write_result(
        "support",
        {
            "pairs": len(pairs),
            "supported": sum(labels),
            "hard_negatives": sum(k in HARD for k in kinds),
            "kinds": sorted(set(kinds)),
            "held_out": {
                "folds": args.folds,
                "seeds": args.seeds,
                "new": {key: spread(values) for key, values in held.items()},
                "main": {key: spread(values) for key, values in held_main.items()},
                "thresholds": spread(chosen),
            },
            "in_use": {
                "threshold": support.SupportOptions().above,
                "new": figures(labels, new_kept, kinds) | {"seconds": round(new_seconds, 1)},
                "main": figures(labels, old_kept, kinds) | {"seconds": round(old_seconds, 1)},
            },
            "real_pairs": {name: _real(pairs, got) for name, got in (("new", new_kept), ("main", old_kept))},
            "by_kind": {"new": by_kind(pairs, new_kept), "main": by_kind(pairs, old_kept)},
            "options": {"attribution": repr(AttributionOptions())},
        },
    )


def _threshold(scores: Sequence[float], labels: Sequence[bool], precision: float) -> float:
    """The lowest threshold whose precision on these pairs is at least `precision` (recall is then highest), among
    those that keep half the supported pairs at least; when none reaches it, the lowest of the most precise of
    those. Never "accept almost nothing": a fold where the target is out of reach is judged at the rule's best,
    not at the precision of the one pair that scores highest."""
    best, best_precision = float("inf"), -1.0
    supported = sum(labels) or 1
    for threshold in sorted({s for s in scores if s > 0}):
        predicted = [s >= threshold for s in scores]
        tp = sum(1 for y, p in zip(labels, predicted, strict=True) if y and p)
        fp = sum(1 for y, p in zip(labels, predicted, strict=True) if p and not y)
        if tp / supported < 0.5:
            break  # higher thresholds keep fewer still
        if tp / (tp + fp) >= precision:
            return threshold
        if tp / (tp + fp) > best_precision:
            best, best_precision = threshold, tp / (tp + fp)
    return best


if __name__ == "__main__":
    main()
