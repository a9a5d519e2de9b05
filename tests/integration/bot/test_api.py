"""The HTTP API against a real service on the shipped corpus: answers, streams, search, articles, jobs, ops."""

from __future__ import annotations

import json
import platform
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.api import create_app
from retrieval.core.errors import StorageError
from retrieval.core.types import StreamEvent
from retrieval.embed.embedder import EMBEDDERS
from retrieval.service import Newsdesk
from tests.conftest import SEED_QUESTION
from tests.support.inside import shared_store, syncs_held
from tests.support.openai_server import HttpError, Reply, ScriptedOpenAIServer, openai_server

pytestmark = pytest.mark.integration

KEY = "test-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture
def client(seed_service: Newsdesk) -> Iterator[TestClient]:
    settings = seed_service.settings.model_copy(update={"api_keys": [_secret(KEY)], "rate_limit_per_minute": 0})
    with TestClient(create_app(settings, seed_service)) as test_client:
        yield test_client


def _secret(value: str) -> Any:
    from pydantic import SecretStr

    return SecretStr(value)


def sse_events(text: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for frame in text.strip().split("\n\n"):
        name, data = "message", []
        for line in frame.splitlines():
            if line.startswith("event:"):
                name = line.removeprefix("event:").strip()
            elif line.startswith("data:"):
                data.append(line.removeprefix("data:").strip())
        if data:
            events.append((name, json.loads("\n".join(data))))
    return events


# ------------------------------------------------------------------ answers


def test_ask_answers_the_seed_question_with_a_citation(client: TestClient) -> None:
    response = client.post("/v1/ask", json={"question": SEED_QUESTION})
    assert response.status_code == 200
    body = response.json()
    assert not body["abstained"] and "300,000" in body["answer"]
    citation = body["citations"][0]
    assert citation["n"] == 1 and "300,000" in citation["quote"] and citation["published_at"] == "2022-09-03"
    assert body["mode"] == "extractive" and body["related"] == []


def test_ask_outside_the_corpus_abstains_with_related_passages(client: TestClient) -> None:
    body = client.post("/v1/ask", json={"question": "Who won the 2018 FIFA World Cup final?"}).json()
    assert body["abstained"] and body["citations"] == []
    assert body["related"] and all("text" in p and "score" in p for p in body["related"])


def test_ask_accepts_history_filters_and_k(client: TestClient) -> None:
    history = [{"role": "user", "content": "Tell me about Xiaomi."}, {"role": "assistant", "content": "Sure."}]
    response = client.post(
        "/v1/ask",
        json={"question": SEED_QUESTION, "history": history, "filters": {"since": "2022-01-01"}, "k": 3},
    )
    assert response.status_code == 200 and "300,000" in response.json()["answer"]
    # a date window that excludes the only article leaves nothing to cite
    empty = client.post("/v1/ask", json={"question": SEED_QUESTION, "filters": {"until": "2020-01-01"}}).json()
    assert empty["abstained"]


def test_stream_sends_tokens_then_citations_then_done(client: TestClient) -> None:
    response = client.post("/v1/ask/stream", json={"question": SEED_QUESTION})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response.text)
    names = [name for name, _ in events]
    assert names[-2:] == ["citations", "done"] and "token" in names
    assert names.index("token") < names.index("citations")
    streamed = "".join(data.get("text", "") for name, data in events if name == "token")
    done = events[-1][1]
    assert "300,000" in streamed and "300,000" in done["answer"]
    assert done["citations"] == events[-2][1]["citations"] and done["citations"][0]["n"] == 1


def test_stream_validates_before_streaming(client: TestClient) -> None:
    response = client.post("/v1/ask/stream", json={"question": "   "})
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_input"


