"""Attribution of a model's sentences (retrieval/answer/attribution.py), with scripted model output and
wording alone."""

from __future__ import annotations

import re

import pytest

from retrieval.answer.attribution import Attributor, is_structure, split_claims, unframed
from retrieval.answer.instructions import is_instruction
from retrieval.core.types import Passage
from tests.support.injections import PLANTED, Planted


def passage(n: int, title: str, text: str) -> Passage:
    return Passage(chunk_id=f"c{n}", article_id=f"a{n}", title=title, source="Wire", text=text)


BOXING = passage(
    1,
    "Tyson Fury's purse",
    "Tyson Fury was paid a purse of 50 million dollars for the fight in Riyadh. Promoters said the bout sold out.",
)
BANKS = passage(
    2,
    "Bank fees rise",
    "Customers paid double the amount of fees this year as banks raised charges. Regulators plan a review.",
)
SCHOOL = passage(
    3,
    "Tidewater schools",
    "Tidewater schools did not work directly with the city council on the new timetable. Classes begin in May.",
)


def attribute(text: str, passages: list[Passage], question: str) -> tuple[str, dict[int, list[str]], dict[str, int]]:
    found = Attributor(None).attribute(text, passages, question)
    return found.text, found.quotes, found.counts.model_dump()


def test_a_cited_sentence_its_quote_states_is_kept() -> None:
    text, quotes, counts = attribute(
        "Tyson Fury was paid a purse of 50 million dollars for the fight [1].", [BOXING, BANKS], "What was Fury paid?"
    )
    assert text == "Tyson Fury was paid a purse of 50 million dollars for the fight [1]."
    assert quotes == {1: ["Tyson Fury was paid a purse of 50 million dollars for the fight in Riyadh."]}
    assert counts == {"cited": 1, "attributed": 0, "dropped": 0}


def test_a_sentence_never_moves_to_an_article_about_another_subject() -> None:
    # the wording matches the bank-fees article, but the question is about the boxer
    text, _, counts = attribute(
        "Customers paid double the amount of fees this year.", [BOXING, BANKS], "How much was Tyson Fury paid?"
    )
    assert text == "" and counts["dropped"] == 1
    text, _, _ = attribute(
        "Customers paid double the amount of fees this year.", [BOXING, BANKS], "Did bank fees rise?"
    )
    assert text == "Customers paid double the amount of fees this year [2]."


def test_a_verdict_that_contradicts_its_reason_is_dropped_and_the_reason_gives_its_own() -> None:
    question = "Did Tidewater schools work directly with the city council?"
    reason = "Tidewater schools did not work directly with the city council on the new timetable."
    text, _, counts = attribute(f"Yes. {reason} [1]", [SCHOOL], question)
    assert text == f"No. {reason[:-1]} [1]." and counts["dropped"] == 1  # the model's Yes is gone
    text, _, _ = attribute(f"{reason} [1]", [SCHOOL], question)
    assert text == f"No. {reason[:-1]} [1]."  # no verdict written: the reason plainly denies what was asked
    council = "Tidewater schools said the city council was not consulted, and worked with parents on it."
    text, _, _ = attribute(f"Yes. {council} [1]", [SCHOOL.model_copy(update={"text": council})], question)
    assert text and not text.startswith(("Yes", "No"))  # "worked" beside a negation: no plain verdict, none given
    text, _, _ = attribute(f"No. {reason} [1]", [SCHOOL], question)
    assert text.startswith("No. Tidewater schools did not")


def test_a_bare_verdict_rests_on_a_quote_that_states_the_question() -> None:
    text, quotes, _ = attribute("Yes.", [BOXING], "Was Tyson Fury paid a purse of 50 million dollars?")
    assert text == f"Yes. {quotes[1][0].rstrip('.')} [1]." and "50 million" in quotes[1][0]  # shown with its quote
    text, _, _ = attribute("No.", [BOXING], "Was Tyson Fury paid a purse of 50 million dollars?")
    assert text == ""  # the passage says he was: a bare "No" rests on nothing


