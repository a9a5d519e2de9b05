"""The feedback log: answers as shown, one vote per user and answer, conversation threads and their history."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.feedback import FeedbackCounts, FeedbackStore, Where
from retrieval.core.errors import StorageError
from retrieval.core.types import Answer, Citation, Turn


def an_answer(text: str = "Xiaomi plans 300,000 cars a year [1].") -> Answer:
    citation = Citation(
        n=1,
        article_id="a1",
        title="Xiaomi's EV plans",
        source="Reuters",
        url="https://example.com/x",
        published_at="2022-09-03",
        quote="The plant will make 300,000 cars a year.",
    )
    return Answer(answer=text, abstained=False, citations=[citation], mode="extractive")


def test_answers_are_stored_with_question_answer_and_citations(tmp_path: Path) -> None:
    store = FeedbackStore.in_data_dir(tmp_path)
    answer = an_answer()
    answer_id = store.record_answer("How many cars?", answer, Where(user_id=1, guild_id=2, channel_id=3))

    recorded = store.get(answer_id)
    assert recorded is not None
    assert recorded.question == "How many cars?"
    assert recorded.answer == answer.answer
    assert recorded.citations == answer.citations
    assert recorded.where == Where(user_id=1, guild_id=2, channel_id=3)
    assert store.get("0" * 32) is None
    assert (tmp_path / "feedback.sqlite3").is_file()


def test_one_vote_per_user_and_answer_which_can_change(tmp_path: Path) -> None:
    store = FeedbackStore.in_data_dir(tmp_path)
    first = store.record_answer("q1", an_answer(), Where())
    second = store.record_answer("q2", an_answer(), Where())

    assert store.vote(first, user_id=10, up=True)
    assert store.vote(first, user_id=10, up=True)  # the same vote twice counts once
    assert store.vote(first, user_id=11, up=False)
    assert store.vote(second, user_id=10, up=True)
    assert store.counts() == FeedbackCounts(answers=2, up=2, down=1)

    assert store.vote(second, user_id=10, up=False)  # changed their mind
    assert store.counts() == FeedbackCounts(answers=2, up=1, down=2)
    recorded = store.get(first)
    assert recorded is not None and (recorded.up, recorded.down) == (1, 1)
    assert not store.vote("f" * 32, user_id=10, up=True)
    assert store.counts() == FeedbackCounts(answers=2, up=1, down=2)


def test_conversation_history_is_the_last_exchanges_in_order(tmp_path: Path) -> None:
    store = FeedbackStore.in_data_dir(tmp_path)
    assert not store.is_conversation(77)
    store.start_conversation(77, user_id=1, question="q0")
    store.start_conversation(77, user_id=1, question="q0")  # idempotent
    assert store.is_conversation(77)
    for i in range(6):
        store.record_answer(f"q{i}", an_answer(f"a{i}"), Where(thread_id=77))
    store.record_answer("elsewhere", an_answer("other"), Where(thread_id=78))

    history = store.history(77, max_turns=4)
    assert history == [
        Turn(role="user", content="q4"),
        Turn(role="assistant", content="a4"),
        Turn(role="user", content="q5"),
        Turn(role="assistant", content="a5"),
    ]
    assert store.history(79) == []


def test_the_log_survives_a_restart(tmp_path: Path) -> None:
    store = FeedbackStore.in_data_dir(tmp_path)
    answer_id = store.record_answer("q", an_answer(), Where(thread_id=5))
    store.vote(answer_id, user_id=1, up=True)
    store.start_conversation(5, 1, "q")
    store.close()

    reopened = FeedbackStore.in_data_dir(tmp_path)
    assert reopened.counts() == FeedbackCounts(answers=1, up=1, down=0)
    assert reopened.is_conversation(5)
    assert [t.content for t in reopened.history(5)] == ["q", an_answer().answer]


def test_an_unusable_data_dir_is_a_clear_storage_error(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "data"
    not_a_dir.write_text("a file where the data dir should be")
    with pytest.raises(StorageError, match="NEWSDESK_DATA_DIR"):
        FeedbackStore.in_data_dir(not_a_dir)
