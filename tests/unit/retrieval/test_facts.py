"""The kind of fact a question asks for, and spaCy's facts of sentences (the packaged small model, no network)."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.answer.ages import age_of, ages
from retrieval.answer.facts import (
    MONEY_ASKED,
    RATE_ASKED,
    EntityTagger,
    FactStore,
    acronyms,
    asked_kind,
    casual,
    counted,
    is_duration,
    is_yes_no,
    measured,
    normalise,
    of_kind,
    quantities,
)


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Who is the individual accused of fraud by the FTC?", "person"),
        ("Which company, reported by TechCrunch, is in an antitrust case where it hid documents?", "organisation"),
        ("What is the name of the company that makes the iPhone?", "organisation"),
        ("Which leading AI development company released GPT-4?", "organisation"),
        ("Which wide receiver leads the league in yards?", "person"),
        ("How many vehicles will Xiaomi build a year?", "number"),
        ("How much did the repairs cost?", "amount"),
        ("When will the bridge close?", "date"),
        ("In which city did the summit take place?", "place"),
        ("Considering an ESPN report, which team did she play for when she retired?", "organisation"),
        ("Does the article by The Verge say that Apple raised prices?", None),
        ("Why did the council close the bridge?", "reason"),
        # as people type them: lower case, casual asking words
        ("how old is guy kamgaing", "age"),
        ("how long was he on the transplant list", "duration"),
        ("how many years does the deal run", "duration"),
        ("whats starnews valued at", "amount"),
        ("what did the fine come to", "amount"),
        ("how big a stake is ratcliffe buying", "amount"),
        ("what does it sell for", "amount"),
        ("how big was the retailer's pre-tax loss", "amount"),
        ("who was to build xiaomi's cars", "agent"),
        ("who's cubic telecom's ceo", "person"),
        ("whens the steam deck oled out", "date"),
        ("which countries is x testing the fee in", "place"),
        ("what year did it open", "date"),
        ("What company raised the most?", "organisation"),
        ("What type of businesses change their betting lines?", None),
        ("how long ago did the solar storm hit earth", "date"),
        ("how big is indias gdp supposed to get by 2030", "amount"),
        ("how big is the daily fine on meta", "amount"),
        ("how tall is the tower", "measure"),
        ("how big is trump's trump tower penthouse", "measure"),  # what is measured says in what
        ("which realtors economist said the fed cant keep raising rates", "person"),
        ("which nba rookie scored 40", "person"),
        ("wich company is buying it", "organisation"),  # a typo of the asking word
        ("whats billie jean kings net wroth", "amount"),
        ("waht year did it open", "date"),
        ("what was the final score in bedards first nhl game", "score"),
        ("what was the final in arizona vs utah on senior day", "score"),
        ("how many goals did he score", "number"),
    ],
)
def test_the_kind_of_fact_asked_for_comes_from_the_first_asking_phrase(question: str, kind: str | None) -> None:
    assert asked_kind(question) == kind


def test_a_mistyped_asking_word_still_asks() -> None:
    assert not is_yes_no("wich company is buying it") and not is_yes_no("waht is it worth")
    assert is_yes_no("is it worth it") and is_yes_no("were they here")  # real words stay what they are


def test_yes_no_questions() -> None:
    assert is_yes_no("Did Apple raise prices?")
    assert is_yes_no("Between the two reports, was the outcome the same?")
    assert not is_yes_no("Which company raised prices?")


def test_what_a_how_many_question_counts() -> None:
    assert counted("How many batteries will Apple buy?") == "batteries"
    assert counted("How many new vehicles were sold in May?") == "new vehicles"
    assert counted("How many customers visit the bakery?") == "customers"  # "visit" goes on with the question
    assert counted("how many people work at nike") == "people"
    assert counted("how many tix did the og 1989 tour sell") == "tickets"  # a chat's short word, written out
    assert counted("Who won?") == ""


def test_facts_read_from_the_words() -> None:
    assert ages("Lucas Goeller, now 10, was born with a rare condition.") == [("10", "goeller")]
    assert ages("He hunts with his three brothers, aged 12, 8, and 4.") == [("12", "brothers")]
    assert ages("though he's just 18 years old, has") == [("18", "")]
    assert ages("He questioned the signing of a 30-year-old Casemiro on a four-year deal.") == [("30", "casemiro")]
    assert ages("The company raised $3 million in 2017.") == []
    assert quantities("a device that can extract 2 to 5 liters (0.5 to 1.3 gallons) a day") == [
        "2 to 5 liters",
        "0 5 to 1 3 gallons",
    ]
    assert quantities("Sales grew 5% to 300 units in 2023.") == []
    assert ages("Everton chairman Bill Kenwright has died at the age of 78.") == [("78", "")]
    # a name before a role only says whose founder it is: the age is the founder's, who the sentence may not name
    assert ages("The mixed messaging from the 43-year-old Flexport founder underscores it.") == [("43", "")]


def test_an_age_said_by_description_is_not_of_anyone_the_sentence_names() -> None:
    # "the 49-year-old" stands for someone named before: not for Larson, whom the same sentence names
    sentence = "The 49-year-old was quite happy after the event, when he spoke with Larson and Sweet."
    ((age, holder),) = ages(sentence)
    assert age == "49" and not age_of(holder, {"kyle", "larson"}) and age_of(holder, {"dale", "earnhardt"})
    assert ages("The 49-year-old has won three titles.") == [("49", "")]  # may be the subject's
    assert ages("Biden, the 81-year-old president, spoke.") == [("81", "biden")]
    assert ages("the 49-year-old driver Kyle Larson won") == [("49", "")]  # the name it comes before
    assert measured("It connects 17 million+ vehicles in 190 countries.") == ["vehicles", "countries"]
    assert measured("an annual output of 300,000 vehicles") == ["vehicles"]
    assert acronyms("Xiaomi would work with BAIC to assemble its EVs, the CEO said.", frozenset()) == {
        ("ACRONYM", "baic")
    }
    assert is_duration("seven years") and is_duration("18 months") and is_duration("14-year")
    assert not is_duration("2011") and not is_duration("three years ago")


def test_facts_are_compared_by_their_words() -> None:
    assert normalise("The Harbour Bridge's") == "harbour bridge"
    assert normalise("$4.2 million") == "4 2 million"
    facts = frozenset({("PERSON", "priya raman"), ("ORG", "harbour bridge"), ("DATE", "april 2")})
    assert of_kind(facts, "person", "who repaired harbour bridge") == ["priya raman"]
    assert of_kind(facts, "organisation", "who repaired harbour bridge") == []  # the question names it
    assert sorted(of_kind(facts, "person", "", frozenset({"ORG"}))) == ["harbour bridge", "priya raman"]
    numbers = frozenset({("CARDINAL", "82 million"), ("CARDINAL", "300 000")})
    assert of_kind(numbers, "amount", "") == ["82 million"]  # a number with a scale word is an amount too
    assert sorted(of_kind(numbers, "number", "")) == ["300 000", "82 million"]


def test_the_tagger_finds_people_organisations_numbers_and_dates(tmp_path: Path) -> None:
    tagger = EntityTagger(FactStore(tmp_path / "facts.sqlite3", EntityTagger.name))
    sentence = "Council leader Priya Raman said on Monday that Lakeside Rovers paid 4.2 million dollars."
    (facts,) = tagger.facts([sentence])
    labels = {label for label, _ in facts}
    assert ("PERSON", "priya raman") in facts
    assert {"DATE", "MONEY"} <= labels
    assert tagger.tagged == 1
    assert tagger.facts([sentence]) == [facts] and tagger.tagged == 1  # remembered


def test_stored_facts_are_read_instead_of_tagged_and_a_new_model_starts_afresh(tmp_path: Path) -> None:
    path = tmp_path / "facts.sqlite3"
    store = FactStore(path, "model-a")
    store.add(["First sentence.", "Second one."], [frozenset({("PERSON", "ann lee")}), frozenset()])
    assert len(store) == 2
    assert store.missing(["First sentence.", "Third."]) == ["Third."]
    tagger = EntityTagger(FactStore(path, "model-a"))
    assert tagger.facts(["First sentence."]) == [frozenset({("PERSON", "ann lee")})]
    assert tagger.tagged == 0  # read from the store: the model did not run
    assert len(FactStore(path, "model-b")) == 0  # facts of another model are not trusted


def test_a_raise_asked_as_a_noun_is_a_rate_and_money_asked_as_a_verb_is_not() -> None:
    assert RATE_ASKED.search(casual("What raise did employers offer the striking dock workers?"))
    assert RATE_ASKED.search(casual("how big was the pay rise"))
    assert not RATE_ASKED.search(casual("how much did starnews mobile raise"))
    assert MONEY_ASKED.search(casual("how much did starnews mobile raise"))