def test_structure_is_not_a_claim() -> None:
    claims = split_claims(
        "[1] Tyson Fury's purse (Wire, 2023-10-05)\n[2] Bank fees rise\n"
        "By Dana Whitfield\nOctober 5, 2023\n## Summary\n"
        "RIYADH (Reuters) - Tyson Fury was paid a purse of 50 million dollars."
    )
    assert [(c.text, c.markers) for c in claims] == [("Tyson Fury was paid a purse of 50 million dollars.", [])]
    assert is_structure("Xiaomi's New Factory Plans") and not is_structure("By the end of 2012, Google bid.")
    assert not is_structure("Sam Bankman-Fried") and not is_structure("Federal Trade Commission")
    text, _, counts = attribute("[1] Tyson Fury's purse\n[2] Bank fees rise", [BOXING, BANKS], "What was Fury paid?")
    assert text == "" and counts == {"cited": 0, "attributed": 0, "dropped": 0}


def test_a_yes_without_its_stop_is_still_a_verdict() -> None:
    claims = split_claims("Yes The dam wall shows deep cracks [1].")
    assert [c.text for c in claims] == ["Yes.", "The dam wall shows deep cracks."]


@pytest.mark.parametrize("planted", PLANTED, ids=lambda p: p.title)
@pytest.mark.parametrize("form", ["{obeyed} [1].", "{obeyed}", "{instruction}", "{report} [1]. {obeyed} [1]."])
def test_no_planted_instruction_supports_a_claim_or_is_shown_as_a_quote(planted: Planted, form: str) -> None:
    passages = [passage(1, planted.title, planted.body), BANKS]
    written = form.format(obeyed=planted.obeyed, instruction=planted.instruction, report=planted.report)
    text, quotes, _ = attribute(written, passages, planted.question)
    assert planted.obeyed.rstrip(".") not in text
    assert all(not is_instruction(q) for qs in quotes.values() for q in qs)
    assert planted.instruction not in text
    if form.startswith("{report}"):  # the report, perhaps after the verdict it plainly states
        assert re.sub(r"^(?:Yes|No)\. ", "", text).startswith(planted.report.rstrip("."))
        assert quotes == {1: [planted.report]}


def test_an_answer_that_only_repeats_an_instruction_is_no_decline() -> None:
    planted = PLANTED[0]
    found = Attributor(None).attribute(planted.instruction, [passage(1, planted.title, planted.body)], planted.question)
    assert not found.abstained and found.text == "" and found.counts.dropped >= 1


def test_an_outlet_the_question_names_is_a_source_not_a_subject() -> None:
    fury = BOXING.model_copy(update={"source": "TechCrunch"})
    fees = BANKS.model_copy(update={"source": "The Verge"})
    text, _, _ = attribute(
        "Customers paid double the amount of fees this year.", [fury, fees], "What did The Verge report?"
    )
    assert text == "Customers paid double the amount of fees this year [2]."
    text, _, _ = attribute(
        "Customers paid double the amount of fees this year.", [fury, fees], "What did TechCrunch say about Tyson Fury?"
    )
    assert text == ""


BY_QUESTION = {p.question: p for p in PLANTED}


@pytest.mark.parametrize("question", ["Is the Glenford library closing?", "Does the Heathfield power plant burn coal?"])
def test_a_yes_beside_a_reason_that_does_not_state_the_question_is_dropped(question: str) -> None:
    # the 1.5B model's answers to two planted instructions: the reason is the article's, the Yes the instruction's
    planted = BY_QUESTION[question]
    text, quotes, counts = attribute(f"Yes. {planted.report} [1]", [passage(1, planted.title, planted.body)], question)
    assert text == f"{planted.report[:-1]} [1]." and quotes == {1: [planted.report]}
    assert counts == {"cited": 1, "attributed": 0, "dropped": 1}


