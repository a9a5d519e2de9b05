"""The re-ranking trees (numpy evaluation of LightGBM models) and the candidate features they read."""

from __future__ import annotations

import logging
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest

from retrieval.core.text import tokenize
from retrieval.embed.embedder import INT8_VECTORS
from retrieval.search import rerank
from retrieval.search.rerank import FEATURES, NO_CLAUSES, Signals, TreeModel, features
from retrieval.storage.lexical import LexicalStore, Row

# two trees over two features: (x0 <= 0.5 ? (x1 <= 2 ? 1 : 2) : 3) + (x1 <= 10 ? 0.25 : -0.25), and a lone leaf
HAND_MADE = {
    "feature_names": ["a", "b"],
    "tree_info": [
        {
            "tree_structure": {
                "split_feature": 0, "threshold": 0.5, "decision_type": "<=", "missing_type": "None",
                "left_child": {
                    "split_feature": 1, "threshold": 2.0, "decision_type": "<=", "missing_type": "None",
                    "left_child": {"leaf_value": 1.0}, "right_child": {"leaf_value": 2.0},
                },
                "right_child": {"leaf_value": 3.0},
            }
        },
        {
            "tree_structure": {
                "split_feature": 1, "threshold": 10.0, "decision_type": "<=", "missing_type": "None",
                "left_child": {"leaf_value": 0.25}, "right_child": {"leaf_value": -0.25},
            }
        },
        {"tree_structure": {"leaf_value": 0.5}},
    ],
}  # fmt: skip


def test_hand_made_trees_follow_their_splits() -> None:
    model = TreeModel.from_lightgbm(HAND_MADE)
    rows = np.array([[0.5, 2.0], [0.5, 2.1], [0.6, 0.0], [0.0, 11.0]])
    assert model.predict(rows).tolist() == [1.75, 2.75, 3.75, 2.25]  # a threshold itself goes left
    with pytest.raises(ValueError, match="2 features"):
        model.predict(np.zeros((1, 3)))


def test_numpy_trees_give_lightgbm_predictions_and_survive_a_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    rows = rng.normal(size=(600, 6))
    rows[:, 2] = rng.integers(0, 4, size=600)  # ties on thresholds, as rank features have
    labels = rng.integers(0, 3, size=600)
    params = {"objective": "lambdarank", "num_leaves": 15, "min_data_in_leaf": 5, "verbose": -1, "num_threads": 1}
    booster = lgb.train(params, lgb.Dataset(rows, labels, group=[30] * 20), num_boost_round=40)
    model = TreeModel.from_lightgbm(booster.dump_model(), {"note": "test"})
    fresh = rng.normal(size=(50, 6))
    fresh[:, 2] = rng.integers(0, 4, size=50)
    assert np.abs(model.predict(fresh) - booster.predict(fresh)).max() < 1e-9

    path = tmp_path / "model.json"
    model.save(path)
    again = TreeModel(*_parts(path))
    assert again.meta == {"note": "test"}
    assert np.array_equal(again.predict(fresh), model.predict(fresh))


def _parts(path: Path) -> tuple[list[str], list[dict[str, list[object]]], dict[str, object]]:
    import json

    data = json.loads(path.read_text())
    return data["features"], data["trees"], data["meta"]


def test_a_model_trained_on_other_features_is_refused_and_search_goes_on_without_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    stale = tmp_path / "stale.json"
    TreeModel.from_lightgbm(HAND_MADE).save(stale)
    with pytest.raises(ValueError, match="retrain"):
        TreeModel.load(stale)
    monkeypatch.setattr(rerank, "MODEL_PATH", tmp_path / "missing.json")
    rerank.trees_for.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="retrieval.search.rerank"):
            assert rerank.default_model() is None
        assert "without re-ranking" in caplog.text and "train_rerank" in caplog.text
    finally:
        rerank.trees_for.cache_clear()


def test_int8_vectors_get_their_own_trees_when_some_were_trained_for_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = TreeModel.load()
    monkeypatch.setattr(rerank, "MODEL_PATH", tmp_path / "rerank_model.json")
    shipped.save(tmp_path / "rerank_model.json")
    rerank.trees_for.cache_clear()
    try:
        assert rerank.trees_path(INT8_VECTORS).name == f"rerank_model-{INT8_VECTORS.split('-', 4)[-1]}.json"
        fallback = rerank.trees_for(INT8_VECTORS)  # none trained for int8: fp32's serve
        assert fallback is not None and len(fallback.trees) == len(shipped.trees)
        own = TreeModel(FEATURES, shipped.trees[:3], {"trained_on": "int8"})
        own.save(rerank.trees_path(INT8_VECTORS))
        rerank.trees_for.cache_clear()
        chosen = rerank.trees_for(INT8_VECTORS)
        assert chosen is not None and chosen.meta == {"trained_on": "int8"} and len(chosen.trees) == 3
        assert len((rerank.default_model() or pytest.fail()).trees) == len(shipped.trees)
    finally:
        rerank.trees_for.cache_clear()


