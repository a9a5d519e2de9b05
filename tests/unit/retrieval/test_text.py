from __future__ import annotations

from retrieval.core.text import (
    CAPITALISED,
    DOTTED_TERM,
    NAME,
    POSSESSIVE,
    QUESTION_FILLER,
    SPOKEN_WORD,
    TERM,
    WORD,
)


def test_each_kind_of_word_keeps_what_its_name_says() -> None:
    text = "Xiaomi's AI-led U.S. plant, 3.5 GW"
    assert WORD.findall(text) == ["Xiaomi", "s", "AI", "led", "U", "S", "plant", "3", "5", "GW"]
    assert TERM.findall(text) == ["Xiaomi's", "AI-led", "U", "S", "plant", "3", "5", "GW"]
    assert DOTTED_TERM.findall(text) == ["Xiaomi's", "AI-led", "U.S.", "plant", "3.5", "GW"]
    assert SPOKEN_WORD.findall("'Tis _the_ end") == ["'Tis", "_the_", "end"]


def test_names_and_possessives() -> None:
    assert NAME.findall("Did AT&T say U.S. sales of Apple's phones fell?") == ["Did", "AT&T", "U.S", "Apple's"]
    assert CAPITALISED.findall("Did U.S. sales fall?") == ["Did", "U.S."]
    assert POSSESSIVE.sub("", "Apple's") == "Apple" and POSSESSIVE.sub("", "Reuters’") == "Reuters"


def test_question_filler_is_what_a_follow_up_leaves_behind() -> None:
    assert {"what", "article", "please", "reported"} <= QUESTION_FILLER
    assert not {"xiaomi", "plant", "output"} & QUESTION_FILLER