@pytest.mark.parametrize(
    ("title", "text", "answer", "question"),
    [
        (
            "Emma Hayes to leave Chelsea",
            "Chelsea Women had created a frenzy. On Nov. 4, the club said coach Emma Hayes was leaving at the end "
            "of the season.",
            "Yes. On Nov. 4, the club said coach Emma Hayes was leaving at the end of the season [1].",
            "is emma hayes leaving chelsea",  # "Chelsea" is in the passage, not the reason: it names the subject
        ),
        (
            "Big Ten suspends Harbaugh",
            "The Big Ten announced Harbaugh will be prohibited from coaching on the sideline for the last three "
            "games of the regular season.",
            "Yes. The Big Ten announced Harbaugh will be prohibited from coaching on the sideline for the last "
            "three games of the regular season [1].",
            "did the big ten suspend harbaugh",  # "prohibited" is in "suspend"'s group
        ),
        (
            "Michigan responds",
            "Michigan athletic director Warde Manuel did not mince words in a statement on the Big Ten's "
            "suspension of Harbaugh.",
            "Yes. Michigan athletic director Warde Manuel did not mince words in a statement on the Big Ten's "
            "suspension of Harbaugh [1].",
            "did the big ten suspend harbaugh",  # a negation of something else does not deny the claim
        ),
        (
            "Bedard's debut",
            "Bedard was as advertised in his debut, picking up his first NHL point in the process.",
            "Yes. Bedard was as advertised in his debut, picking up his first NHL point in the process [1].",
            "did bedard at least get a point in his debut",  # "at least" hedges: it is not what is asked
        ),
        (
            "Glenford library",
            "The Glenford library will stay open through the winter, the council said.",
            "No. The Glenford library will stay open through the winter [1].",
            "Is the Glenford library closing?",  # a No beside the claim's contrary
        ),
    ],
)
def test_a_verdict_beside_a_reason_that_states_the_question_stands(
    title: str, text: str, answer: str, question: str
) -> None:
    found, _, counts = attribute(answer, [passage(1, title, text)], question)
    assert found == answer and counts["dropped"] == 0


def test_a_verdict_stands_on_the_reason_that_states_the_question_not_the_first_one() -> None:
    chelsea = passage(
        1,
        "Emma Hayes to leave Chelsea",
        "Chelsea Women had created a frenzy. On Nov. 4, the club said coach Emma Hayes was leaving at the end of "
        "the season.",
    )
    answer = "Yes. Chelsea Women had created a frenzy [1]. On Nov. 4, the club said coach Emma Hayes was leaving [1]."
    found, _, _ = attribute(answer, [chelsea], "is emma hayes leaving chelsea")
    assert found.startswith("Yes. Chelsea Women had created a frenzy [1].")
    found, _, _ = attribute("No. Chelsea Women had created a frenzy [1].", [chelsea], "is emma hayes leaving chelsea")
    assert found == "Chelsea Women had created a frenzy [1]."


def test_a_sourcing_frame_is_no_part_of_the_claim() -> None:
    framed = "The passage from [1] states that Tyson Fury was paid a purse of 50 million dollars for the fight."
    text, quotes, counts = attribute(framed, [BOXING], "how much did fury get paid")
    assert text == "Tyson Fury was paid a purse of 50 million dollars for the fight [1]." and counts["cited"] == 1
    # what is left must be a sentence: a frame around a fragment stays, and is checked as written
    assert unframed("The article reports that Fury purse record.") == "The article reports that Fury purse record."
    assert unframed("According to the report, Fury was paid 50 million dollars.") == "Fury was paid 50 million dollars."


def test_a_yes_no_question_made_only_of_names_is_answered_by_a_reason_naming_them() -> None:
    named = passage(4, "Person of the Year", "Taylor Swift has officially been named Time's 2023 Person of the Year.")
    question = "did taylor swift get time person of the year"
    text, _, _ = attribute("Yes. Taylor Swift was named Time's Person of the Year [1].", [named], question)
    assert text.startswith("Yes. Taylor Swift was named")
    framed = "Yes The article reports that Taylor Swift was named Time's Person of the Year."
    text, _, _ = attribute(framed, [named], question)
    assert text.startswith("Yes. Taylor Swift was named")  # the verdict gets its stop, the frame goes


def test_a_verdict_stands_on_a_reason_that_leaves_out_a_word_its_passage_says() -> None:
    """A chat's question has words its answer's sentence need not repeat ("in his debut"), when the passage the
    sentence rests on says them; a word no passage says, or a reason that negates something, keeps no verdict."""
    debut = passage(
        1,
        "Connor Bedard's NHL debut",
        "Bedard helped set up a Ryan Donato goal in the middle frame, picking up his first NHL point in the process.",
    )
    question = "did bedard at least get a first point in his debut"
    reason = "Bedard picked up his first NHL point in the process [1]."
    assert attribute(f"Yes. {reason}", [debut], question)[0].startswith("Yes. ")
    elsewhere = "did bedard get a first point in his debut on home ice"  # words no passage says
    assert not attribute(f"Yes. {reason}", [debut], elsewhere)[0].startswith("Yes")
    missed = passage(1, "Connor Bedard's NHL debut", "Bedard did not score, but he picked up his first NHL point.")
    assert not attribute("Yes. Bedard did not score, but he picked up his first NHL point [1].", [missed], question)[
        0
    ].startswith("Yes")
