"""A new user's corpus: the seed article and three short local-news articles (tests/fixtures/small_corpus).

With a handful of articles every question retrieves something, so declining rests on the evidence itself:
off-topic questions, and questions asking for a kind of fact (a number, a person) that no sentence about
the subject holds, must be declined; a question one sentence answers gets that sentence first and alone.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.answer import citations
from retrieval.core.config import Settings
from retrieval.core.types import Question
from retrieval.embed.embedder import Embedder
from retrieval.service import Newsdesk
from tests.conftest import CORPUS, ROOT

pytestmark = pytest.mark.integration

SMALL_CORPUS = ROOT / "tests" / "fixtures" / "small_corpus"


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory, model_cache: Path, embedder: Embedder) -> Newsdesk:
    data = tmp_path_factory.mktemp("small-corpus")
    service = Newsdesk(Settings(data_dir=data, model_cache_dir=model_cache, llm=None), embedder=embedder)
    report = service.ingest([str(CORPUS), str(SMALL_CORPUS)])
    assert not report.failed, report.failed
    assert len(report.added) == 4
    return service


OFF_TOPIC = [
    "Who won the Stanley Cup in 2019?",
    "What is the capital of Australia?",
    "Which company makes the PlayStation 5?",
    "How many goals did Lionel Messi score last season?",
    "When will the next solar eclipse be visible in Europe?",
]

FACT_NOT_GIVEN = [
    "How many batteries will Apple buy from its suppliers?",  # Apple's suppliers are there, no count of them
    "How much did Xiaomi pay for its factory site?",  # the factory is there, no price
    "How many customers visit the Hollis bakery each day?",  # the bakery is there, no count of customers
]


@pytest.mark.parametrize("question", OFF_TOPIC)
def test_off_topic_questions_are_declined(small: Newsdesk, question: str) -> None:
    answer = small.ask(Question(question=question))
    assert answer.abstained, answer.answer
    assert answer.citations == [] and answer.related


@pytest.mark.parametrize("question", FACT_NOT_GIVEN)
def test_a_question_whose_kind_of_fact_no_sentence_holds_is_declined(small: Newsdesk, question: str) -> None:
    answer = small.ask(Question(question=question))
    assert answer.abstained, answer.answer


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What annual output is Xiaomi planning for its own factory?", "300,000"),
        ("Who captained Eastfield Town in the county cup final?", "Mark Osei"),
        ("How much will the Harbour Bridge repairs cost?", "4.2 million dollars"),
        ("Who scored both goals for Lakeside Rovers in the county cup final?", "Jonas Alvarez"),
        ("How many people will the new bakery shop employ?", "twelve people"),
        ("When will the Harbour Bridge close to traffic?", "April 2"),
    ],
)
def test_a_factual_question_gets_the_sentence_that_answers_it_first_and_alone(
    small: Newsdesk, question: str, expected: str
) -> None:
    outcome = small.answer(Question(question=question))
    answer = outcome.answer
    assert not answer.abstained, question
    lines = answer.answer.splitlines()
    assert len(lines) == 1 and expected in lines[0], answer.answer
    assert citations.problems(answer, outcome.passages) == []
    assert expected in answer.citations[0].quote
