"""retrieval/core/dates.py: published dates read once, and the time words of a question resolved against as_of."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from retrieval.answer.time_answers import finish, order
from retrieval.core import dates, time_words
from retrieval.core.types import Answer, Citation, Passage

SUNDAY = date(2023, 12, 10)  # as_of for the window cases: a Sunday


def window(question: str, as_of: date = SUNDAY) -> tuple[date | None, date | None]:
    frame = time_words.read_time(question, as_of)
    return frame.since, frame.until


@pytest.mark.parametrize(
    ("question", "since", "until"),
    [
        ("What happened today?", SUNDAY, SUNDAY),
        ("What happened yesterday?", date(2023, 12, 9), date(2023, 12, 9)),
        ("news this week", date(2023, 12, 4), SUNDAY),
        ("What happened with OpenAI last week?", date(2023, 11, 27), date(2023, 12, 3)),
        ("Any strikes this month?", date(2023, 12, 1), SUNDAY),
        ("What did the Fed do last month?", date(2023, 11, 1), date(2023, 11, 30)),
        ("the biggest deals so far this year", date(2023, 1, 1), SUNDAY),
        ("the biggest deals last year", date(2022, 1, 1), date(2022, 12, 31)),
        ("What happened in the past 3 weeks?", date(2023, 11, 19), SUNDAY),
        ("in the last two days", date(2023, 12, 8), SUNDAY),
        ("in the past month", date(2023, 11, 10), SUNDAY),
        ("two weeks ago", date(2023, 11, 26), date(2023, 12, 2)),
        ("news since Monday", date(2023, 12, 4), SUNDAY),
        ("since October 6", date(2023, 10, 6), SUNDAY),
        ("before November 5", None, date(2023, 11, 4)),
        ("after October", date(2023, 11, 1), SUNDAY),
        ("What happened in February?", date(2023, 2, 1), date(2023, 2, 28)),
        ("between October 3 and October 10", date(2023, 10, 3), date(2023, 10, 10)),
    ],
)
def test_windows_resolve_against_as_of(question: str, since: date | None, until: date | None) -> None:
    assert window(question) == (since, until)


def test_a_month_without_its_year_is_the_latest_one_not_after_as_of() -> None:
    assert window("in December", date(2024, 1, 15)) == (date(2023, 12, 1), date(2023, 12, 31))
    assert window("in January", date(2024, 1, 15)) == (date(2024, 1, 1), date(2024, 1, 15))  # not past as_of


def test_a_month_without_its_year_is_the_archives_latest_when_the_latest_before_as_of_is_past_it() -> None:
    as_of = date(2026, 12, 7)
    newest = date(2023, 12, 20)  # the archive's newest article
    frame = time_words.read_time("how much did coin stock jump in november", as_of)
    again = time_words.in_archive(frame, newest)
    assert again == newest
    reread = time_words.read_time("how much did coin stock jump in november", again)
    assert (reread.since, reread.until) == (date(2023, 11, 1), date(2023, 11, 30))
    # a relative phrase stays relative to as_of; a month the archive reaches stands; no window, nothing to do
    assert time_words.in_archive(time_words.read_time("what happened last month", as_of), newest) is None
    assert time_words.in_archive(time_words.read_time("what happened in november", as_of), date(2026, 11, 20)) is None
    assert time_words.in_archive(time_words.read_time("what happened to coin", as_of), newest) is None


def test_dates_written_with_their_year_name_articles_not_windows() -> None:
    # the search's day and month bonuses handle them (see _YEAR in retrieval/core/dates.py)
    assert not time_words.read_time("the TechCrunch report on October 6, 2023 and the later one", SUNDAY).window
    assert not time_words.read_time("reports before November 5, 2023", SUNDAY).window
    assert not time_words.read_time("compared to the previous year", SUNDAY).window
    assert not time_words.read_time("Which company does OpenAI compete with?", SUNDAY).window


def test_recency_current_state_and_timeline_questions() -> None:
    latest = time_words.read_time("What is the latest on the UAW strike?", SUNDAY)
    assert (latest.recency, latest.current, latest.timeline, latest.window) == (True, True, False, False)
    recent = time_words.read_time("recent layoffs at Google", SUNDAY)
    assert (recent.recency, recent.current) == (True, False)
    story = time_words.read_time("How did the FTX trial develop?", SUNDAY)
    assert story.timeline and not story.current
    assert time_words.read_time("a timeline of the Israel-Hamas war", SUNDAY).timeline


def test_outlet_names_are_not_read_as_time() -> None:
    question = "What did Business Today | Latest Stock Market News report?"
    start = question.index("Business")
    span = (start, start + len("Business Today | Latest Stock Market News"))
    assert time_words.read_time(question, SUNDAY).recency  # without the outlet's span, "Today" and "Latest" count
    masked = time_words.read_time(question, SUNDAY, (span,))
    assert not masked.recency and not masked.window


def test_clip_narrows_filters_to_the_window_and_as_of() -> None:
    frame = time_words.read_time("news last month", SUNDAY)
    assert time_words.clip("2023-11-15", None, frame) == ("2023-11-15", "2023-11-30")
    assert time_words.clip(None, "2024-05-01", time_words.read_time("anything", SUNDAY)) == (None, "2023-12-10")


def test_published_dates_read_once() -> None:
    assert dates.normalise("2023-10-06T12:00:00Z") == "2023-10-06T12:00:00+00:00"
    assert dates.normalise("Tue, 05 Mar 2024 10:00:00 GMT") == "2024-03-05T10:00:00+00:00"
    assert dates.normalise("last spring") is None
    assert dates.day_number("2023-09-27T23:59:00+02:00") == 20230927
    assert dates.ordinal(None) == 0
    assert dates.month_words("2023-09-27") == "September 2023"
    assert dates.display("Tue, 05 Mar 2024 10:00:00 GMT") == "2024-03-05"


def test_as_of_values_from_the_faces() -> None:
    assert dates.parse_as_of("2023-10-06") == datetime(2023, 10, 6, 23, 59, 59, tzinfo=UTC)
    assert dates.parse_as_of("2023-10-06T08:00:00") == datetime(2023, 10, 6, 8, tzinfo=UTC)
    assert dates.parse_as_of(None) is None
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        dates.parse_as_of("last tuesday")


def _passage(n: int, day: str) -> Passage:
    return Passage(chunk_id=f"c{n}", article_id=f"a{n}", title=f"T{n}", published_at=day, text=f"Point {n}.")


def test_a_timeline_is_dated_and_chronological_and_latest_leads_with_the_newest() -> None:
    passages = [_passage(1, "2023-11-02"), _passage(2, "2023-10-01"), _passage(3, "2023-12-24")]
    text = "Point 1. [1]\nPoint 2. [2]\nPoint 3. [3]"
    timeline = time_words.read_time("How did it develop?", SUNDAY)
    assert order(text, passages, timeline).splitlines() == [
        "- 2023-10-01: Point 2. [2]",
        "- 2023-11-02: Point 1. [1]",
        "- 2023-12-24: Point 3. [3]",
    ]
    latest = time_words.read_time("the latest on it", SUNDAY)
    assert order(text, passages, latest).splitlines()[0] == "Point 3. [3]"
    # one paragraph (an LLM's answer) is ordered by its sentences
    assert order("Point 1. [1] Point 3. [3]", passages, latest) == "Point 3. [3]\nPoint 1. [1]"
    assert order(text, passages, time_words.read_time("what is it", SUNDAY)) == text


def test_finish_says_when_the_evidence_is_from() -> None:
    cited = [
        Citation(n=1, article_id="a", title="A", published_at="2023-11-30T10:00:00Z", quote="q"),
        Citation(n=2, article_id="b", title="B", published_at="2023-10-02", quote="q"),
    ]
    answer = Answer(answer="The strike ended. [1]", abstained=False, citations=cited)
    done = finish(answer, time_words.read_time("What is the current state of the strike?", SUNDAY))
    assert done.evidence_dates is not None
    assert (done.evidence_dates.first, done.evidence_dates.last) == ("2023-10-02", "2023-11-30")
    assert done.answer == "As of November 30, 2023, the strike ended. [1]"
    assert done.as_of == "2023-12-10"
    plain = finish(answer, time_words.read_time("Did the strike end?", SUNDAY))
    assert plain.answer == answer.answer and plain.evidence_dates == done.evidence_dates


def test_an_empty_window_declines_and_offers_the_nearest_evidence() -> None:
    declined = Answer(answer="The articles in the corpus do not answer this question.", abstained=True)
    outside = [_passage(1, "2023-11-02")]
    done = finish(declined, time_words.read_time("What happened in February?", SUNDAY), outside)
    assert done.abstained and done.related == outside
    assert "in February (2023-02-01 to 2023-02-28)" in done.answer


def test_a_yes_or_no_stays_first_when_time_shapes_the_answer() -> None:
    from retrieval.answer.extractive import Draft
    from retrieval.answer.time_answers import shape

    cited = [Citation(n=1, article_id="a", title="A", published_at="2023-12-11", quote="q")]
    answer = Answer(answer="Yes. The app is free for now. [1]", abstained=False, citations=cited)
    done = finish(answer, time_words.read_time("is the app free right now", SUNDAY))
    assert done.answer == "Yes. As of December 11, 2023, the app is free for now. [1]"
    passages = [
        Passage(chunk_id=f"c{n}", article_id=f"a{n}", title="T", text="x", published_at=day)
        for n, day in ((1, "2023-12-11"), (2, "2023-12-01"))
    ]
    newest = Draft("The app stays free for the time being. [1]", False, {1: ["The app stays free for the time being."]})
    shaped, _ = shape("Yes The app went free. [2]", {}, passages, time_words.read_time("is it free now", SUNDAY),
                      lambda i: newest)  # fmt: skip
    assert shaped.startswith("Yes ") and shaped.index("[1]") < shaped.index("[2]")
