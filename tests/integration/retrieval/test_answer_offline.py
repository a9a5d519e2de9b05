"""Offline (extractive) answers through the service: the seed question, declining, follow-ups, streaming, and
`newsdesk eval answers` on a small benchmark file."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from retrieval.answer import citations
from retrieval.core.types import Question, Turn
from retrieval.service import Newsdesk
from tests.conftest import ROOT, SEED_QUESTION, subprocess_env
from tests.support.inside import extractive

pytestmark = pytest.mark.integration

NEWSDESK = str(ROOT / ".venv" / "bin" / "newsdesk") if (ROOT / ".venv" / "bin" / "newsdesk").exists() else "newsdesk"


def test_the_seed_question_is_answered_by_quoting_the_seed(seed_service: Newsdesk) -> None:
    outcome = seed_service.answer(Question(question=SEED_QUESTION))
    answer = outcome.answer
    assert answer.mode == "extractive" and not answer.abstained
    assert "300,000" in answer.answer
    assert any("300,000" in c.quote for c in answer.citations)
    assert all(c.title.startswith("Xiaomi wants its own EV factory") for c in answer.citations)
    assert citations.problems(answer, outcome.passages) == []
    for line in answer.answer.splitlines():  # each sentence quoted verbatim, then its [n]
        sentence, marker = line.rsplit(" ", 1)
        assert marker.startswith("[") and any(sentence in p.text for p in outcome.passages)


def test_a_question_the_corpus_cannot_answer_is_declined_with_related_passages(seed_service: Newsdesk) -> None:
    answer = seed_service.ask(Question(question="Which team won the Stanley Cup in 2019 according to ESPN?"))
    assert answer.abstained and answer.citations == []
    assert "do not answer" in answer.answer
    assert answer.related


def test_a_follow_up_carries_the_previous_question_over(seed_service: Newsdesk) -> None:
    history = [
        Turn(role="user", content=SEED_QUESTION),
        Turn(role="assistant", content=seed_service.ask(Question(question=SEED_QUESTION)).answer),
    ]
    alone = seed_service.answer(Question(question="What about Apple?"))
    followed = seed_service.answer(Question(question="What about Apple?", history=history))
    assert alone.query == "What about Apple?"
    assert followed.query != alone.query and "Apple" in followed.query and "Xiaomi" not in followed.query
    assert not followed.answer.abstained
    assert "Apple" in followed.answer.answer
    assert citations.problems(followed.answer, followed.passages) == []


def test_a_follow_up_about_a_subject_no_article_names_is_declined(seed_service: Newsdesk) -> None:
    # the terms carried over from the previous question (output, plant) match the seed well; the follow-up's
    # own subject does not appear anywhere
    history = [Turn(role="user", content=SEED_QUESTION), Turn(role="assistant", content="300,000 vehicles [1]")]
    followed = seed_service.answer(Question(question="Who won the 2018 FIFA World Cup final?", history=history))
    assert "output" in followed.query
    assert followed.answer.abstained and followed.answer.related


def test_streaming_offline_gives_the_same_answer(seed_service: Newsdesk) -> None:
    events = list(seed_service.ask_stream(Question(question=SEED_QUESTION)))
    assert [e.type for e in events][-2:] == ["citations", "done"]
    final = events[-1].answer
    assert final is not None
    assert "".join(e.text or "" for e in events if e.type == "token") == final.answer
    asked = seed_service.ask(Question(question=SEED_QUESTION))
    assert (final.answer, final.citations, final.mode) == (asked.answer, asked.citations, asked.mode)


def test_eval_answers_command(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.json"
    corpus.write_text(
        json.dumps(
            [
                {
                    "title": "Xiaomi wants its own EV factory",
                    "source": "Wire",
                    "published_at": "2023-10-01T10:00:00+00:00",
                    "url": "https://example.com/xiaomi",
                    "body": "Xiaomi wants to build its own car factory. The plant would have an annual output of "
                    "300,000 vehicles. Production could start in 2024.",
                },
                {
                    "title": "Battery prices keep falling",
                    "source": "Wire",
                    "published_at": "2023-10-02T10:00:00+00:00",
                    "url": "https://example.com/batteries",
                    "body": "Lithium battery pack prices fell 14 percent this year. Analysts expect cheaper cars.",
                },
            ]
        )
    )
    queries = tmp_path / "queries.json"
    queries.write_text(
        json.dumps(
            [
                {
                    "query": "What annual output is planned for Xiaomi's plant?",
                    "answer": "300,000 vehicles",
                    "question_type": "inference_query",
                },
                {
                    "query": "Which striker did Sky Sports and ESPN both name player of the month?",
                    "answer": "Insufficient information.",
                    "question_type": "null_query",
                },
                {
                    "query": "By how much did battery pack prices fall?",
                    "answer": "14 percent",
                    "question_type": "temporal_query",
                },
            ]
        )  # fmt: skip
    )

    def eval_answers(*extra: str) -> subprocess.CompletedProcess[str]:
        command = [NEWSDESK, "eval", "answers", "--corpus", str(corpus), "--queries", str(queries), *extra]
        env = subprocess_env(tmp_path / "data")
        return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)

    done = eval_answers("--json")
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert set(figures) == {
        "queries", "mode", "citation_validity", "abstention_recall", "false_abstention_rate", "hit_rate",
        "token_overlap_accuracy", "modes", "latency_ms", "llm_kept", "sentences", "prompt_tokens",
    }  # fmt: skip
    assert figures["queries"] == 3 and figures["mode"] == "extractive"
    assert figures["llm_kept"] is None and figures["prompt_tokens"] is None  # offline: no model
    assert figures["modes"] == {"extractive": 3} and set(figures["sentences"]) == {"cited", "attributed", "dropped"}
    assert {"total_p50", "total_p95"} <= set(figures["latency_ms"])
    assert figures["citation_validity"] == 1.0
    assert figures["abstention_recall"] == 1.0 and figures["false_abstention_rate"] == 0.0
    assert figures["hit_rate"]["inference_query"] == 1.0 and figures["hit_rate"]["temporal_query"] == 1.0

    limited = eval_answers("--limit", "1")
    assert limited.returncode == 0, limited.stderr
    assert "citation validity" in limited.stdout and "Answers to 1 questions" in limited.stdout


def test_passage_analyses_are_remembered_within_a_bound_and_change_no_answer(
    seed_service: Newsdesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    import retrieval.answer.extractive as answer_module

    passages = seed_service.search(SEED_QUESTION, 8)
    answerer = extractive(seed_service)
    first = answerer.draft(SEED_QUESTION, passages)
    assert {p.text for p in passages} <= set(answerer._analyses)
    again = answerer.draft(SEED_QUESTION, passages)  # from the remembered analyses
    assert (again.text, again.quotes, again.score) == (first.text, first.quotes, first.score)
    monkeypatch.setattr(answer_module, "ANALYSED_PASSAGES", 1)
    other = passages[0].model_copy(update={"text": "A passage not seen before. It names Beijing and a car plant."})
    answerer.draft("Who is building a car plant in Beijing?", [other])
    assert list(answerer._analyses) == [other.text]  # the oldest were dropped
