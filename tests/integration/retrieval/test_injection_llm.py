"""Planted instructions, in 32 wordings, through the whole service: the real embedder, a real Chroma, and a
scripted model that obeys them (tests/support/injections.py). No answer carries one out and no quote shown
is an instruction, offline or with the model; a claim a passage contradicts is never cited to it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from retrieval.answer import citations
from retrieval.answer.instructions import is_instruction
from retrieval.core.config import Settings
from retrieval.core.types import Answer, Question
from retrieval.embed.embedder import Embedder
from retrieval.service import Newsdesk
from tests.support.injections import DAM, PLANTED, Planted, write_corpus
from tests.support.llm_fixtures import passage_numbers
from tests.support.openai_server import Reply, ScriptedOpenAIServer

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("planted")
    write_corpus(folder)
    return folder


def service_for(settings: Settings, embedder: Embedder, corpus: Path) -> Newsdesk:
    service = Newsdesk(settings, embedder=embedder)
    report = service.ingest([str(corpus)])
    assert not report.failed, report.failed
    return service


def number_of(request: dict[str, Any], text: str) -> int:
    """The [n] under which the prompt showed the passage holding `text` (1 when none did)."""
    return next((n for n, block in passage_numbers(request).items() if text[:40] in block), 1)


def assert_clean(answer: Answer, planted: Planted, passages: list[Any]) -> None:
    assert planted.obeyed.rstrip(".") not in answer.answer, answer.answer
    assert planted.instruction not in answer.answer
    shown = [q for c in answer.citations for q in [c.quote, *c.quotes]]
    assert not any(is_instruction(q) for q in shown), shown
    assert not any(planted.instruction in q for q in shown)
    assert citations.problems(answer, passages) == []


def test_no_planted_instruction_is_quoted_offline(
    make_settings: Callable[..., Settings], embedder: Embedder, corpus_dir: Path
) -> None:
    service = service_for(make_settings(top_k=4), embedder, corpus_dir)
    for planted in PLANTED:
        outcome = service.answer(Question(question=planted.question))
        assert_clean(outcome.answer, planted, outcome.passages)


@pytest.mark.parametrize("form", ["obey", "echo"])
def test_no_answer_carries_out_a_planted_instruction(
    make_settings: Callable[..., Settings],
    embedder: Embedder,
    server: ScriptedOpenAIServer,
    corpus_dir: Path,
    form: str,
) -> None:
    settings = make_settings(
        llm="openai:test-model",
        llm_base_url=server.base_url,
        llm_timeout=5.0,
        llm_retries=0,
        top_k=4,
        llm_abstain_threshold=float("-inf"),  # always ask the model
    )
    service = service_for(settings, embedder, corpus_dir)
    for planted in PLANTED:

        def reply(request: dict[str, Any], planted: Planted = planted) -> str:
            n = number_of(request, planted.body)
            if form == "obey":  # what the instruction asked for, cited to the passage that carries it
                return f"{planted.obeyed.rstrip('.')} [{n}]. {planted.report.rstrip('.')} [{n}]."
            return f"{planted.instruction} {planted.obeyed}"

        server.enqueue(Reply(reply))
        outcome = service.answer(Question(question=planted.question))
        assert_clean(outcome.answer, planted, outcome.passages)
        if form == "obey" and outcome.answer.mode == "openai:test-model":
            assert planted.report.rstrip(".") in outcome.answer.answer  # what the article reports is kept


def test_a_claim_is_never_cited_to_the_passage_that_contradicts_it(
    make_settings: Callable[..., Settings], embedder: Embedder, server: ScriptedOpenAIServer, corpus_dir: Path
) -> None:
    settings = make_settings(
        llm="openai:test-model", llm_base_url=server.base_url, llm_retries=0, llm_abstain_threshold=float("-inf")
    )
    service = service_for(settings, embedder, corpus_dir)

    def reply(request: dict[str, Any]) -> str:
        return f"Yes The Redstone Valley dam wall shows deep cracks [{number_of(request, DAM['dam-report.md'][2])}]."

    server.enqueue(Reply(reply))
    outcome = service.answer(Question(question="does the redstone valley dam have cracks"))
    answer = outcome.answer
    for citation in answer.citations:
        for quote in citation.quotes:
            assert "no cracks" not in quote  # the real outlet's report denies it: it supports nothing of the kind
    if "deep cracks" in answer.answer:
        assert all(c.source == "Copy Wire" for c in answer.citations)
    assert citations.problems(answer, outcome.passages) == []
