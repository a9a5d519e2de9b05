"""`make bench`: run every benchmark (bench/*.py with a main), then write bench/results/summary.md.

Each benchmark writes its own JSON under bench/results/; the summary table collects the ratios and target
checks from whatever results are there, so a benchmark that failed keeps its last good result visible
(with its date).

Usage: python bench/run_all.py [--only NAME ...] [--skip NAME ...] [--summary-only]
Extra arguments for one benchmark: NEWSDESK_BENCH_ARGS_<NAME>="--limit 60" (e.g. ..._INGEST).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
HELPERS = {"__init__", "common", "run_all", "synthetic", "serving"}
# cheap ones first; memory builds the shared synthetic indexes that cold_start and chroma_modes reuse
ORDER = [
    "search", "train_rerank", "http_load", "answer", "embedder_answers", "memory", "cold_start", "chroma_modes",
    "ingest", "sync_cost", "search_compare",
    "llm_gate", "llm_answers", "attribution",  # attribution reads the answers llm_answers recorded
    "time_questions", "stories",
]  # fmt: skip


def benchmarks() -> list[str]:
    found = sorted(
        p.stem for p in BENCH.glob("*.py") if p.stem not in HELPERS and "__main__" in p.read_text(encoding="utf-8")
    )
    return sorted(found, key=lambda name: (ORDER.index(name) if name in ORDER else len(ORDER), name))


def run(name: str) -> tuple[int, float]:
    extra = shlex.split(os.environ.get(f"NEWSDESK_BENCH_ARGS_{name.upper()}", ""))
    started = time.perf_counter()
    print(f"\n=== bench/{name}.py {' '.join(extra)}", flush=True)
    code = subprocess.call([sys.executable, str(BENCH / f"{name}.py"), *extra], cwd=BENCH.parent)
    return code, time.perf_counter() - started


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(f"{prefix}.{key}" if prefix else key, inner, out)
    else:
        out[prefix] = value


def summary_rows() -> list[tuple[str, str, str, str]]:
    """(benchmark, measure, value, when) for every ratio and target check in bench/results/*.json."""
    rows = []
    for path in sorted(RESULTS.glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        when = str(data.get("when", ""))[:16]
        name = str(data.get("benchmark", path.stem))
        for section in ("ratios", "meets_target", "targets"):
            if section not in data:
                continue
            flat: dict[str, Any] = {}
            _flatten(section if not isinstance(data[section], dict) else "", data[section], flat)
            for key, value in flat.items():
                label = f"target {key}" if section == "targets" else key
                rows.append((name, label, str(value), when))
    return rows


def write_summary() -> Path:
    lines = ["| benchmark | measure | value | when (UTC) |", "|---|---|---|---|"]
    lines += [f"| {b} | {m} | {v} | {w} |" for b, m, v, w in summary_rows()]
    path = RESULTS / "summary.md"
    RESULTS.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--skip", nargs="*", default=[])
    parser.add_argument("--summary-only", action="store_true")
    args = parser.parse_args()
    failures = []
    if not args.summary_only:
        for name in benchmarks():
            if (args.only and name not in args.only) or name in args.skip:
                continue
            code, seconds = run(name)
            print(f"=== bench/{name}.py: exit {code} after {seconds:.0f}s", flush=True)
            if code != 0:
                failures.append(name)
    write_summary()
    if failures:
        sys.exit(f"benchmarks that failed: {', '.join(failures)}")


if __name__ == "__main__":
    main()
