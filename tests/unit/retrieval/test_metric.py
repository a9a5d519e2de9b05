"""The official MultiHop-RAG retrieval metric, checked on small hand-made cases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evaluation.passages import Figures, QueryScore, breakdown, load_queries, score_query, squash
from retrieval.core.errors import InvalidInput

A = "Apple sold 10 million phones."
B = "Samsung answered with a price cut."
C = "Analysts expect a quiet quarter."


def filler(n: int) -> list[str]:
    return [f"Unrelated sentence number {i}." for i in range(n)]


def test_spaces_and_newlines_are_ignored_but_nothing_else() -> None:
    assert squash("a b\nc\td") == "abc\td"
    chunk = "Before.  Apple  sold 10\nmillion phones. After."
    assert score_query([chunk], [A]).hits_at_10 == 1
    assert score_query(["Apple sold 10 million phones!"], [A]).hits_at_10 == 0  # punctuation still counts


def test_a_fact_split_across_two_chunks_never_matches() -> None:
    assert score_query(["Apple sold 10 million", "phones. Then more."], [A]) == QueryScore(0, 0, 0, 0)


def test_hits_and_mrr_follow_the_first_relevant_rank() -> None:
    ranked = [*filler(4), f"x {A} y", *filler(5)]
    score = score_query(ranked, [A, B])
    assert score.hits_at_4 == 0
    assert score.hits_at_10 == 1
    assert score.mrr_at_10 == pytest.approx(1 / 5)
    assert score.map_at_10 == pytest.approx((1 / 5) / 2)

    top = score_query([A, *filler(9)], [A])
    assert (top.hits_at_4, top.hits_at_10, top.mrr_at_10, top.map_at_10) == (1, 1, 1, 1)


def test_only_the_top_ten_count() -> None:
    assert score_query([*filler(10), A], [A]) == QueryScore(0, 0, 0, 0)


def test_map_counts_facts_first_matched_at_each_rank_over_min_facts_ten() -> None:
    # rank 1 holds two facts at once: the paper adds 2/1 there (standard AP would add 1/1 + 2/2 over ranks)
    ranked = [f"{A} {B}", filler(1)[0], C]
    assert score_query(ranked, [A, B, C]).map_at_10 == pytest.approx((2 / 1 + 1 / 3) / 3)
    # a fact found again later adds nothing
    assert score_query([A, A, B], [A, B]).map_at_10 == pytest.approx((1 / 1 + 1 / 3) / 2)
    # the paper's MAP does not use precision@rank: two relevant chunks at ranks 2 and 3 give 1/2 + 1/3
    assert score_query([filler(1)[0], A, B], [A, B]).map_at_10 == pytest.approx((1 / 2 + 1 / 3) / 2)


def test_map_divides_by_ten_when_there_are_more_facts() -> None:
    facts = [f"Fact number {i} is here." for i in range(12)]
    ranked = [" ".join(facts)]  # one chunk holds all twelve: 12/1 over min(12, 10)
    assert score_query(ranked, facts).map_at_10 == pytest.approx(12 / 10)


def test_a_repeated_gold_fact_counts_once_but_still_in_the_denominator() -> None:
    assert score_query([A], [A, A]).map_at_10 == pytest.approx(0.5)


def test_means_and_per_type_breakdown() -> None:
    scored = [
        ("inference_query", QueryScore(1, 1, 1.0, 0.5)),
        ("inference_query", QueryScore(0, 1, 0.2, 0.1)),
        ("temporal_query", QueryScore(0, 0, 0.0, 0.0)),
    ]
    result = breakdown(scored)
    assert result.overall == Figures(queries=3, hits_at_4=0.3333, hits_at_10=0.6667, mrr_at_10=0.4, map_at_10=0.2)
    assert result.by_type["inference_query"].hits_at_10 == 1.0
    assert result.by_type["temporal_query"].queries == 1
    as_json = result.as_json()
    assert set(as_json) == {"queries", "Hits@4", "Hits@10", "MRR@10", "MAP@10", "by_type"}
    assert as_json["by_type"]["inference_query"]["MRR@10"] == pytest.approx(0.6)  # type: ignore[index]


def test_null_queries_are_skipped_and_bad_files_explained(tmp_path: Path) -> None:
    path = tmp_path / "queries.json"
    path.write_text(
        json.dumps(
            [
                {"query": "q1", "question_type": "inference_query", "evidence_list": [{"fact": A}]},
                {"query": "q2", "question_type": "null_query", "evidence_list": []},
            ]
        )
    )
    assert [q.query for q in load_queries(path)] == ["q1"]
    path.write_text('{"query": "not a list"}')
    with pytest.raises(InvalidInput, match="JSON list"):
        load_queries(path)
    with pytest.raises(InvalidInput, match="cannot read"):
        load_queries(tmp_path / "missing.json")
