"""Which questions ask for a brief, their windows and topics; the `since` the faces take."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest

from retrieval.news.asked import read_brief, read_since

AS_OF = datetime(2023, 10, 4, 12)  # a Wednesday
ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("question", "since", "until", "topic"),
    [
        ("What happened this week?", date(2023, 10, 2), date(2023, 10, 4), None),
        ("what happened today?", date(2023, 10, 4), date(2023, 10, 4), None),
        ("What happened since Monday?", date(2023, 10, 2), date(2023, 10, 4), None),
        ("What happened last week?", date(2023, 9, 25), date(2023, 10, 1), None),
        ("catch me up", date(2023, 9, 28), date(2023, 10, 4), None),
        ("Catch me up on the news", date(2023, 9, 28), date(2023, 10, 4), None),
        ("Hey, what's going on?", date(2023, 9, 28), date(2023, 10, 4), None),
        ("What's new on the Xiaomi car?", date(2023, 9, 28), date(2023, 10, 4), "Xiaomi car"),
        ("anything new on Sam Bankman-Fried?", date(2023, 9, 28), date(2023, 10, 4), "Sam Bankman-Fried"),
        ("What are the top stories this week?", date(2023, 10, 2), date(2023, 10, 4), None),
        ("What is new in the Apple lawsuit since October 1?", date(2023, 10, 1), date(2023, 10, 4), "Apple lawsuit"),
        ("give me the daily brief", date(2023, 9, 28), date(2023, 10, 4), None),
    ],
)
def test_brief_questions_are_read_with_their_window_and_topic(
    question: str, since: date, until: date, topic: str | None
) -> None:
    asked = read_brief(question, AS_OF)
    assert asked is not None, question
    assert (asked.since, asked.until, asked.topic) == (since, until, topic)


@pytest.mark.parametrize(
    "question",
    [
        "What happened to FTX's customer funds?",
        "What annual output is planned for Xiaomi's own plant?",
        "Who won the game this week?",
        "What is new about the iPhone 15's charging port compared with the iPhone 14?" * 3,
    ],
)
def test_questions_that_ask_for_a_fact_are_not_briefs(question: str) -> None:
    assert read_brief(question, AS_OF) is None


def test_no_benchmark_or_natural_question_is_read_as_a_brief() -> None:
    natural = json.loads((ROOT / "bench" / "natural_questions.json").read_text())
    texts = [q["question"] for q in natural]
    assert texts
    assert [t for t in texts if read_brief(t, AS_OF)] == []


def test_since_takes_durations_days_and_words() -> None:
    assert read_since("1d", AS_OF) == date(2023, 10, 4)
    assert read_since("7d", AS_OF) == date(2023, 9, 28)
    assert read_since("2023-10-01", AS_OF) == date(2023, 10, 1)
    assert read_since("Monday", AS_OF) == date(2023, 10, 2)
    assert read_since("last week", AS_OF) == date(2023, 9, 25)
    assert read_since(None, AS_OF) is None
    with pytest.raises(ValueError, match="not a time to start from"):
        read_since("whenever", AS_OF)
