"""NEWSDESK_EMBEDDER unset: a new index gets the default embedder, an existing one keeps the kind it records
(an unlabelled one, made before the label, is fp32's); an explicit setting that disagrees is refused."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from retrieval.core.config import Settings
from retrieval.core.errors import EmbedderMismatch
from retrieval.core.types import Question
from retrieval.embed.embedder import (
    DEFAULT_EMBEDDER,
    EMBEDDERS,
    FP32_VECTORS,
    INT8_FULL_RANGE_VECTORS,
    INT8_VECTORS,
    Embedder,
    vectors_of,
)
from retrieval.service import Newsdesk
from retrieval.storage.vector_label import EMBEDDER_KEY
from tests.conftest import CORPUS, ROOT, SEED_QUESTION, subprocess_env
from tests.support.inside import chroma_count, collection_metadata, set_collection_metadata

pytestmark = pytest.mark.integration


def _settings(data: Path, model_cache: Path, **values: object) -> Settings:
    return Settings(data_dir=data, model_cache_dir=model_cache, corpus_dir=CORPUS, llm=None, **values)  # type: ignore[arg-type]


def _fp32_index(data: Path, model_cache: Path, embedder: Embedder, labelled: bool) -> None:
    """The seed corpus indexed with fp32 vectors; `labelled=False`: as the code before the label left it."""
    service = Newsdesk(_settings(data, model_cache, embedder="onnx"), embedder=embedder)
    assert not service.ingest([str(CORPUS)], prune=True).failed
    if not labelled:
        meta = collection_metadata(service)
        meta.pop(EMBEDDER_KEY)
        set_collection_metadata(service, meta or {"last_sync": "2024-05-02T10:00:00+00:00"})
        assert EMBEDDER_KEY not in collection_metadata(service)
    service.close()


@pytest.fixture(params=sorted({DEFAULT_EMBEDDER, "onnx-int8"}))
def default(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The shipped default, and int8 as the default (what switching it would do to existing indexes)."""
    monkeypatch.setattr("retrieval.embed.embedder.DEFAULT_EMBEDDER", request.param)
    return str(request.param)


def test_a_new_index_gets_the_default_embedder(tmp_path: Path, model_cache: Path, default: str) -> None:
    service = Newsdesk(_settings(tmp_path / "data", model_cache))
    assert service.settings.embedder == default
    assert vectors_of(service.embedder) == EMBEDDERS[default]
    assert collection_metadata(service)[EMBEDDER_KEY] == EMBEDDERS[default]
    assert not service.ingest([str(CORPUS)], prune=True).failed
    assert service.search(SEED_QUESTION, 3)
    service.close()
    again = Newsdesk(_settings(tmp_path / "data", model_cache))  # a restart keeps it
    assert vectors_of(again.embedder) == EMBEDDERS[default]
    again.close()


@pytest.mark.parametrize("labelled", [True, False], ids=["labelled", "unlabelled"])
def test_an_existing_fp32_index_keeps_its_embedder(
    tmp_path: Path, model_cache: Path, embedder: Embedder, labelled: bool, default: str
) -> None:
    data = tmp_path / "data"
    _fp32_index(data, model_cache, embedder, labelled)
    service = Newsdesk(_settings(data, model_cache))
    assert service.settings.embedder == "onnx" and vectors_of(service.embedder) == FP32_VECTORS
    answer = service.ask(Question(question=SEED_QUESTION))
    assert not answer.abstained and answer.citations
    assert service.ingest([str(CORPUS)], prune=True).chunks_embedded == 0  # nothing re-embedded
    service.close()


def test_an_existing_int8_index_keeps_its_embedder(
    tmp_path: Path, model_cache: Path, int8_embedder: Embedder, default: str
) -> None:
    data = tmp_path / "data"
    seeded = Newsdesk(_settings(data, model_cache, embedder="onnx-int8"), embedder=int8_embedder)
    assert not seeded.ingest([str(CORPUS)], prune=True).failed
    seeded.close()
    service = Newsdesk(_settings(data, model_cache))
    assert service.settings.embedder == "onnx-int8" and vectors_of(service.embedder) == INT8_VECTORS
    assert service.search(SEED_QUESTION, 3)
    service.close()


def test_an_index_of_the_earlier_full_range_int8_recipe_still_opens(tmp_path: Path, model_cache: Path) -> None:
    """int8 indexes built before the 7-bit recipe (issue 28) hold full-range vectors: they keep working, under
    their own name, and say what they hold; a new int8 index gets the 7-bit recipe's vectors."""
    data = tmp_path / "data"
    seeded = Newsdesk(_settings(data, model_cache, embedder="onnx-int8-full-range"))
    assert not seeded.ingest([str(CORPUS)], prune=True).failed
    seeded.close()
    service = Newsdesk(_settings(data, model_cache))
    assert service.settings.embedder == "onnx-int8-full-range"
    assert service.stats().vectors == INT8_FULL_RANGE_VECTORS != INT8_VECTORS
    assert not service.ask(Question(question=SEED_QUESTION)).abstained
    service.close()
    with pytest.raises(EmbedderMismatch, match="set NEWSDESK_EMBEDDER=onnx-int8-full-range to use this index"):
        Newsdesk(_settings(data, model_cache, embedder="onnx-int8"))


def test_an_explicit_setting_that_disagrees_with_the_index_is_refused(
    tmp_path: Path, model_cache: Path, embedder: Embedder
) -> None:
    data = tmp_path / "data"
    _fp32_index(data, model_cache, embedder, labelled=False)
    with pytest.raises(EmbedderMismatch, match="set NEWSDESK_EMBEDDER=onnx to use this index"):
        Newsdesk(_settings(data, model_cache, embedder="onnx-int8"))
    # the command line, as an operator meets it: unset works, the disagreeing setting stops with the way out
    command = [sys.executable, "-c", "from bot.cli import app; app()", "search", SEED_QUESTION]
    env = subprocess_env(data)
    del env["NEWSDESK_EMBEDDER"]
    unset = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert unset.returncode == 0 and "Xiaomi" in unset.stdout, unset.stderr
    refused = subprocess.run(
        command, cwd=ROOT, env=subprocess_env(data, NEWSDESK_EMBEDDER="onnx-int8"), capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert refused.returncode != 0
    assert "NEWSDESK_EMBEDDER=onnx to use this index" in refused.stderr + refused.stdout
    assert chroma_count(Newsdesk(_settings(data, model_cache))) > 0  # nothing was lost
