"""The quality gate's figures over what varies between machines and runs, and two injected regressions (issue 28).

For each embedder (fp32 `onnx`, int8 `onnx-int8`, and the full-range int8 recipe of older indexes) and each of
`--builds` fresh builds of the gate's index (tests/support/quality_gate.py: its fixed questions, evidence and
distractors), the gate's figures are measured as shipped, with the re-ranking trees off, and with the
abstention threshold moved by -0.05 and +0.05. The result shows the spread the floors must allow (the worst
shipped value per figure) and whether each regression falls past a floor (it must, or the gate is blind to it).

The CPU is recorded; run it on each kind of CPU at hand (`newsdesk stats` shows the features).

Usage: python bench/quality_gate.py [--embedders onnx,onnx-int8,onnx-int8-full-range] [--builds 2]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from bench.common import write_result  # noqa: E402
from retrieval.core.config import Settings  # noqa: E402
from retrieval.embed.embedder import cpu_features, make_embedder  # noqa: E402
from retrieval.service import Newsdesk  # noqa: E402
from tests.support.quality_gate import (  # noqa: E402
    LOWER_IS_BETTER,
    answer_figures,
    breaches,
    floors,
    retrieval_figures,
    subset,
)

SHIFT = 0.05


def measure(embedder_name: str, build: int, cache: Path) -> dict[str, Any]:
    questions, articles = subset()
    embedder = make_embedder(embedder_name, cache, batch_size=16)
    with tempfile.TemporaryDirectory(prefix="gate-") as folder:
        (Path(folder) / "articles.json").write_text(json.dumps(articles), encoding="utf-8")
        base = {"data_dir": Path(folder) / "data", "model_cache_dir": cache, "llm": None, "embedder": embedder_name}
        started = time.perf_counter()
        service = Newsdesk(Settings(**base), embedder=embedder)  # type: ignore[arg-type]
        report = service.ingest([str(Path(folder) / "articles.json")])
        assert not report.failed, report.failed
        built_s = time.perf_counter() - started
        shipped = {**retrieval_figures(service, questions), **answer_figures(service, questions)}
        threshold = service.settings.abstain_threshold
        service.close()
        variants: dict[str, dict[str, float]] = {}
        for name, overrides in {
            "rerank off": {"rerank": False},
            f"threshold -{SHIFT}": {"abstain_threshold": threshold - SHIFT},
            f"threshold +{SHIFT}": {"abstain_threshold": threshold + SHIFT},
        }.items():
            other = Newsdesk(Settings(**base, **overrides), embedder=embedder)  # type: ignore[arg-type]
            variants[name] = {**retrieval_figures(other, questions), **answer_figures(other, questions)}
            other.close()
    print(f"{embedder_name} build {build}: {shipped}", file=sys.stderr, flush=True)
    return {"embedder": embedder_name, "build": build, "build_s": round(built_s, 1), "shipped": shipped, **variants}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--embedders", default="onnx,onnx-int8,onnx-int8-full-range")
    parser.add_argument("--builds", type=int, default=2)
    parser.add_argument("--model-cache", type=Path, default=Settings().model_cache_dir)
    args = parser.parse_args()
    runs = [measure(name, b, args.model_cache) for name in args.embedders.split(",") for b in range(args.builds)]
    figures = [name for name in runs[0]["shipped"] if name != "citation_validity"]
    worst = {
        name: (max if name in LOWER_IS_BETTER else min)(run["shipped"][name] for run in runs) for name in figures
    }
    caught = {
        variant: {f"{run['embedder']} build {run['build']}": breaches(run[variant]) for run in runs}
        for variant in ("rerank off", f"threshold -{SHIFT}", f"threshold +{SHIFT}")
    }
    write_result(
        "quality_gate",
        {
            "cpu": cpu_features(),
            "runs": runs,
            "worst_shipped": worst,
            "floors_in_use": floors(),
            "shipped_breaches": {f"{r['embedder']} build {r['build']}": breaches(r["shipped"]) for r in runs},
            "regressions_caught": caught,
        },
    )


if __name__ == "__main__":
    main()
