"""The citation check on hand-written answers: what survives, how it is renumbered, what is quoted."""

from __future__ import annotations

from retrieval.answer.citations import best_sentence, check, problems, strip_markers
from retrieval.core.types import Answer, Citation, Passage


def passage(n: int, text: str, article: str | None = None) -> Passage:
    return Passage(chunk_id=f"c{n}", article_id=article or f"a{n}", title=f"Title {n}", source="Outlet", text=text)


PASSAGES = [
    passage(1, "Xiaomi plans a plant. It would make 300,000 cars a year. BAIC was the partner."),
    passage(2, "Apple is meeting battery suppliers. The Apple Car is not expected before 2025."),
    passage(3, "Stocks fell on Monday. Bonds rallied."),
    passage(4, "Xiaomi is testing software integration in cars later this year.", article="a1"),
]


def answer_of(text: str, cited: list[Citation]) -> Answer:
    return Answer(answer=text, abstained=False, citations=cited)


def test_markers_are_renumbered_in_order_of_first_use() -> None:
    text, cited = check("Apple waits [2]. Xiaomi builds [1]. Apple again [2].", PASSAGES)
    assert text == "Apple waits [1]. Xiaomi builds [2]. Apple again [1]."
    assert [(c.n, c.article_id) for c in cited] == [(1, "a2"), (2, "a1")]
    assert problems(answer_of(text, cited), PASSAGES) == []


def test_markers_naming_no_passage_are_removed() -> None:
    text, cited = check("A claim [9]. Another [0]. A third [3] and [12345678901234567890].", PASSAGES)
    assert text == "A claim. Another. A third [1] and."
    assert [c.article_id for c in cited] == ["a3"]


def test_groups_are_split_and_filtered() -> None:
    text, cited = check("Both say so [2, 7; 1].", PASSAGES)
    assert text == "Both say so [1][2]."
    assert [c.article_id for c in cited] == ["a2", "a1"]


def test_removing_a_marker_cannot_forge_another() -> None:
    text, cited = check("odd [[9]1] text", PASSAGES[:2])
    assert problems(answer_of(text, cited), PASSAGES[:2]) == []
    assert text == "odd [1] text"


def test_quotes_are_verbatim_and_chosen_by_the_claim() -> None:
    _, cited = check("It would make 300,000 cars [1].", PASSAGES)
    assert cited[0].quote == "It would make 300,000 cars a year."
    assert cited[0].quote in PASSAGES[0].text


def test_a_given_quote_is_kept_only_when_verbatim() -> None:
    _, kept = check("x [1]", PASSAGES, {1: "BAIC was the partner."})
    assert kept[0].quote == "BAIC was the partner."
    _, replaced = check("Xiaomi plans [1]", PASSAGES, {1: "Xiaomi plans a factory."})
    assert replaced[0].quote in PASSAGES[0].text


def test_problems_spot_a_tampered_answer() -> None:
    text, cited = check("Xiaomi [1]. Apple [2].", PASSAGES)
    swapped = answer_of("Apple [2]. Xiaomi [1].", cited)
    assert problems(swapped, PASSAGES)
    forged = cited[0].model_copy(update={"quote": "Xiaomi builds a rocket."})
    assert problems(answer_of(text, [forged, cited[1]]), PASSAGES)
    assert problems(Answer(answer="none", abstained=True, citations=cited), PASSAGES)


def test_best_sentence_and_strip_markers() -> None:
    assert best_sentence(PASSAGES[1].text, "not before 2025") == "The Apple Car is not expected before 2025."
    assert strip_markers("One [1][2]. Two [3, 4].") == "One. Two."
