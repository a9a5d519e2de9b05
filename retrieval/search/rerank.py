"""A learned re-ranking of the search's best candidates: features of each candidate, and the trees that score them.

The fused score ranks the right articles high, but often shows the wrong chunk of an article first, or a
chunk that shares many words with the question above one that holds a fact. How much to trust each signal
depends on the others (a clause's best chunk matters more when its article already leads; a named outlet
matters more when the question names two), which a weighted sum cannot express: a linear model over the
same features gains nothing, gradient-boosted trees do.

The trees are trained by bench/train_rerank.py with LightGBM on the tune half of the MultiHop-RAG
development questions, never on the held-out half, and saved here as plain arrays. They are evaluated with
numpy (TreeModel) rather than LightGBM's predictor: scoring 40 rows needs no more, and LightGBM would bring
an OpenMP runtime (a system libgomp in the image, and a thread pool beside the ONNX sessions) to the server.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.core.text import CAPITALISED
from retrieval.embed.embedder import FP32_VECTORS, MODEL_NAME

log = logging.getLogger(__name__)

MODEL_PATH = Path(__file__).with_name("rerank_model.json")  # the trees for fp32 vectors (see trees_path)
FEATURES = (
    "position",  # in the fused ranking (0 is first)
    "score",  # fused score / the first candidate's
    "question_bm25",  # whole-question BM25 / the best chunk's
    "question_dense",  # whole-question cosine, min-max over Chroma's candidates
    "best_clause",  # best clause score (chunk and best-sentence BM25)
    "bonus",  # outlet and date bonus
    "article_rank",  # the article's place among the candidates' articles
    "rank_in_article",  # 0 for the article's best candidate
    "gap_to_article_best",  # fused score minus the article's best candidate's
    "chunk_index",  # place of the chunk in its article (0 is the lead)
    "term_coverage",  # share of the question's BM25 terms in the chunk or its header
    "name_coverage",  # share of the question's capitalised words in the chunk
    "best_clause_rank",  # best rank of the chunk among the candidates over the clauses (99: no clauses)
    "question_bm25_rank",  # rank among the candidates by whole-question BM25
    "question_dense_rank",  # rank among the candidates by whole-question cosine
    "queries",  # 1 + number of clauses
    "best_sentence",  # whole-question BM25 of the chunk's best sentence / the best candidate's
    "named_outlet",  # 1 when the chunk's outlet is named in the question
    "outlets_named",  # how many outlets the question names
    "article_candidates",  # how many candidates come from the chunk's article
    "article_score",  # sum of the fused scores of the article's candidates / the first candidate's
    "sentences",  # sentences in the chunk
)
NO_CLAUSES = 99


@dataclass(frozen=True)
class Signals:
    """What the search computed for one question, over every chunk (arrays in the BM25 index's order)."""

    score: np.ndarray  # final fused score
    question_bm25: np.ndarray  # scaled to the best chunk
    question_dense: np.ndarray
    clauses: np.ndarray | None  # one row per clause, None for a one-clause question
    bonus: np.ndarray | float
    article: np.ndarray  # article number of each chunk
    chunk_index: np.ndarray
    named_outlet: np.ndarray | None  # bool per chunk, None when no outlet is named
    outlets_named: int


def _ranks(values: np.ndarray) -> np.ndarray:
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[np.argsort(-values, kind="stable")] = np.arange(len(values))
    return ranks


def _per_article(
    articles: list[int], score: np.ndarray
) -> tuple[dict[int, int], dict[int, float], dict[int, float], dict[int, int], np.ndarray]:
    """For the candidates' articles (in candidate order): each article's rank, best and total score, and number
    of candidates; and each candidate's rank within its article."""
    article_rank: dict[int, int] = {}
    article_best: dict[int, float] = {}
    article_total: dict[int, float] = {}
    seen: dict[int, int] = {}
    rank_in_article = np.zeros(len(articles))
    for row, article in enumerate(articles):
        article_rank.setdefault(article, len(article_rank))
        article_best.setdefault(article, float(score[row]))
        article_total[article] = article_total.get(article, 0.0) + float(score[row])
        rank_in_article[row] = seen.get(article, 0)
        seen[article] = seen.get(article, 0) + 1
    return article_rank, article_best, article_total, seen, rank_in_article


def features(
    candidates: Sequence[int],
    signals: Signals,
    question: str,
    question_terms: Sequence[str],
    texts: Sequence[str],
    best_sentence: np.ndarray,
    terms_present: np.ndarray,
    sentences: np.ndarray,
) -> np.ndarray:
    """One row of FEATURES per candidate (positions in the BM25 index, best first), from the search's signals,
    the candidates' texts, their best-sentence BM25, how many of the question's terms and sentences each holds."""
    pool = np.asarray(candidates, dtype=np.int64)
    n = len(pool)
    out = np.zeros((n, len(FEATURES)), dtype=np.float64)
    if n == 0:
        return out
    score = signals.score[pool].astype(np.float64)
    articles = signals.article[pool]
    article_rank, article_best, article_total, seen, rank_in_article = _per_article(articles.tolist(), score)
    named = {w.lower() for w in CAPITALISED.findall(question)[1:]}  # the first word is capitalised anyway
    top = float(score[0]) if score[0] > 0 else 1.0
    sentence_top = float(best_sentence.max()) if len(best_sentence) and best_sentence.max() > 0 else 1.0
    clause_rows = signals.clauses[:, pool] if signals.clauses is not None else None
    per_article = articles.tolist()

    columns: dict[str, Any] = {
        "position": np.arange(n),
        "score": score / top,
        "question_bm25": signals.question_bm25[pool],
        "question_dense": signals.question_dense[pool],
        "best_clause": clause_rows.max(axis=0) if clause_rows is not None else 0.0,
        "bonus": signals.bonus[pool] if isinstance(signals.bonus, np.ndarray) else signals.bonus,
        "article_rank": [article_rank[a] for a in per_article],
        "rank_in_article": rank_in_article,
        "gap_to_article_best": score - np.array([article_best[a] for a in per_article]),
        "chunk_index": signals.chunk_index[pool],
        "term_coverage": terms_present / max(1, len(set(question_terms))),
        "name_coverage": [sum(w in low for w in named) / max(1, len(named)) for low in map(str.lower, texts)],
        "best_clause_rank": np.min([_ranks(r) for r in clause_rows], axis=0) if clause_rows is not None else NO_CLAUSES,
        "question_bm25_rank": _ranks(signals.question_bm25[pool]),
        "question_dense_rank": _ranks(signals.question_dense[pool]),
        "queries": 1 + (len(clause_rows) if clause_rows is not None else 0),
        "best_sentence": best_sentence / sentence_top,
        "named_outlet": signals.named_outlet[pool] if signals.named_outlet is not None else 0.0,
        "outlets_named": signals.outlets_named,
        "article_candidates": [seen[a] for a in per_article],
        "article_score": [article_total[a] / top for a in per_article],
        "sentences": sentences,
    }
    for i, name in enumerate(FEATURES):
        out[:, i] = columns[name]
    return out


class TreeModel:
    """A sum of binary decision trees (LightGBM's numerical splits: value <= threshold goes left), in arrays.

    Every node of every tree sits in one flat array; a leaf is a node that leads to itself. So all trees are
    walked at once, a fixed number of steps (the deepest tree's depth), each a few numpy gathers over
    (rows x trees), with no Python loop over trees or rows.
    """

    def __init__(self, features: Sequence[str], trees: list[dict[str, list[Any]]], meta: dict[str, Any]) -> None:
        self.features = tuple(features)
        self.meta = meta
        self.trees = trees
        feature: list[int] = []
        threshold: list[float] = []
        left: list[int] = []
        right: list[int] = []
        value: list[float] = []
        roots: list[int] = []
        depth = 0
        for tree in trees:
            base, inner = len(feature), len(tree["feature"])

            def node(child: int, base: int = base, inner: int = inner) -> int:  # < 0: leaf ~child
                return base + (child if child >= 0 else inner + ~child)

            roots.append(base)
            feature += tree["feature"]
            threshold += tree["threshold"]
            left += [node(c) for c in tree["left"]]
            right += [node(c) for c in tree["right"]]
            value += [0.0] * inner
            for i, leaf_value in enumerate(tree["leaf"]):
                feature.append(0)
                threshold.append(np.inf)
                left.append(base + inner + i)
                right.append(base + inner + i)
                value.append(leaf_value)
            depth = max(depth, _depth(tree))
        self.feature = np.asarray(feature, dtype=np.int64)
        self.threshold = np.asarray(threshold, dtype=np.float64)
        self.left = np.asarray(left, dtype=np.int64)
        self.right = np.asarray(right, dtype=np.int64)
        self.value = np.asarray(value, dtype=np.float64)
        self.roots = np.asarray(roots, dtype=np.int64)
        self.depth = depth

    def predict(self, rows: np.ndarray) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.float64)
        if rows.ndim != 2 or rows.shape[1] != len(self.features):
            raise ValueError(f"expected rows of {len(self.features)} features, got shape {rows.shape}")
        flat = rows.ravel()
        offset = (np.arange(len(rows)) * rows.shape[1])[:, None]
        node = np.repeat(self.roots[None, :], len(rows), axis=0)
        for _ in range(self.depth):
            goes_left = flat[offset + self.feature[node]] <= self.threshold[node]
            node = np.where(goes_left, self.left[node], self.right[node])
        return self.value[node].sum(axis=1)

    # ------------------------------------------------------------- files

    @classmethod
    def from_lightgbm(cls, dump: dict[str, Any], meta: dict[str, Any] | None = None) -> TreeModel:
        """From LightGBM's Booster.dump_model(): numerical '<=' splits only (no categorical, no missing values)."""
        trees = []
        for info in dump["tree_info"]:
            tree: dict[str, list[Any]] = {"feature": [], "threshold": [], "left": [], "right": [], "leaf": []}

            def walk(node: dict[str, Any], tree: dict[str, list[Any]] = tree) -> int:
                if "leaf_value" in node:
                    tree["leaf"].append(float(node["leaf_value"]))
                    return ~(len(tree["leaf"]) - 1)
                if node.get("decision_type") != "<=" or node.get("missing_type") not in ("None", None):
                    raise ValueError(f"unsupported split: {node.get('decision_type')}, {node.get('missing_type')}")
                index = len(tree["feature"])
                for key, value in (("feature", node["split_feature"]), ("threshold", float(node["threshold"]))):
                    tree[key].append(value)
                tree["left"].append(0)
                tree["right"].append(0)
                tree["left"][index] = walk(node["left_child"])
                tree["right"][index] = walk(node["right_child"])
                return index

            walk(info["tree_structure"])
            trees.append(tree)
        return cls(dump["feature_names"], trees, meta or {})

    def save(self, path: Path) -> None:
        path.write_text(json.dumps({"features": list(self.features), "meta": self.meta, "trees": self.trees}))

    @classmethod
    def load(cls, path: Path | None = None) -> TreeModel:
        path = path or MODEL_PATH
        data = json.loads(path.read_text(encoding="utf-8"))
        model = cls(data["features"], data["trees"], data.get("meta", {}))
        if model.features != FEATURES:
            raise ValueError(f"{path} was trained on other features; retrain it with bench/train_rerank.py")
        return model


