"""A name answering a question of several parts is checked part by part (retrieval/answer/parts.py)."""

from __future__ import annotations

from retrieval.answer.attribution import Attributor
from retrieval.answer.parts import answer_quotes, name_stands, question_parts
from retrieval.answer.support import Support
from retrieval.core.types import Passage
from tests.support.fake_embedder import HashingEmbedder

QUESTION = (
    "Which company faced a trial over default search deals with phone makers, as reported by The Verge, "
    "and is accused by news publishers of taking their readers and advertising revenue?"
)


def passage(n: int, title: str, text: str, source: str = "Wire") -> Passage:
    return Passage(chunk_id=f"c{n}", article_id=f"a{n}", title=title, source=source, text=text)


PASSAGES = [
    passage(
        1,
        "Search trial opens",
        "Google faced a trial over default search deals with phone makers. The judge heard from economists.",
        "The Verge",
    ),
    passage(
        2,
        "Publishers sue",
        "News publishers accuse Google of taking their readers and advertising revenue. The suit was filed in court.",
        "TechCrunch",
    ),
    passage(3, "Cloud results", "Microsoft reported higher cloud sales in the quarter. Its shares rose.", "Fortune"),
]


def checker() -> Support:
    return Support(PASSAGES, HashingEmbedder(dim=256))


def test_a_question_is_split_into_its_clauses_and_a_source_alone_is_no_part() -> None:
    parts = question_parts(QUESTION)
    assert parts[0].startswith("Which company faced a trial")
    assert any(p.startswith("is accused by news publishers") for p in parts)
    assert name_stands(("google",), QUESTION, checker()) == {
        1: ["Google faced a trial over default search deals with phone makers."],
        2: ["News publishers accuse Google of taking their readers and advertising revenue."],
    }


def test_a_name_the_best_sentences_do_not_name_does_not_stand() -> None:
    assert name_stands(("microsoft",), QUESTION, checker()) is None


def test_a_one_part_question_is_left_to_the_support_rule() -> None:
    assert name_stands(("google",), "Which company faced a trial over default search deals?", checker()) is None


def test_a_restated_question_around_the_name_stands_but_not_one_that_adds_a_figure() -> None:
    restated = (
        "Google faced a trial over default search deals with phone makers, and is accused by news publishers "
        "of taking their readers and advertising revenue."
    )
    assert answer_quotes(restated, QUESTION, checker()) is not None
    assert answer_quotes(restated.replace("revenue.", "revenue of $5 billion."), QUESTION, checker()) is None
    assert answer_quotes(restated.replace("is accused", "is not accused"), QUESTION, checker()) is None


def test_a_bare_name_is_kept_with_the_quotes_of_the_parts_and_a_wrong_one_is_dropped() -> None:
    attributor = Attributor(HashingEmbedder(dim=256))
    kept = attributor.attribute("Google [1][2]", PASSAGES, QUESTION)
    assert kept.text.startswith("Google")
    assert set(kept.quotes) == {1, 2}
    assert attributor.attribute("Microsoft [3]", PASSAGES, QUESTION).text == ""


def test_a_name_another_name_outnumbers_in_the_best_sentences_does_not_stand() -> None:
    rivals = [
        passage(1, "Trial", "Apple and Google faced a trial over default search deals with phone makers."),
        passage(2, "Suit", "News publishers accuse Google of taking their readers and advertising revenue."),
    ]
    found = Support(rivals, HashingEmbedder(dim=256))
    assert name_stands(("google",), QUESTION, found) is not None
    assert name_stands(("apple",), QUESTION, found) is None
