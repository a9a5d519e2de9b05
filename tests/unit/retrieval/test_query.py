"""What a question says about outlets, dates and its own clauses (retrieval.search.query)."""

from __future__ import annotations

from datetime import date

from retrieval.search.query import OutletMatcher, analyse, clauses, find_dates

OUTLETS = OutletMatcher(
    ["TechCrunch", "The Verge", "Fortune", "The Age", "Cnbc | World Business News Leader",
     "The Independent - Life and Style", "The Independent - Sports", "Sporting News"]
)  # fmt: skip


def test_outlets_by_full_and_short_names_in_order_of_mention() -> None:
    hints = analyse("Did the Verge and TechCrunch agree, as reported by CNBC?", OUTLETS)
    assert hints.sources == ("The Verge", "TechCrunch", "Cnbc | World Business News Leader")
    assert analyse("according to The Independent - Sports", OUTLETS).sources == ("The Independent - Sports",)
    # a short form shared by several outlets names them all
    assert set(analyse("a piece in The Independent", OUTLETS).sources) == {
        "The Independent - Life and Style",
        "The Independent - Sports",
    }


def test_common_words_are_not_outlets() -> None:
    assert analyse("he made a fortune in the age of steam", OUTLETS).sources == ()
    assert analyse("Fortune and The Age both said so", OUTLETS).sources == ("Fortune", "The Age")


def test_dates_and_months() -> None:
    days, months = find_dates("published on October 6, 2023, and on 7 November 2023, then 2023-12-15")
    assert days == (date(2023, 10, 6), date(2023, 11, 7), date(2023, 12, 15))
    assert months == ()
    days, months = find_dates("news in October 2023 and Dec. 2023; you may 2024 not")
    assert days == ()
    assert months == ((2023, 10), (2023, 12))
    assert find_dates("on February 30, 2023") == ((), ())  # not a date


def test_clauses_split_long_questions_and_keep_short_ones_whole() -> None:
    question = (
        "Which company, known for its Kindle lineup according to The Verge, also provides a platform "
        "described by sellers as life-changing, while facing an antitrust suit?"
    )
    assert clauses(question) == [
        "Which company known for its Kindle lineup according to The Verge",
        "also provides a platform described by sellers as life-changing",
        "while facing an antitrust suit?",
    ]
    assert clauses("Who won the final?") == ["Who won the final?"]
    assert clauses("the report published on November 20, 2023") == ["the report published on November 20 2023"]
