"""The product search on small hand-made corpora: hybrid, filters, outlets and periods, diversity, BM25 in step."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from retrieval.core.types import Article, SearchFilters
from retrieval.search.hybrid import SearchOptions
from retrieval.search.rerank import FEATURES
from retrieval.service import Newsdesk
from tests.support.inside import chunk_texts, rerank_model, rerank_rows, searchable_count, searcher
from tests.support.lexical_check import assert_lexical_matches_chroma

pytestmark = pytest.mark.integration


def article(aid: str, title: str, body: str, source: str, day: str) -> Article:
    return Article(id=aid, title=title, body=body, source=source, published_at=f"{day}T10:00:00+00:00")


NEWS = [
    article(
        "dam-gazette", "Valley dam approved", "The regional council approved the Riverbend dam on Tuesday. "
        "Engineers said the reservoir will hold forty million cubic metres. Farmers welcomed the decision.",
        "The Gazette", "2023-10-04",
    ),
    article(
        "dam-planet", "Protest at the dam site", "Hundreds of residents marched against the Riverbend dam. "
        "They fear the reservoir will flood the old mill and the heron colony. The council did not comment.",
        "Daily Planet", "2023-11-20",
    ),
    article(
        "dam-planet-2", "Dam budget doubles", "The Riverbend dam will cost twice the first estimate, the council "
        "admitted. Steel prices and a redesign of the spillway explain most of the overrun.",
        "Daily Planet", "2023-12-02",
    ),
    article(
        "chips", "Chipmaker unveils XR-7731", "Lumen Semiconductors unveiled the XR-7731 processor. "
        "The chip draws four watts and targets drones and cameras. Shipments start in spring.",
        "Tech Wire", "2023-10-18",
    ),
    article(
        "football", "Late winner for Rovers", "Rovers beat United two goals to one with a header in stoppage time. "
        "The goalkeeper was sent off in the first half after a handball outside the box.",
        "Sports Desk", "2023-11-05",
    ),
]  # fmt: skip


@pytest.fixture
def news(make_service: Callable[..., Newsdesk]) -> Newsdesk:
    service = make_service()
    report = service.add_articles(NEWS)
    assert len(report.added) == len(NEWS)
    return service


def articles_of(passages: list) -> list[str]:
    return [p.article_id for p in passages]


def test_hybrid_finds_exact_codes_and_paraphrases(news: Newsdesk) -> None:
    # a product code: BM25's strength
    assert news.search("Which company makes the XR-7731?", 3)[0].article_id == "chips"
    # a paraphrase with no shared content words: the embedding's strength
    assert news.search("a soccer match decided in added time", 3)[0].article_id == "football"
    # both retrievers contribute: neither alone is needed for the two results above
    dense = searcher(news, SearchOptions.dense_only())
    lexical = searcher(news, SearchOptions.lexical_only())
    assert dense.search("a soccer match decided in added time", 1)[0].article_id == "football"
    assert lexical.search("Which company makes the XR-7731?", 1)[0].article_id == "chips"


def test_explicit_filters_restrict_sources_and_dates(news: Newsdesk) -> None:
    only_planet = news.search("Riverbend dam", 10, SearchFilters(sources=["Daily Planet"]))
    assert only_planet and {p.source for p in only_planet} == {"Daily Planet"}
    november = news.search("Riverbend dam", 10, SearchFilters(since="2023-11-01", until="2023-11-30"))
    assert articles_of(november) == ["dam-planet"]
    assert news.search("Riverbend dam", 10, SearchFilters(sources=["Nobody Weekly"])) == []
    case_insensitive = news.search("Riverbend dam", 10, SearchFilters(sources=["the gazette"]))
    assert articles_of(case_insensitive) == ["dam-gazette"]


def test_named_outlets_each_bring_their_evidence(news: Newsdesk) -> None:
    query = "Did The Gazette report the dam was approved, while the Daily Planet covered residents opposing it?"
    top = news.search(query, 2)
    assert {p.source for p in top} == {"The Gazette", "Daily Planet"}
    # the outlet named alone comes first, even for words another outlet matches as well
    assert news.search("What did the Daily Planet write about the council and the dam?", 1)[0].source == "Daily Planet"


def test_named_dates_and_months_prefer_that_period(news: Newsdesk) -> None:
    assert news.search("the Riverbend dam news in December 2023", 1)[0].article_id == "dam-planet-2"
    assert news.search("the Riverbend dam report published on November 20, 2023", 1)[0].article_id == "dam-planet"


def test_long_articles_do_not_crowd_out_others(make_service: Callable[..., Newsdesk]) -> None:
    service = make_service(chunk_tokens=48, chunk_overlap_sentences=0)
    long_body = " ".join(f"The Riverbend dam inquiry heard witness {i} on the dam's spillway." for i in range(40))
    service.add_articles([article("long", "Dam inquiry", long_body, "Daily Planet", "2023-11-01"), *NEWS])
    passages = service.search("Riverbend dam spillway witness", 6)
    assert len(passages) == 6
    assert articles_of(passages).count("long") == SearchOptions().max_per_article
    assert len(set(articles_of(passages))) == 3  # the other dam articles get the remaining places
    # with nothing else left to show, the cap gives way rather than return fewer passages
    assert len(service.search("Riverbend dam spillway witness", 12)) == 12


def test_reranking_reorders_the_fused_candidates_and_shows_nothing_else(news: Newsdesk) -> None:
    query = "Did the council approve the Riverbend dam, and what did residents fear about the reservoir?"
    fused = searcher(news, SearchOptions(rerank=False))
    pool = [p.chunk_id for p in fused.search(query, SearchOptions().rerank_pool)]
    ids, rows = rerank_rows(news, query)
    assert ids == pool  # the trees see exactly the fused candidates, in fused order
    assert rows.shape == (len(pool), len(FEATURES)) and np.isfinite(rows).all()
    assert rows[:, FEATURES.index("position")].tolist() == list(range(len(pool)))
    shown = news.search(query, 3)
    assert len(shown) == 3 and {p.chunk_id for p in shown} <= set(pool)
    assert {p.article_id for p in shown} == {"dam-gazette", "dam-planet", "dam-planet-2"}


def test_the_reranking_setting_turns_the_trees_off(make_service: Callable[..., Newsdesk]) -> None:
    plain = make_service(rerank=False)
    plain.add_articles(NEWS)
    assert rerank_model(plain) is None
    query = "Did The Gazette report the dam was approved, while the Daily Planet covered residents opposing it?"
    fused = searcher(plain, SearchOptions(rerank=False)).search(query, 5)
    assert [p.chunk_id for p in plain.search(query, 5)] == [p.chunk_id for p in fused]


def test_bm25_stays_in_step_through_add_replace_and_delete(
    make_service: Callable[..., Newsdesk], make_settings: Callable[..., object], tmp_path: Path
) -> None:
    service = make_service()
    lexical = searcher(service, SearchOptions.lexical_only())
    service.add_articles([NEWS[3]])
    assert articles_of(lexical.search("XR-7731", 5)) == ["chips"]

    renamed = NEWS[3].model_copy(
        update={"title": "Chipmaker unveils a processor", "body": NEWS[3].body.replace("XR-7731", "QZ-5150")}
    )
    service.add_articles([renamed])
    assert lexical.search("XR-7731", 5) == []
    assert articles_of(lexical.search("QZ-5150", 5)) == ["chips"]
    assert searchable_count(service) == len(chunk_texts(service))

    service.add_articles([NEWS[4]])
    service.delete("chips")
    assert lexical.search("QZ-5150", 5) == []
    assert articles_of(service.search("QZ-5150 stoppage", 5)) == ["football"]

    # persisted beside Chroma, updated in place: exactly what a clean rebuild from Chroma gives
    assert_lexical_matches_chroma(service, tmp_path)
    reopened = make_service()
    assert articles_of(reopened.search("header in stoppage time", 1)) == ["football"]


def test_an_empty_index_returns_nothing(make_service: Callable[..., Newsdesk], tmp_path: Path) -> None:
    assert make_service().search("anything at all") == []


def test_eval_retrieval_command_scores_the_product_search(tmp_path: Path, make_settings: Callable[..., object]) -> None:
    import json

    from typer.testing import CliRunner

    from bot.cli import app
    from tests.conftest import subprocess_env

    make_settings()  # the session's model cache
    corpus = tmp_path / "corpus.json"
    corpus.write_text(json.dumps([a.model_dump(include={"title", "body", "source", "published_at"}) for a in NEWS]))
    queries = tmp_path / "queries.json"
    fact = "Engineers said the reservoir will hold forty million cubic metres."
    queries.write_text(
        json.dumps(
            [
                {"query": "How much water will the Riverbend reservoir hold, according to The Gazette?",
                 "question_type": "inference_query", "evidence_list": [{"fact": fact}]},
                {"query": "Who painted the Mona Lisa?", "question_type": "null_query", "evidence_list": []},
            ]
        )
    )  # fmt: skip
    env = subprocess_env(tmp_path / "data")
    args = ["eval", "retrieval", "--corpus", str(corpus), "--queries", str(queries), "--json"]
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["queries"] == 1
    assert figures["Hits@10"] == 1.0 and figures["MRR@10"] == 1.0
    assert set(figures["by_type"]) == {"inference_query"}
    assert set(figures["baseline_dense"]) >= {"queries", "Hits@4", "Hits@10", "MRR@10", "MAP@10", "by_type"}
    assert list((tmp_path / "data" / "eval").iterdir())  # its own index, reused by the next run
    again = CliRunner().invoke(app, args, env=env)
    assert again.exit_code == 0 and "embedded" not in again.output
