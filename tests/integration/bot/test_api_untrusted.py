"""Requests no client can use to stall or break an answer (issue 25): the history is bounded and read in linear
time, as_of at the calendar's edge, filters that cannot match and questions without words are clear 4xx."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from bot.api import create_app
from retrieval.answer.chain import carry_over
from retrieval.core.types import Turn
from retrieval.service import Newsdesk
from tests.conftest import ROOT, SEED_QUESTION, subprocess_env
from tests.support.chroma_server import newsdesk_executable

pytestmark = pytest.mark.integration


@pytest.fixture
def client(seed_service: Newsdesk) -> Iterator[TestClient]:
    settings = seed_service.settings.model_copy(update={"rate_limit_per_minute": 0})
    with TestClient(create_app(settings, seed_service)) as test_client:
        yield test_client


def test_a_long_history_is_refused_and_carried_over_in_linear_time(client: TestClient) -> None:
    """Item 4: 16k distinct words of history took 2.6 s to carry over (a quadratic membership check), and a
    480 kB history was accepted."""
    words = " ".join(f"Word{i}" for i in range(16_000))
    start = time.perf_counter()
    carried = carry_over("And the plant?", [Turn(role="user", content=words)])
    assert time.perf_counter() - start < 0.5 and carried.endswith("Word15999")

    big = [{"role": "user", "content": "x " * 240_000}]
    for route in ("/v1/ask", "/v1/ask/stream"):
        response = client.post(route, json={"question": SEED_QUESTION, "history": big})
        assert response.status_code == 422 and "NEWSDESK_MAX_HISTORY_CHARS" in response.json()["message"]
    many = [{"role": "user", "content": "hi"}] * 50
    assert client.post("/v1/ask", json={"question": SEED_QUESTION, "history": many}).status_code == 200
    fine = [{"role": "user", "content": SEED_QUESTION}, {"role": "assistant", "content": "300,000 vehicles [1]."}]
    assert client.post("/v1/ask", json={"question": "And where?", "history": fine}).status_code == 200


EDGES = ["0001-01-01", "9999-12-31", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"]
PHRASES = ["What happened yesterday?", "What happened this month?", "What happened last year?", "Since Monday?"]


def test_as_of_at_the_calendars_edge_is_a_422_not_a_500(client: TestClient) -> None:
    """Item 9: these gave 36 kinds of OverflowError."""
    for as_of in EDGES:
        for question in PHRASES:
            response = client.post("/v1/ask", json={"question": question, "as_of": as_of})
            assert response.status_code == 422 and "as_of" in response.json()["message"], (as_of, question)
        assert client.get("/v1/search", params={"q": PHRASES[0], "as_of": as_of}).status_code == 422
    for as_of in ("1000-01-01", "8999-12-31T23:59:59-14:00"):  # the edges of what is read: answered
        for question in PHRASES:
            assert client.post("/v1/ask", json={"question": question, "as_of": as_of}).status_code == 200


def test_as_of_at_the_calendars_edge_on_the_cli_is_a_message_not_a_traceback(seed_service: Newsdesk) -> None:
    env = subprocess_env(seed_service.settings.data_dir, NEWSDESK_SENTENCE_VECTORS="false")
    done = subprocess.run(
        [newsdesk_executable(), "ask", "What happened yesterday?", "--as-of", "0001-01-01"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    said = done.stdout + done.stderr
    assert done.returncode == 2 and "Traceback" not in said and "as_of 0001-01-01 is outside" in said, said[-2000:]


def test_filters_that_cannot_match_and_questions_without_words_are_422(client: TestClient) -> None:
    """Item 21: since after until gave 200 with nothing; a query of zero-width or direction-override characters
    returned arbitrary passages."""
    backwards = {"since": "2024-05-01", "until": "2024-01-01"}
    for response in (
        client.post("/v1/ask", json={"question": SEED_QUESTION, "filters": backwards}),
        client.post("/v1/ask/stream", json={"question": SEED_QUESTION, "filters": backwards}),
        client.get("/v1/search", params={"q": SEED_QUESTION, **backwards}),
    ):
        assert response.status_code == 422 and "after until" in response.json()["message"], response.text
    for invisible in ("\u200b\u200c\u200d", "\u202e\u202d\u2066", "\u200b ? \u2069", "\ufeff!!"):
        for response in (
            client.post("/v1/ask", json={"question": invisible}),
            client.get("/v1/search", params={"q": invisible}),
        ):
            assert response.status_code == 422 and "no letters" in response.json()["message"], (invisible, response)
    assert client.post("/v1/ask", json={"question": "Xiaomi\u200b plant output?"}).status_code == 200