def _depth(tree: dict[str, list[Any]]) -> int:
    """Splits on the longest path from the root to a leaf."""

    def down(child: int) -> int:
        return 0 if child < 0 else 1 + max(down(tree["left"][child]), down(tree["right"][child]))

    return down(0) if tree["feature"] else 0


def trees_path(vectors: str = FP32_VECTORS) -> Path:
    """Where the trees for an index of these vectors (retrieval.embed.embedder.vectors_of) are kept: the features
    carry the dense scores, so another kind of vectors may need trees of its own (rerank_model-int8-....json)."""
    if vectors == FP32_VECTORS:
        return MODEL_PATH
    return MODEL_PATH.with_name(f"{MODEL_PATH.stem}-{vectors.removeprefix(MODEL_NAME + '-')}.json")


@lru_cache(maxsize=4)
def trees_for(vectors: str = FP32_VECTORS) -> TreeModel | None:
    """The shipped trees for these vectors (fp32's when none were trained for them); None (search keeps the
    fused order) when they cannot be read."""
    path = trees_path(vectors)
    if not path.exists() and vectors != FP32_VECTORS:
        log.info("no re-ranking trees trained on %s vectors (%s); using fp32's", vectors, path.name)
        path = MODEL_PATH
    try:
        return TreeModel.load(path)
    except (OSError, ValueError, KeyError) as exc:
        log.warning("search runs without re-ranking: %s (retrain with bench/train_rerank.py)", exc)
        return None


def default_model() -> TreeModel | None:
    """The shipped trees for fp32 vectors (see trees_for)."""
    return trees_for(FP32_VECTORS)