class _FailsMidway(Newsdesk):
    """Fault injection: the real stream, cut by a storage failure after its first event."""

    def ask_stream(self, *args: Any, **kwargs: Any) -> Iterator[StreamEvent]:
        stream = super().ask_stream(*args, **kwargs)
        yield next(stream)
        raise StorageError("the data directory became read-only; free space or fix permissions, then retry")


def test_stream_failure_midway_ends_with_an_error_event(seed_service: Newsdesk) -> None:
    failing = _FailsMidway(seed_service.settings, embedder=seed_service.embedder, store=shared_store(seed_service))
    with TestClient(create_app(seed_service.settings, failing)) as client:
        response = client.post("/v1/ask/stream", json={"question": SEED_QUESTION})
    assert response.status_code == 200
    events = sse_events(response.text)
    assert [name for name, _ in events] == ["token", "error"]
    assert events[-1][1] == {
        "error": "storage_error",
        "message": "the data directory became read-only; free space or fix permissions, then retry",
    }


def test_search_returns_scored_passages_and_filters(client: TestClient) -> None:
    body = client.get("/v1/search", params={"q": "Xiaomi factory output", "k": 2}).json()
    assert body["query"] == "Xiaomi factory output"
    assert 1 <= len(body["passages"]) <= 2
    scores = [p["score"] for p in body["passages"]]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0
    assert client.get("/v1/search", params={"q": "Xiaomi", "since": "2023-01-01"}).json()["passages"] == []
    assert client.get("/v1/search", params={"q": "Xiaomi", "source": "Nobody"}).json()["passages"] == []


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("method", "path", "payload", "status", "code"),
    [
        ("post", "/v1/ask", {"question": ""}, 422, "invalid_input"),
        ("post", "/v1/ask", {"question": SEED_QUESTION, "k": 0}, 422, "invalid_input"),
        ("post", "/v1/ask", {"question": SEED_QUESTION, "filters": {"since": "soon"}}, 422, "invalid_input"),
        ("post", "/v1/ask", {"question": SEED_QUESTION, "surprise": 1}, 422, "invalid_input"),
        ("get", "/v1/nothing-here", None, 404, "not_found"),
        ("get", "/v1/articles/not-an-article", None, 404, "not_found"),
        ("get", "/v1/jobs/no-such-job", None, 404, "not_found"),
        ("delete", "/v1/stats", None, 405, "method_not_allowed"),
    ],
)
def test_errors_have_one_shape(
    client: TestClient, method: str, path: str, payload: dict[str, Any] | None, status: int, code: str
) -> None:
    response = client.request(method, path, json=payload)
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error", "message"} and body["error"] == code
    assert body["message"] and "Traceback" not in body["message"]


def test_malformed_json_is_a_clear_422(client: TestClient) -> None:
    response = client.post("/v1/ask", content=b'{"question": ', headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_input" and "JSON" in response.json()["message"]


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("delete", "/v1/stats", "GET"),
        ("put", "/v1/articles", "GET, POST"),  # two routes (a read and a write) share the path
        ("patch", "/v1/articles/some-id", "DELETE, GET"),
        ("get", "/v1/ask", "POST"),
        ("post", "/static/app.js", "GET, HEAD"),
    ],
)
def test_405_names_the_methods_the_path_takes(client: TestClient, method: str, path: str, allowed: str) -> None:
    response = client.request(method, path)
    assert response.status_code == 405
    assert response.headers["allow"] == allowed
    assert response.json()["message"] == f"{method.upper()} is not allowed on {path}; it takes {allowed}"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"title": "No body"}, "body is required"),
        ({"title": "Blank", "body": "   "}, "body must not be blank"),
        ([{"title": "A", "body": "Fine."}, {"title": "B"}], "[1].body is required"),
        ({"url": "ftp://example.com/x"}, "url must be an http(s) URL such as https://example.com/news/story.html"),
        ({"url": "https://example.com/x", "title": "T"}, "title is not a field here"),
        ({"title": "T", "body": "B", "colour": "red"}, "colour is not a field here"),
        ({"id": "no spaces allowed", "body": "B"}, "id may hold only letters, digits and . _ : - (1 to 128 of them)"),
        (5, 'the body must be an article object, a list of them, or {"url": ...}'),
    ],
)
def test_article_body_errors_say_what_is_wrong_once(client: TestClient, payload: Any, message: str) -> None:
    response = client.post("/v1/articles", json=payload, headers=AUTH)
    assert response.status_code == 422 and response.json()["error"] == "invalid_input"
    assert response.json()["message"] == message


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"title": "x", "body": ', "the request body is not valid JSON (expecting value at character 23)"),
        (b'{"title": "x",}', "the request body is not valid JSON (expecting property name enclosed in double quotes"),
        (b"[" * 100_000 + b"]" * 100_000, "the request body is nested too deeply"),
        (b'{"title": "caf\xe9", "body": "x"}', "the request body is not UTF-8"),
    ],
)
def test_unreadable_bodies_say_why(client: TestClient, raw: bytes, message: str) -> None:
    response = client.post("/v1/articles", content=raw, headers={**AUTH, "content-type": "application/json"})
    assert response.status_code == 422 and response.json()["error"] == "invalid_input"
    assert response.json()["message"].startswith(message), response.json()["message"]


