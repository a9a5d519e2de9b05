"""Fixtures for tests of the LLM path (a pytest plugin, registered in tests/conftest.py): a scripted
OpenAI-compatible server on 127.0.0.1, and reading back the prompt the service sent it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.openai_server import ScriptedOpenAIServer, openai_server


@pytest.fixture
def server() -> Iterator[ScriptedOpenAIServer]:
    """A scripted model server; a test scripts its replies (`server.script(...)`), the default is unused."""
    srv = openai_server(default="unused")
    try:
        yield srv
    finally:
        srv.stop()


def passage_numbers(request: dict[str, Any]) -> dict[int, str]:
    """[n] -> passage text, read back from the data section of the prompt the service sent."""
    prompt = request["messages"][-1]["content"]
    data = prompt.split("<passages>", 1)[1].split("</passages>", 1)[0]
    blocks = re.split(r"\n\n(?=\[\d+\] )", data.strip().split("\n", 1)[1])
    return {int(b[1 : b.index("]")]): b for b in blocks}