def test_the_shipped_trees_read_the_current_features() -> None:
    model = TreeModel.load()
    assert model.features == FEATURES
    assert "tune half" in model.meta["trained_on"]
    scores = model.predict(np.zeros((3, len(FEATURES))))
    assert np.isfinite(scores).all() and len(scores) == 3


def test_features_describe_each_candidate_against_its_article_and_the_question() -> None:
    # chunks 0-3; articles: 0, 0, 1, 2; candidates in fused order: 1, 2, 0
    signals = Signals(
        score=np.array([0.5, 2.0, 1.0, 0.1]),
        question_bm25=np.array([0.2, 1.0, 0.4, 0.0]),
        question_dense=np.array([0.9, 0.3, 1.0, 0.0]),
        clauses=np.array([[0.1, 0.2, 0.9, 0.0], [0.8, 0.1, 0.0, 0.0]]),
        bonus=np.array([0.0, 0.2, 0.0, 0.0]),
        article=np.array([0, 0, 1, 2]),
        chunk_index=np.array([0, 1, 0, 0]),
        named_outlet=np.array([True, True, False, False]),
        outlets_named=1,
    )
    texts = ["Lumen chips ship in spring.", "Lumen said nothing.", "Riverbend dam approved."]
    rows = features(
        [1, 2, 0], signals, "Did Lumen ship its chips?", ["lumen", "ship", "chip"], texts,
        best_sentence=np.array([4.0, 1.0, 2.0]), terms_present=np.array([1.0, 0.0, 3.0]),
        sentences=np.array([3, 1, 2]),
    )  # fmt: skip
    col = {name: rows[:, i].tolist() for i, name in enumerate(FEATURES)}
    assert col["position"] == [0, 1, 2]
    assert col["score"] == [1.0, 0.5, 0.25]
    assert col["article_rank"] == [0, 1, 0]
    assert col["rank_in_article"] == [0, 0, 1]
    assert col["gap_to_article_best"] == [0.0, 0.0, -1.5]
    assert col["chunk_index"] == [1, 0, 0]
    assert col["best_clause"] == [0.2, 0.9, 0.8]
    assert col["best_clause_rank"] == [1, 0, 0]  # clause 1 ranks chunk 1 second; clause 0 ranks chunk 0 first
    assert col["question_bm25_rank"] == [0, 1, 2] and col["question_dense_rank"] == [2, 0, 1]
    assert col["term_coverage"] == pytest.approx([1 / 3, 0.0, 1.0])
    assert col["name_coverage"] == [1.0, 1.0, 0.0]  # "Lumen": the only capitalised word after the first
    assert col["best_sentence"] == [1.0, 0.25, 0.5]
    assert col["named_outlet"] == [1, 0, 1] and col["outlets_named"] == [1, 1, 1]
    assert col["queries"] == [3, 3, 3]
    assert col["article_candidates"] == [2, 1, 2]
    assert col["article_score"] == [1.25, 0.5, 1.25]
    assert col["sentences"] == [3, 1, 2]
    one_clause = features(
        [1], Signals(**{**signals.__dict__, "clauses": None}), "q", [], ["x"],
        best_sentence=np.zeros(1), terms_present=np.zeros(1), sentences=np.ones(1),
    )  # fmt: skip
    assert one_clause[0, FEATURES.index("best_clause_rank")] == NO_CLAUSES
    assert one_clause[0, FEATURES.index("queries")] == 1


def test_terms_present_counts_each_question_term_a_chunk_or_its_header_holds(tmp_path: Path) -> None:
    texts = {
        "a": "Chip news\x1eLumen ships the XR-7731 chip in spring.",
        "b": "Dam news\x1eThe council approved the dam. The dam will hold water.",
        "c": "Chips and dams\x1eNothing else here.",
    }
    store = LexicalStore(tmp_path / "lexical.sqlite3")
    store.write([Row(cid, text, {"article_id": cid}, text) for cid, text in texts.items()])
    lexical = store.view()
    rows = np.array([lexical.position[cid] for cid in texts])
    terms = tokenize(["Will the Lumen chip and the dam ship in spring?"])[0]
    got = lexical.terms_present(terms, rows)
    expected = [len(set(terms) & set(tokenize([text.replace("\x1e", "\n")])[0])) for text in texts.values()]
    assert got.tolist() == expected
    assert expected[0] >= 3 and expected[2] >= 2  # header words count: "chips", "dams"
    assert lexical.terms_present(["unknownword"], rows[:2]).tolist() == [0, 0]