def test_a_duplicate_in_one_request_is_named_by_its_title(client: TestClient) -> None:
    first = {"title": "Night ferry", "body": "The night ferry now leaves at 23:40, half an hour later than before."}
    response = client.post("/v1/articles", json=[first, {**first, "title": "Ferry later"}], headers=AUTH)
    assert response.status_code == 200 and len(response.json()["added"]) == 1
    assert response.json()["duplicates"] == ['"Ferry later" (api) repeats "Night ferry" (api): indexed once']
    again = client.post("/v1/articles", json={**first, "id": "ferry-copy"}, headers=AUTH).json()
    added = response.json()["added"][0]
    assert again["duplicates"] == [f'"Night ferry" (api) has the same text as the indexed article {added}: skipped']


def test_long_question_is_refused_with_the_limit_named(client: TestClient) -> None:
    response = client.post("/v1/ask", json={"question": "why " * 600})
    assert response.status_code == 422
    message = response.json()["message"]
    assert "2,000" in message and "NEWSDESK_MAX_QUESTION_CHARS" in message
    assert client.get("/v1/search", params={"q": "x" * 2001}).status_code == 422


def test_unexpected_errors_become_500_without_a_trace(seed_service: Newsdesk) -> None:
    class Broken(Newsdesk):
        def stats(self) -> Any:
            raise RuntimeError("secret internals /etc/passwd")

    broken = Broken(seed_service.settings, embedder=seed_service.embedder, store=shared_store(seed_service))
    with TestClient(create_app(seed_service.settings, broken), raise_server_exceptions=False) as client:
        response = client.get("/v1/stats")
    assert response.status_code == 500
    assert response.json()["error"] == "internal_error"
    assert "secret" not in response.text and "Traceback" not in response.text


# ------------------------------------------------------------------ articles


