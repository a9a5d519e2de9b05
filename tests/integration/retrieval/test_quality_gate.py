"""The quality gate: no change lowers retrieval or offline answer figures unnoticed, on any x86 CPU.

The questions, articles and floors live in tests/support/quality_gate.py: the floors sit a stated margin under
the worst figures bench/quality_gate.py measured over the embedders, the CPU kinds and repeated builds, so a
machine difference does not fail the suite. The gate is also shown to see: the re-ranking trees turned off,
or the abstention threshold moved by 0.05, each fall past a floor. Raise the floors when the figures rise
(re-run the benchmark); lower one only with a reason in the commit.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from retrieval.core.config import Settings
from retrieval.embed.embedder import Embedder
from retrieval.service import Newsdesk
from tests.support.quality_gate import answer_figures, breaches, retrieval_figures, subset

pytestmark = [pytest.mark.integration, pytest.mark.slow]

Gate = tuple[Newsdesk, list, dict[str, object]]


@pytest.fixture(scope="module", params=["onnx", "onnx-int8"])
def gate(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, model_cache: Path) -> Gate:
    """Both embedders an index can be built with: fp32 and int8 (the default for new indexes)."""
    embedder: Embedder = request.getfixturevalue("embedder" if request.param == "onnx" else "int8_embedder")
    questions, articles = subset()
    folder = tmp_path_factory.mktemp("quality-gate")
    (folder / "articles.json").write_text(json.dumps(articles), encoding="utf-8")
    base: dict[str, object] = {
        "data_dir": folder / "data",
        "model_cache_dir": model_cache,
        "llm": None,
        "embedder": request.param,
    }
    service = Newsdesk(Settings(**base), embedder=embedder)  # type: ignore[arg-type]
    ingested = service.ingest([str(folder / "articles.json")])
    assert not ingested.failed and len(ingested.added) == len(articles)
    return service, questions, {"base": base, "embedder": embedder}


def test_retrieval_stays_above_its_floors(gate: Gate) -> None:
    service, questions, _ = gate
    figures = retrieval_figures(service, questions)
    print("quality gate, retrieval:", figures)
    assert not breaches(figures), figures


def test_offline_answers_stay_above_their_floors(gate: Gate) -> None:
    service, questions, _ = gate
    figures = answer_figures(service, questions)
    print("quality gate, answers:", figures)
    assert figures["citation_validity"] == 1.0
    assert not breaches(figures), figures


@pytest.mark.parametrize(
    "regression", [{"rerank": False}, {"abstain_threshold": -0.05}, {"abstain_threshold": +0.05}], ids=str
)
def test_the_gate_sees_an_injected_regression(gate: Gate, regression: dict[str, object]) -> None:
    """A gate whose floors a real regression passes would guard nothing: each of these must breach one."""
    service, questions, made = gate
    overrides = dict(regression)
    if isinstance(shift := overrides.get("abstain_threshold"), float):
        overrides["abstain_threshold"] = service.settings.abstain_threshold + shift
    worse = Newsdesk(Settings(**made["base"], **overrides), embedder=made["embedder"])  # type: ignore[arg-type]
    try:
        figures = {**retrieval_figures(worse, questions), **answer_figures(worse, questions)}
    finally:
        worse.close()
    print("quality gate with", regression, figures)
    assert breaches(figures), f"the gate passes {regression}: {figures}"

