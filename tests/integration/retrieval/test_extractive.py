"""The extractive answerer with the real embedder on hand-made passages (no index, no network): which sentences
it quotes and when it declines depend on the model's vectors."""

from __future__ import annotations

import pytest

from retrieval.answer.citations import check, problems
from retrieval.answer.extractive import NOT_IN_CORPUS, ExtractiveAnswerer, ExtractiveOptions
from retrieval.core.types import Answer
from retrieval.embed.embedder import Embedder
from tests.support.extractive_cases import OFF_TOPIC_QUESTION, PASSAGES, SEED_QUESTION, TWO_ARTICLE_QUESTION, passage

pytestmark = pytest.mark.integration


def test_the_best_sentence_is_quoted_verbatim_with_its_number(embedder: Embedder) -> None:
    draft = ExtractiveAnswerer(embedder).draft(SEED_QUESTION, PASSAGES)
    assert not draft.abstained
    assert "300,000 vehicles" in draft.text
    assert all(q in PASSAGES[0].text for q in draft.quotes[1]) and "300,000" in " ".join(draft.quotes[1])
    text, cited = check(draft.text, PASSAGES, draft.quotes)
    assert problems(Answer(answer=text, abstained=False, citations=cited), PASSAGES) == []
    # every quoted line of the answer is among the quotes its citation shows
    for line in text.splitlines():
        sentence, n = line.rsplit(" [", 1)
        assert sentence in cited[int(n.rstrip("]")) - 1].quotes


def test_weak_evidence_abstains(embedder: Embedder) -> None:
    draft = ExtractiveAnswerer(embedder).draft(OFF_TOPIC_QUESTION, PASSAGES)
    assert draft.abstained and draft.text == NOT_IN_CORPUS and draft.quotes == {}


def test_a_question_about_two_articles_quotes_both(embedder: Embedder) -> None:
    draft = ExtractiveAnswerer(embedder).draft(TWO_ARTICLE_QUESTION, PASSAGES)
    assert not draft.abstained
    assert set(draft.quotes) == {1, 2}
    assert len(draft.text.splitlines()) == 2  # one sentence per article asked about


def test_the_answer_comes_first_and_is_as_short_as_the_question_allows(embedder: Embedder) -> None:
    # a factual question about one article: its answering sentence, alone, though others score well too
    answers = ExtractiveAnswerer(embedder).draft(SEED_QUESTION, PASSAGES)
    assert answers.text.count("\n") == 0 and answers.text.startswith("The company wants to build")
    # the old answerer (kept as the benchmark's baseline) quoted up to four sentences in passage order
    several = ExtractiveAnswerer(embedder, ExtractiveOptions(answer_first=False)).draft(SEED_QUESTION, PASSAGES)
    assert len(several.text.splitlines()) > 1


def test_a_sentence_that_only_restates_the_question_is_not_an_answer(embedder: Embedder) -> None:
    # issue 18, item 12: an article repeating the question's words took the lead and pushed the fact out
    echo = passage(
        4,
        "letters",
        "Readers ask",
        f"{SEED_QUESTION} Readers keep asking us this. What annual output is planned for Xiaomi's plant, they ask.",
        1.0,
    )
    draft = ExtractiveAnswerer(embedder).draft(SEED_QUESTION, [echo, *PASSAGES])
    assert not draft.abstained
    assert "300,000" in draft.text
    assert SEED_QUESTION not in draft.text and "they ask" not in draft.text
    # and on its own, an echo of the question answers nothing
    alone = ExtractiveAnswerer(embedder).draft(SEED_QUESTION, [echo])
    assert alone.abstained