def test_articles_can_be_added_listed_read_and_deleted(client: TestClient) -> None:
    articles = [
        {
            "title": "Harbour bridge reopens",
            "body": "The harbour bridge reopened on Monday after 14 months of repairs costing 82 million euros.",
            "source": "Port Gazette",
            "published_at": "2024-03-04",
            "url": "https://gazette.example/bridge",
        },
        {"title": "Library extends hours", "body": "The city library now opens until 22:00 on weekdays.",
         "source": "Port Gazette", "published_at": "2024-02-01"},
    ]  # fmt: skip
    added = client.post("/v1/articles", json=articles, headers=AUTH)
    assert added.status_code == 200, added.text
    report = added.json()
    assert len(report["added"]) == 2 and report["failed"] == [] and report["chunks_embedded"] >= 2

    again = client.post("/v1/articles", json=articles[0], headers=AUTH).json()
    assert again["skipped"] == report["added"][:1]

    answer = client.post("/v1/ask", json={"question": "How much did the harbour bridge repairs cost?"}).json()
    assert "82 million" in answer["answer"] and answer["citations"][0]["source"] == "Port Gazette"

    page = client.get("/v1/articles", params={"source": "port gazette", "limit": 1}).json()
    assert page["total"] == 2 and len(page["items"]) == 1 and page["next_offset"] == 1
    assert page["items"][0]["title"] == "Harbour bridge reopens"  # newest first
    assert client.get("/v1/articles", params={"source": "port gazette", "offset": 1}).json()["next_offset"] is None
    assert client.get("/v1/articles", params={"since": "2024-03-01"}).json()["total"] == 1
    assert client.get("/v1/articles").json()["total"] == 3  # with the seed article

    bridge_id = report["added"][0]
    article = client.get(f"/v1/articles/{bridge_id}").json()
    assert article["url"] == "https://gazette.example/bridge" and article["origin"] == "api" and article["chunks"] >= 1

    assert client.delete(f"/v1/articles/{bridge_id}", headers=AUTH).status_code == 204
    assert client.get(f"/v1/articles/{bridge_id}").status_code == 404
    assert client.delete(f"/v1/articles/{bridge_id}", headers=AUTH).status_code == 404
    gone = client.post("/v1/ask", json={"question": "How much did the harbour bridge repairs cost?"}).json()
    assert "82 million" not in gone["answer"]


def test_reindex_job_reports_progress_and_result(client: TestClient) -> None:
    started = client.post("/v1/reindex", headers=AUTH)
    assert started.status_code == 202
    job = started.json()
    assert job["state"] == "running" and job["kind"] == "reindex"
    client.app.state.service.jobs.join(timeout=120)  # type: ignore[attr-defined]
    done = client.get(f"/v1/jobs/{job['id']}").json()
    assert done["state"] == "succeeded" and done["finished_at"]
    assert done["report"]["skipped"] and done["report"]["failed"] == []
    assert client.get("/v1/stats").json()["reindex_job"] is None


# ------------------------------------------------------------------ operations


def test_stats_health_and_readiness(client: TestClient) -> None:
    stats = client.get("/v1/stats").json()
    assert stats["articles"] == 1 and stats["chunks"] >= 1 and stats["answer_mode"] == "extractive"
    # what decides the vectors: their kind, and the CPU features that pick onnxruntime's kernels
    assert stats["vectors"] in EMBEDDERS.values() and stats["cpu"].startswith(platform.machine())
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready" and ready.json()["chunks"] == stats["chunks"]


def test_metrics_count_requests_answers_and_index_size(client: TestClient) -> None:
    client.post("/v1/ask", json={"question": SEED_QUESTION})
    client.post("/v1/ask", json={"question": "Who won the 2018 FIFA World Cup final?"})
    client.get("/v1/articles/missing")
    text = client.get("/metrics").text
    assert 'newsdesk_http_requests_total{method="POST",route="/v1/ask",status="200"} 2.0' in text
    assert 'newsdesk_http_requests_total{method="GET",route="/v1/articles/{article_id}",status="404"} 1.0' in text
    assert 'newsdesk_http_request_duration_seconds_count{method="POST",route="/v1/ask"} 2.0' in text
    assert 'newsdesk_answers_total{mode="extractive"} 2.0' in text
    assert "newsdesk_abstentions_total 1.0" in text
    assert "newsdesk_llm_fallbacks_total 0.0" in text
    assert "newsdesk_index_articles 1.0" in text and "newsdesk_index_chunks" in text
    hits = _sample(text, 'newsdesk_vector_cache_lookups_total{result="hit"}')
    misses = _sample(text, 'newsdesk_vector_cache_lookups_total{result="miss"}')
    assert misses > 0 and _sample(text, "newsdesk_vector_cache_entries") > 0
    client.post("/v1/ask", json={"question": SEED_QUESTION})  # asked before: every vector is remembered
    again = client.get("/metrics").text
    assert _sample(again, 'newsdesk_vector_cache_lookups_total{result="miss"}') == misses
    assert _sample(again, 'newsdesk_vector_cache_lookups_total{result="hit"}') > hits


