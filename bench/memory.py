"""Memory (RSS) of a serving process: `newsdesk serve` on an empty index, at 1x and at 10x the MultiHop corpus.

RSS is read from /proc after start-up and again after answering questions (peak = VmHWM). The ratios are
against the empty-index process measured in the same run (what the model, Python and the libraries cost)
and 10x against 1x. Target: RSS <= 1.5 GB at 10x. How the 10x index is made: see bench/synthetic.py.

Usage: python bench/memory.py [--questions N] [--limit ARTICLES]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import write_result  # noqa: E402
from bench.serving import ask_all, questions, rss_mb, serve_env, start_server  # noqa: E402
from bench.synthetic import METHOD, cached_index, model_cache, warm_model_cache  # noqa: E402
from tests.support.chroma_server import ChromaServer  # noqa: E402

TARGET_MB = 1536


def measure(data_dir: Path, n_questions: int, log: Path, env: dict[str, str] | None = None) -> dict[str, object]:
    server, ready_seconds = start_server(env or serve_env(data_dir, model_cache()), log)
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


def measure_server_mode(data_dir: Path, n_questions: int, logs: Path) -> dict[str, object]:
    """One replica against `chroma run` serving a copy of the same index: what each replica costs when the
    vectors live in the Chroma server, and what the server itself holds."""
    work = Path(tempfile.mkdtemp(prefix="newsdesk-memory-server-"))
    shutil.copytree(data_dir / "chroma", work / "chroma")
    shutil.copytree(data_dir / "lexical", work / "replica" / "lexical")
    with ChromaServer(work / "chroma") as chroma:
        assert chroma.pid is not None
        env = serve_env(work / "replica", model_cache(), NEWSDESK_CHROMA_URL=chroma.url)
        replica = measure(work / "replica", n_questions, logs / "server-mode.log", env)
        server_rss = rss_mb(chroma.pid)
    shutil.rmtree(work, ignore_errors=True)
    return {
        **replica,
        "chroma_server_rss_mb": server_rss["rss_mb"],
        "chroma_server_peak_rss_mb": server_rss["peak_rss_mb"],
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
    x10_dir, x10_info = cached_index(10, embedder, args.limit)
    results["x10_server_mode"] = {
        **{k: v for k, v in x10_info.items() if k != "method"},
        **measure_server_mode(x10_dir, args.questions, logs),
    }
    print("x10_server_mode", results["x10_server_mode"], flush=True)

    def peak(name: str) -> float:
        return float(results[name]["peak_rss_mb"])  # type: ignore[arg-type]

    write_result(
        "memory",
        {
            "what": "RSS of one `newsdesk serve` process (embedded Chroma, extractive answers) after start-up "
            "and after answering MultiHop questions; x10_server_mode: one replica against `chroma run` "
            "serving the same 10x index, plus the Chroma server's own RSS",
            "index_method": METHOD,
            "load_average_1_5_15_min": [round(x, 1) for x in os.getloadavg()],
            "limit": args.limit,
            "results": results,
            "ratios": {
                "x1_vs_empty_peak": round(peak("x1") / peak("empty"), 2),
                "x10_vs_empty_peak": round(peak("x10") / peak("empty"), 2),
                "x10_vs_x1_peak": round(peak("x10") / peak("x1"), 2),
                "x10_replica_server_mode_vs_embedded_peak": round(peak("x10_server_mode") / peak("x10"), 2),
            },
            "targets": {"x10_peak_rss_mb": f"<= {TARGET_MB}"},
            "meets_target": peak("x10") <= TARGET_MB,
        },
    )


if __name__ == "__main__":
    main()
