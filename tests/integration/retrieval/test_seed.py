"""The shipped corpus answers the seed question, offline, with a citation quoting the seed article."""

from __future__ import annotations

import pytest

from retrieval.answer import citations
from retrieval.core.types import Question
from retrieval.service import Newsdesk
from tests.conftest import SEED_QUESTION

pytestmark = pytest.mark.integration


def test_seed_question_is_answered_with_a_citation(seed_service: Newsdesk) -> None:
    answer = seed_service.ask(Question(question=SEED_QUESTION))
    assert not answer.abstained
    assert "300,000" in answer.answer
    assert answer.citations and answer.citations[0].n == 1
    assert "300,000" in answer.citations[0].quote
    assert answer.citations[0].published_at == "2022-09-03"
    passages = seed_service.search(SEED_QUESTION)
    assert citations.problems(answer, passages) == []


def test_question_outside_the_corpus_is_declined(seed_service: Newsdesk) -> None:
    answer = seed_service.ask(Question(question="Who won the 2018 FIFA World Cup final?"))
    assert answer.abstained
    assert answer.citations == []
    assert "do not answer" in answer.answer