def test_the_app_embeds_answer_sentences_in_the_background_and_reports_them(
    client: TestClient, seed_service: Newsdesk
) -> None:
    assert seed_service.wait_for_background(60)  # the app started the filler in its lifespan
    stats = client.get("/v1/stats").json()
    assert stats["sentence_vectors"] > 5 and stats["sentence_vectors_pending"] == 0
    assert stats["sentence_vectors_filling"] is False
    text = client.get("/metrics").text
    assert _sample(text, "newsdesk_sentence_vectors") == stats["sentence_vectors"]
    assert _sample(text, "newsdesk_sentence_vectors_pending") == 0


def _sample(exposition: str, name: str) -> float:
    line = next(line for line in exposition.splitlines() if line.startswith(name + " "))
    return float(line.rsplit(" ", 1)[1])


def test_openapi_documents_every_route_with_examples(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    components = schema["components"]["schemas"]

    def has_example(content: dict[str, Any]) -> bool:
        for media in content.values():
            if "example" in media or "examples" in media:
                return True
            ref = media.get("schema", {}).get("$ref", "")
            if ref and "examples" in components[ref.rsplit("/", 1)[-1]]:
                return True
        return False

    expected = {
        ("post", "/v1/ask"), ("post", "/v1/ask/stream"), ("get", "/v1/search"), ("post", "/v1/articles"),
        ("get", "/v1/articles"), ("get", "/v1/articles/{article_id}"), ("delete", "/v1/articles/{article_id}"),
        ("post", "/v1/reindex"), ("get", "/v1/jobs/{job_id}"), ("get", "/v1/stats"), ("get", "/healthz"),
        ("get", "/readyz"), ("get", "/metrics"),
    }  # fmt: skip
    found = {(method, path) for path, item in schema["paths"].items() for method in item}
    assert expected <= found
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if "requestBody" in operation:
                assert has_example(operation["requestBody"]["content"]), (method, path, "request")
            ok = next(code for code in operation["responses"] if code.startswith("2"))
            if ok != "204":
                assert has_example(operation["responses"][ok]["content"]), (method, path, ok)
            error_codes = [code for code in operation["responses"] if code[0] in "45"]
            for code in error_codes:
                assert operation["responses"][code]["content"]["application/json"]["schema"]["$ref"].endswith(
                    "/ErrorResponse"
                ), (method, path, code)
    assert components["AskRequest"]["properties"]["question"]["maxLength"] == 2000
    (q,) = [p for p in schema["paths"]["/v1/search"]["get"]["parameters"] if p["name"] == "q"]
    assert q["schema"]["maxLength"] == 2000 and "x-newsdesk-max-length" not in json.dumps(schema)
    assert "bearer" in json.dumps(schema["components"]["securitySchemes"]).lower()


def test_the_page_is_served(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'id="question"' in page.text and "/static/app.js" in page.text
    script = client.get("/static/app.js")
    assert script.status_code == 200 and "/v1/ask/stream" in script.text
    assert client.get("/static/style.css").status_code == 200


# ------------------------------------------------------------------ with an LLM


@pytest.fixture
def llm_server() -> Iterator[ScriptedOpenAIServer]:
    server = openai_server(default="unused")
    yield server
    server.stop()


def test_llm_tokens_stream_and_a_failing_llm_is_counted_as_a_fallback(
    seed_service: Newsdesk, llm_server: ScriptedOpenAIServer
) -> None:
    settings = seed_service.settings.model_copy(
        update={"llm": "openai:test-model", "llm_base_url": llm_server.base_url, "llm_timeout": 5.0, "llm_retries": 0}
    )
    service = Newsdesk(settings, embedder=seed_service.embedder, store=shared_store(seed_service))
    reply = "Xiaomi plans an annual output of 300,000 vehicles at its own plant [1]."
    llm_server.enqueue(Reply(reply), HttpError(500))
    with TestClient(create_app(settings, service)) as client:
        streamed = client.post("/v1/ask/stream", json={"question": SEED_QUESTION})
        events = sse_events(streamed.text)
        tokens = [data["text"] for name, data in events if name == "token"]
        assert len(tokens) > 1 and "300,000" in "".join(tokens)  # the model's text, as it was written
        done = events[-1][1]
        assert events[-1][0] == "done" and "extractive" not in done["mode"] and done["citations"][0]["n"] == 1

        fallback = client.post("/v1/ask", json={"question": SEED_QUESTION}).json()
        assert fallback["mode"].startswith("extractive (") and "300,000" in fallback["answer"]
        metrics = client.get("/metrics").text
    assert "newsdesk_llm_fallbacks_total 1.0" in metrics
    assert 'newsdesk_answers_total{mode="extractive"} 1.0' in metrics


class _CountsAnswersAtOnce(Newsdesk):
    """The real service, noting how many asks run at the same time."""

    running = 0
    most = 0
    lock = threading.Lock()

    def ask(self, *args: Any, **kwargs: Any) -> Any:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            time.sleep(0.05)  # long enough for the other requests to arrive meanwhile
            return super().ask(*args, **kwargs)
        finally:
            with self.lock:
                self.running -= 1


def test_concurrent_asks_beyond_the_limit_wait_their_turn(seed_service: Newsdesk) -> None:
    settings = seed_service.settings.model_copy(update={"max_concurrent_answers": 2, "rate_limit_per_minute": 0})
    counting = _CountsAnswersAtOnce(settings, embedder=seed_service.embedder, store=shared_store(seed_service))
    with TestClient(create_app(settings, counting)) as client, ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(lambda _: client.post("/v1/ask", json={"question": SEED_QUESTION}), range(6)))
    assert [r.status_code for r in responses] == [200] * 6
    assert all("300,000" in r.json()["answer"] for r in responses)
    assert counting.most == 2


def test_policies_are_the_facades_so_every_face_shares_them(seed_service: Newsdesk) -> None:
    """A re-index started by another face (Discord calls the facade the same way) makes HTTP's a 409, and an
    answer slot taken elsewhere makes an HTTP ask wait for it."""
    settings = seed_service.settings.model_copy(
        update={"api_keys": [_secret(KEY)], "rate_limit_per_minute": 0, "max_concurrent_answers": 1}
    )
    service = Newsdesk(settings, embedder=seed_service.embedder, store=shared_store(seed_service))
    with TestClient(create_app(settings, service)) as client:
        with syncs_held(service):  # holds the re-index until the test has tried a second one
            elsewhere = service.start_reindex(started_by="a Discord member")
            refused = client.post("/v1/reindex", headers=AUTH)
            assert refused.status_code == 409 and refused.json()["job_id"] == elsewhere.id
            assert client.get("/v1/stats").json()["reindex_job"] == elsewhere.id
        assert service.jobs.wait(elsewhere.id, 120).state == "succeeded"
        assert 'newsdesk_reindex_jobs_total{state="succeeded"} 1.0' in client.get("/metrics").text

        with ThreadPoolExecutor(1) as pool:
            with service.admission:  # the one slot, taken by another face
                pending = pool.submit(client.post, "/v1/ask", json={"question": SEED_QUESTION})
                time.sleep(1.0)
                assert not pending.done(), "the ask did not wait for the slot"
            assert pending.result(timeout=120).status_code == 200
