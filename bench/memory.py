"""Memory (RSS) of a serving process: `newsdesk serve` on an empty index, at 1x and at 10x the MultiHop corpus.

RSS is read from /proc after start-up and again after answering questions (peak = VmHWM). The ratios are
against the empty-index process measured in the same run (what the model, Python and the libraries cost)
and 10x against 1x. Target: RSS <= 1.5 GB at 10x. How the 10x index is made: see bench/synthetic.py.

Usage: python bench/memory.py [--questions N] [--limit ARTICLES]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import write_result  # noqa: E402
from bench.serving import ask_all, questions, rss_mb, serve_env, start_server  # noqa: E402
from bench.synthetic import METHOD, cached_index, model_cache, warm_model_cache  # noqa: E402

TARGET_MB = 1536


def measure(data_dir: Path, n_questions: int, log: Path) -> dict[str, object]:
    server, ready_seconds = start_server(serve_env(data_dir, model_cache()), log)
    try:
        assert server.process is not None
        at_start = rss_mb(server.process.pid)
        statuses = ask_all(server.url, questions(n_questions))
        after = rss_mb(server.process.pid)
    finally:
        server.stop()
    return {
        "ready_seconds": round(ready_seconds, 2),
        "rss_after_start_mb": at_start["rss_mb"],
        "rss_after_questions_mb": after["rss_mb"],
        "peak_rss_mb": after["peak_rss_mb"],
        "questions": len(statuses),
        "non_200": sum(s != 200 for s in statuses),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--questions", type=int, default=30)
    parser.add_argument("--limit", type=int, default=None, help="articles per copy (default: all 609)")
    args = parser.parse_args()
    embedder = warm_model_cache()
    logs = Path(tempfile.mkdtemp(prefix="newsdesk-memory-"))
    results: dict[str, dict[str, object]] = {}
    for name, scale in (("empty", 0), ("x1", 1), ("x10", 10)):
        data_dir, info = cached_index(scale, embedder, args.limit)
        results[name] = {
            **{k: v for k, v in info.items() if k != "method"},
            **measure(data_dir, args.questions, logs / f"{name}.log"),
        }
        print(name, results[name], flush=True)

    def peak(name: str) -> float:
        return float(results[name]["peak_rss_mb"])  # type: ignore[arg-type]

    write_result(
        "memory",
        {
            "what": "RSS of one `newsdesk serve` process (embedded Chroma, extractive answers) after start-up "
            "and after answering MultiHop questions",
            "index_method": METHOD,
            "limit": args.limit,
            "results": results,
            "ratios": {
                "x1_vs_empty_peak": round(peak("x1") / peak("empty"), 2),
                "x10_vs_empty_peak": round(peak("x10") / peak("empty"), 2),
                "x10_vs_x1_peak": round(peak("x10") / peak("x1"), 2),
            },
            "targets": {"x10_peak_rss_mb": f"<= {TARGET_MB}"},
            "meets_target": peak("x10") <= TARGET_MB,
        },
    )


if __name__ == "__main__":
    main()
