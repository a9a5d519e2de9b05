"""Shared fixtures: the real model, built once per session; a real Chroma in a temporary folder per test."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pytest_socket import disable_socket, enable_socket

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["ANONYMIZED_TELEMETRY"] = "False"
for _name in [n for n in os.environ if n.startswith("NEWSDESK_")]:
    del os.environ[_name]  # tests never pick up a developer's own settings

from retrieval.core.config import Settings  # noqa: E402
from retrieval.embed.embedder import Embedder, OnnxEmbedder  # noqa: E402
from retrieval.service import Newsdesk  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
SHARED = Path(os.environ.get("NEWSDESK_SHARED_DIR", ROOT.parent / "shared"))
MULTIHOP = SHARED / "data" / "multihop-rag"
SEED_QUESTION = "What annual output is planned for Xiaomi's own plant?"

pytest_plugins = ["tests.support.llm_fixtures"]  # the scripted model server the LLM tests share


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Unit tests may not open sockets; the rest may (loopback only: nothing else is reachable)."""
    if "unit" in Path(str(item.path)).parts:
        disable_socket(allow_unix_socket=True)
    else:
        enable_socket()


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache shared by the whole session (and its subprocesses), so the ONNX export runs once."""
    path = Path(os.environ.get("NEWSDESK_TEST_MODEL_CACHE", tmp_path_factory.mktemp("model-cache")))
    os.environ["NEWSDESK_TEST_MODEL_CACHE"] = str(path)
    return path


@pytest.fixture(scope="session", autouse=True)
def _spacy_imported() -> None:
    """spaCy is imported once, here, before any test starts threads: the answerer loads it on first use, and
    a first import from a server's thread beside pytest's own imports can trip CPython 3.11's compiler
    ("AST constructor recursion depth mismatch")."""
    import spacy  # noqa: F401


@pytest.fixture(scope="session")
def embedder(model_cache: Path) -> Embedder:
    return OnnxEmbedder(model_cache, batch_size=16)


@pytest.fixture(scope="session")
def int8_embedder(model_cache: Path) -> OnnxEmbedder:
    """NEWSDESK_EMBEDDER=onnx-int8: the quantised copy of the model (made once per session from the export)."""
    return OnnxEmbedder(model_cache, batch_size=16, workers=1, quantised=True)


@pytest.fixture
def make_settings(tmp_path: Path, model_cache: Path) -> Callable[..., Settings]:
    def make(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "data_dir": tmp_path / "data",
            "model_cache_dir": model_cache,
            "corpus_dir": CORPUS,
        }
        values.update(overrides)
        return Settings(**values)  # type: ignore[arg-type]

    return make


@pytest.fixture
def make_service(make_settings: Callable[..., Settings], embedder: Embedder) -> Iterator[Callable[..., Newsdesk]]:
    def make(**overrides: object) -> Newsdesk:
        return Newsdesk(make_settings(**overrides), embedder=embedder)

    yield make


@pytest.fixture
def seed_service(make_service: Callable[..., Newsdesk]) -> Newsdesk:
    service = make_service()
    report = service.ingest([str(CORPUS)], prune=True)
    assert not report.failed, report.failed
    return service


def subprocess_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDESK_")}
    env.update(
        NEWSDESK_DATA_DIR=str(data_dir),
        NEWSDESK_MODEL_CACHE_DIR=os.environ.get("NEWSDESK_TEST_MODEL_CACHE", ""),
        # as the `embedder` fixture: a test's own process and the ones it starts share indexes (the default,
        # for a new index, is tested in test_embedder_default.py)
        NEWSDESK_EMBEDDER="onnx",
        HF_HUB_OFFLINE="1",
        ANONYMIZED_TELEMETRY="False",
    )
    env.update(extra)
    return env
