"""The scripted OpenAI-compatible server, exercised with the real ``langchain_openai.ChatOpenAI`` client."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from langchain_core.messages import AIMessageChunk, HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from tests.support.openai_server import (
    Delay,
    Disconnect,
    HttpError,
    Reply,
    ScriptedOpenAIServer,
    openai_server,
    split_into_chunks,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def server() -> Iterator[ScriptedOpenAIServer]:
    srv = openai_server()
    try:
        yield srv
    finally:
        srv.stop()


def make_llm(server: ScriptedOpenAIServer, timeout: float = 5.0, **kwargs: Any) -> ChatOpenAI:
    return ChatOpenAI(
        base_url=server.base_url,
        api_key=SecretStr("test"),
        model="test-model",
        timeout=timeout,
        max_retries=0,
        **kwargs,
    )


def test_base_url_is_loopback_v1(server: ScriptedOpenAIServer) -> None:
    assert server.base_url == f"http://127.0.0.1:{server.port}/v1"
    assert server.port > 0


def test_plain_answer(server: ScriptedOpenAIServer) -> None:
    server.set_default("The ferry resumes service on Monday.")
    result = make_llm(server).invoke("When does the ferry resume?")
    assert result.content == "The ferry resumes service on Monday."
    assert result.response_metadata["finish_reason"] == "stop"
    assert result.usage_metadata is not None
    assert result.usage_metadata["output_tokens"] == 6


def test_streamed_answer_arrives_in_several_chunks(server: ScriptedOpenAIServer) -> None:
    text = "Council approved the budget after a long debate on Tuesday."
    server.set_default(text)
    chunks = list(make_llm(server).stream("What happened?"))
    contents = [c.content for c in chunks if c.content]
    assert len(contents) == len(split_into_chunks(text)) > 3
    assert "".join(str(c) for c in contents) == text
    assert all(isinstance(c, AIMessageChunk) for c in chunks)
    assert server.last_request.stream is True


def test_streamed_answer_with_fixed_chunk_size_and_usage(server: ScriptedOpenAIServer) -> None:
    server.enqueue(Reply("abcdefghij", chunk_size=3))
    chunks = list(make_llm(server, stream_usage=True).stream("x"))
    assert [c.content for c in chunks if c.content] == ["abc", "def", "ghi", "j"]
    usage = [c.usage_metadata for c in chunks if c.usage_metadata]
    assert usage and usage[-1]["output_tokens"] == 1
    assert server.last_request.json["stream_options"] == {"include_usage": True}


def test_reply_computed_from_request(server: ScriptedOpenAIServer) -> None:
    def echo_question(request: dict[str, Any]) -> str:
        return "You asked: " + request["messages"][-1]["content"]

    server.set_default(echo_question)
    llm = make_llm(server)
    assert llm.invoke("Who won the election?").content == "You asked: Who won the election?"
    streamed = "".join(str(c.content) for c in llm.stream("Is the bridge open?"))
    assert streamed == "You asked: Is the bridge open?"


def test_queue_is_consumed_in_order_then_default(server: ScriptedOpenAIServer) -> None:
    server.set_default("default")
    server.enqueue("first", Reply("second"))
    llm = make_llm(server)
    assert [llm.invoke("q").content for _ in range(3)] == ["first", "second", "default"]
    assert server.pending == 0


def test_http_500_raises(server: ScriptedOpenAIServer) -> None:
    server.enqueue(HttpError(500, "boom"))
    with pytest.raises(openai.InternalServerError) as info:
        make_llm(server).invoke("q")
    assert info.value.status_code == 500
    assert "boom" in str(info.value)
    assert len(server.chat_requests) == 1  # max_retries=0 and x-should-retry: false


def test_http_500_raises_when_streaming(server: ScriptedOpenAIServer) -> None:
    server.enqueue(HttpError(503, "overloaded", type="server_error"))
    with pytest.raises(openai.APIStatusError):
        list(make_llm(server).stream("q"))


def test_delay_longer_than_client_timeout_raises_quickly(server: ScriptedOpenAIServer) -> None:
    server.enqueue(Delay(30.0))
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        make_llm(server, timeout=0.5).invoke("q")
    assert time.monotonic() - started < 5.0
    # The server keeps answering other requests while the delayed one is still parked.
    assert make_llm(server).invoke("q").content == "OK"


def test_short_delay_then_answers(server: ScriptedOpenAIServer) -> None:
    server.enqueue(Delay(0.2, then="late but fine"))
    started = time.monotonic()
    assert make_llm(server).invoke("q").content == "late but fine"
    assert time.monotonic() - started >= 0.2


def test_abrupt_disconnect_raises_connection_error(server: ScriptedOpenAIServer) -> None:
    server.enqueue(Disconnect())
    with pytest.raises(openai.APIConnectionError):
        make_llm(server).invoke("q")
    assert make_llm(server).invoke("q").content == "OK"


@pytest.mark.parametrize("reset", [False, True])
def test_disconnect_mid_stream_raises(server: ScriptedOpenAIServer, reset: bool) -> None:
    server.enqueue(Disconnect(partial_text="half an answer that never", reset=reset))
    received: list[str] = []
    with pytest.raises(openai.APIConnectionError):
        for chunk in make_llm(server).stream("q"):
            received.append(str(chunk.content))
    assert "".join(received) == "half an answer that never"


def test_recorded_request_holds_messages_and_headers(server: ScriptedOpenAIServer) -> None:
    passages = "<data>\n[1] The mayor resigned on Friday.\n</data>"
    make_llm(server).invoke([SystemMessage("Answer only from the data section."), HumanMessage(f"{passages}\nWhy?")])
    request = server.chat_requests[-1]
    assert request.method == "POST"
    assert request.path == "/v1/chat/completions"
    assert request.authorization == "Bearer test"
    assert request.model == "test-model"
    assert request.stream is False
    assert request.messages == [
        {"role": "system", "content": "Answer only from the data section."},
        {"role": "user", "content": f"{passages}\nWhy?"},
    ]
    user = request.messages[1]["content"]
    assert user.index("<data>") < user.index("The mayor resigned") < user.index("</data>")
    assert "The mayor resigned" in request.text()


def test_models_endpoint(server: ScriptedOpenAIServer) -> None:
    client = openai.OpenAI(base_url=server.base_url, api_key="test", max_retries=0, timeout=5.0)
    assert [m.id for m in client.models.list()] == ["test-model"]
    with urllib.request.urlopen(f"{server.base_url}/models", timeout=5) as response:
        assert json.load(response)["object"] == "list"


def test_unknown_path_is_404(server: ScriptedOpenAIServer) -> None:
    client = openai.OpenAI(base_url=server.base_url, api_key="test", max_retries=0, timeout=5.0)
    with pytest.raises(openai.NotFoundError):
        client.embeddings.create(model="test-model", input="x")


def test_failing_callable_becomes_500_and_is_recorded(server: ScriptedOpenAIServer) -> None:
    def broken(request: dict[str, Any]) -> str:
        raise ValueError("scripted failure")

    server.enqueue(broken)
    with pytest.raises(openai.InternalServerError):
        make_llm(server).invoke("q")
    assert isinstance(server.errors[0], ValueError)


def test_stop_returns_quickly_with_delayed_response_in_flight() -> None:
    srv = ScriptedOpenAIServer(Delay(60.0))
    srv.start()
    outcome: list[BaseException | None] = []

    def call() -> None:
        try:
            make_llm(srv, timeout=30.0).invoke("q")
            outcome.append(None)
        except BaseException as exc:  # recorded for the assertion below
            outcome.append(exc)

    worker = threading.Thread(target=call, daemon=True)
    worker.start()
    srv.wait_for_requests(1, timeout=5.0)
    started = time.monotonic()
    srv.stop()
    assert time.monotonic() - started < 1.5
    assert not srv.running
    worker.join(timeout=5.0)
    assert not worker.is_alive()
    assert outcome and isinstance(outcome[0], openai.APIConnectionError)


def test_context_manager_and_restartable_port_release() -> None:
    with ScriptedOpenAIServer("hi") as srv:
        assert make_llm(srv).invoke("q").content == "hi"
        base_url = srv.base_url
    assert not srv.running
    llm = ChatOpenAI(base_url=base_url, api_key=SecretStr("test"), model="test-model", timeout=2.0, max_retries=0)
    with pytest.raises(openai.APIConnectionError):
        llm.invoke("q")
