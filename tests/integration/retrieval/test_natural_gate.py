"""Questions as people type them: the seed article's, and a quality gate of 20 from bench/natural_questions.json.

The seed article (corpus/) must answer its natural questions with the answering sentence first, whatever word
the question counts with (vehicles, cars, EVs) and whoever the small NER model misses (BAIC).

The gate asks 20 fixed questions of the natural development set (lower case, short names, typos; factual,
yes/no and near misses: the subject is covered, the fact asked for is not) of an index of their articles plus
30 unrelated distractors from the benchmark corpus, built once for the module with the default embedder. Its
floors sit about one question under the figures measured when it was set (in FLOORS' comments).
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from retrieval.answer import citations
from retrieval.answer.extractive import EVIDENCE_NOT_VERDICT
from retrieval.core.config import Settings
from retrieval.core.types import Question
from retrieval.embed.embedder import Embedder, OnnxEmbedder
from retrieval.service import Newsdesk
from tests.conftest import CORPUS, MULTIHOP
from tests.support.openai_server import openai_server

pytestmark = pytest.mark.integration

NATURAL = Path(__file__).resolve().parents[3] / "bench" / "natural_questions.json"
GATE_IDS = (1, 8, 18, 20, 21, 27, 33, 38, 44, 55, 63, 77, 26, 49, 6, 24, 43, 62, 79, 83)
DISTRACTORS, SEED = 30, 2026
FLOORS = {  # set on 2026-12-07 with the int8 embedder: one question under the measured figures
    "fact_held": 0.5,  # measured 7/12 (.583); the code before: see bench/natural.py
    "evidence_first": 0.5,  # 2/2
    "near_miss_declined": 0.66,  # 5/6
    "answerable_declined_at_most": 0.22,  # 2/14 (.143)
}

SEED_QUESTIONS = [
    ("how many vehicles will xiaomi make a year", "300,000"),
    ("how many cars is xiaomi planning to build", "300,000"),
    ("how many EVs will xiaomi make a year", "300,000"),
    ("who was to build xiaomi's cars", "BAIC"),
    ("which company was to assemble xiaomi's cars", "BAIC"),
    ("when does the apple car come out", "2025"),
    ("what is apple buying", "batteries"),
]


@pytest.mark.parametrize(("question", "expected"), SEED_QUESTIONS)
def test_the_seed_articles_natural_questions_are_answered_sentence_first(
    seed_service: Newsdesk, question: str, expected: str
) -> None:
    answer = seed_service.ask(Question(question=question))
    assert not answer.abstained, question
    assert expected in answer.answer.splitlines()[0], answer.answer
    assert expected in answer.citations[0].quote
    assert citations.problems(answer, seed_service.search(question)) == []


def test_a_near_miss_on_the_seed_article_is_declined_with_related_passages(seed_service: Newsdesk) -> None:
    answer = seed_service.ask(Question(question="how much will xiaomi's factory cost"))  # the article gives no cost
    assert answer.abstained
    assert answer.related


def _words(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9$€£%]+", text.lower().replace(",", "")))


@pytest.fixture(scope="module")
def gate(
    tmp_path_factory: pytest.TempPathFactory, model_cache: Path, int8_embedder: OnnxEmbedder
) -> tuple[Newsdesk, list[dict[str, Any]]]:
    everything = {q["id"]: q for q in json.loads(NATURAL.read_text(encoding="utf-8"))}
    questions = [everything[n] for n in GATE_IDS]
    corpus = json.loads((MULTIHOP / "corpus.json").read_text(encoding="utf-8"))
    wanted = {q["article"]["url"] for q in questions}
    others = [a for a in corpus if a["url"] not in wanted]
    articles = [a for a in corpus if a["url"] in wanted] + random.Random(SEED).sample(others, DISTRACTORS)
    folder = tmp_path_factory.mktemp("natural-gate")
    (folder / "articles.json").write_text(json.dumps(articles), encoding="utf-8")
    settings = Settings(data_dir=folder / "data", model_cache_dir=model_cache, llm=None, embedder="onnx-int8")
    service = Newsdesk(settings, embedder=int8_embedder)
    report = service.ingest([str(folder / "articles.json")])
    assert not report.failed and len(report.added) == len(articles)
    return service, questions


def test_natural_questions_stay_above_their_floors(gate: tuple[Newsdesk, list[dict[str, Any]]]) -> None:
    service, questions = gate
    held: dict[str, list[bool]] = {"factual": [], "yes_no": [], "near_miss": []}
    declined: list[bool] = []
    for q in questions:
        question, kind, expected = str(q["question"]), str(q["type"]), list(q["answers"])
        answer = service.ask(Question(question=question))
        assert citations.problems(answer, service.search(question)) == [], question
        first = "" if answer.abstained else answer.answer.splitlines()[0]
        if kind == "near_miss":
            held[kind].append(answer.abstained)
            continue
        declined.append(answer.abstained)
        held[kind].append(any(f" {_words(e)} " in f" {_words(first)} " for e in expected))
        if kind == "yes_no" and not answer.abstained:
            assert EVIDENCE_NOT_VERDICT in answer.answer  # the evidence, not a verdict
    figures = {
        "fact_held": sum(held["factual"]) / len(held["factual"]),
        "evidence_first": sum(held["yes_no"]) / len(held["yes_no"]),
        "near_miss_declined": sum(held["near_miss"]) / len(held["near_miss"]),
        "answerable_declined": sum(declined) / len(declined),
    }
    print("natural gate:", figures)
    assert figures["fact_held"] >= FLOORS["fact_held"], figures
    assert figures["evidence_first"] >= FLOORS["evidence_first"], figures
    assert figures["near_miss_declined"] >= FLOORS["near_miss_declined"], figures
    assert figures["answerable_declined"] <= FLOORS["answerable_declined_at_most"], figures


def test_an_unsupported_llm_answer_falls_back_only_to_an_extractive_answer_that_holds_the_fact(
    make_settings: Callable[..., Settings], embedder: Embedder
) -> None:
    """The model invents what the article does not say (a cost); attribution drops it, and the extractive
    fallback declines with related passages rather than quote a sentence that states no cost. Asked for what
    the article does say, the fallback answers."""
    server = openai_server(default="unused")
    try:
        settings = make_settings(
            llm="openai:test-model",
            llm_base_url=server.base_url,
            llm_timeout=5.0,
            llm_retries=0,
            llm_abstain_threshold=float("-inf"),
        )
        service = Newsdesk(settings, embedder=embedder)
        assert not service.ingest([str(CORPUS)]).failed
        server.enqueue("The factory will cost 2 billion dollars, paid by the city of Wuhan [1].")
        declined = service.ask(Question(question="how much will xiaomi's factory cost"))
        assert declined.mode == "extractive (llm answer unsupported)"
        assert declined.abstained and declined.related
        server.enqueue("Bananas are rich in potassium and grow in the tropics [1].")
        answered = service.ask(Question(question="how many cars will xiaomi build a year"))
        assert answered.mode == "extractive (llm answer unsupported)"
        assert not answered.abstained and "300,000" in answered.answer.splitlines()[0]
    finally:
        server.stop()
