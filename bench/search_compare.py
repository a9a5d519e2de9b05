"""Search latency and held-out retrieval of this tree's code against a baseline tree's, in one run.

Each code opens its own copy of the same 1x index (the `newsdesk eval retrieval` index: the 609 MultiHop articles,
real vectors; a baseline that keeps another lexical format builds its own from Chroma when it opens the copy) in a
child process, and measures, with that tree's own bench/search.py helpers:
- retrieval on the development questions as the service searches (its product searcher), on the held-out half
  (the half the re-ranking trees never saw) and on all of them;
- Searcher.search latency over every development question (a fresh searcher on the raw embedder, 20 warm-up
  questions first), twice per code, interleaved (new, baseline, new, baseline): the machine is shared, so
  each code's better pass counts and the ratio compares those.

Usage: python bench/search_compare.py [--baseline /work/main] [--eval-index DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from bench.common import ROOT, write_result  # noqa: E402

DRIVER = """
import json, sys
from pathlib import Path
from retrieval.core.config import Settings
from evaluation.passages import load_queries
from retrieval.service import Newsdesk
from bench.common import MULTIHOP
from bench.search import halves, latency, quality
service = Newsdesk(Settings(data_dir=Path(sys.argv[1]), sentence_vectors=True))
queries = load_queries(MULTIHOP / "queries-dev.json")
out = {}
if sys.argv[2] == "quality":
    figures = quality(service.searcher, queries, halves(queries))
    out = {"held_out_half": figures["held_out_half"],
           "all": {k: v for k, v in figures["all"].items() if k != "by_type"}}
else:
    out = latency(service.index, service.embedder, [q.query for q in queries])
print("RESULT " + json.dumps(out))
"""


def run(code: Path, data_dir: Path, what: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDESK_") or k == "NEWSDESK_MULTIHOP_DIR"}
    env.update(PYTHONPATH=str(code), NEWSDESK_LOG_LEVEL="WARNING", HF_HUB_OFFLINE="1", ANONYMIZED_TELEMETRY="False")
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, str(data_dir), what], cwd=code, env=env, capture_output=True, text=True
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode or not lines:
        raise RuntimeError(f"{what} in {code} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(lines[-1][len("RESULT ") :])
    print(code, what, json.dumps(result)[:300], file=sys.stderr, flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", type=Path, default=ROOT.parent / "main")
    parser.add_argument("--eval-index", type=Path, default=Path(tempfile.gettempdir()) / "nd-eval")
    args = parser.parse_args()
    codes = {"new": ROOT, "baseline": args.baseline.resolve()}
    work = Path(tempfile.mkdtemp(prefix="newsdesk-search-compare-"))
    try:
        dirs = {}
        for name in codes:
            dirs[name] = work / name
            shutil.copytree(args.eval_index, dirs[name], symlinks=True)
            shutil.rmtree(dirs[name] / "lexical", ignore_errors=True)  # each code builds its own from Chroma
        results: dict[str, dict[str, Any]] = {name: {} for name in codes}
        for name, code in codes.items():
            results[name]["retrieval"] = run(code, dirs[name], "quality")
        for round_ in (1, 2):
            for name, code in codes.items():
                results[name][f"latency_pass_{round_}"] = run(code, dirs[name], "latency")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def best(name: str, key: str) -> float:
        return min(results[name]["latency_pass_1"][key], results[name]["latency_pass_2"][key])

    ratios = {f"{k}_new_vs_baseline": round(best("new", k) / best("baseline", k), 2) for k in ("p50_ms", "p95_ms")}
    held = {
        metric: round(results["new"]["retrieval"]["held_out_half"][metric]
                      - results["baseline"]["retrieval"]["held_out_half"][metric], 4)
        for metric in ("Hits@4", "Hits@10", "MRR@10", "MAP@10")
    }  # fmt: skip
    write_result(
        "search_compare",
        {
            "what": __doc__.split("\n\n")[0] if __doc__ else "",
            "baseline_code": str(args.baseline),
            "eval_index": str(args.eval_index),
            "load_average_1_5_15_min": [round(x, 1) for x in os.getloadavg()],
            "results": results,
            "ratios": ratios,
            "held_out_new_minus_baseline": held,
            "targets": {"search_p95_vs_baseline": 1.1, "held_out_not_lower": True},
            "meets_target": {
                "search_p95_vs_baseline": ratios["p95_ms_new_vs_baseline"] <= 1.1,
                "held_out_not_lower": all(v >= 0 for v in held.values()),
            },
        },
    )


if __name__ == "__main__":
    main()
