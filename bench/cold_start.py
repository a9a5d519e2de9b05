"""Cold start to ready: `newsdesk serve` from spawn until it answers, on an empty index and at 1x.

Ready means /healthz answers 200: the service (model, Chroma, BM25, in-memory copy of the chunks) is built
in the app's lifespan, before uvicorn accepts connections, and /readyz is checked right after. The baseline,
measured in the same run and interleaved with the others, is a minimal FastAPI app under uvicorn on the
same interpreter: the floor of any Python web service here. The ONNX export is warmed first (a Docker image
has it built in). Target: <= 5 s at 1x.

Usage: python bench/cold_start.py [--repeat N] [--limit ARTICLES]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import write_result  # noqa: E402
from bench.serving import serve_env, time_to_ready  # noqa: E402
from bench.synthetic import METHOD, cached_index, model_cache, warm_model_cache  # noqa: E402
from tests.support.chroma_server import free_port, newsdesk_executable  # noqa: E402

TARGET_SECONDS = 5.0
MINIMAL_APP = """
import sys
import uvicorn
from fastapi import FastAPI

app = FastAPI()


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


def newsdesk_ready(data_dir: Path) -> float:
    port = free_port()
    env = serve_env(data_dir, model_cache())
    command = [newsdesk_executable(), "serve", "--host", "127.0.0.1", "--port", str(port)]
    return time_to_ready(command, f"http://127.0.0.1:{port}/healthz", env)


def baseline_ready(script: Path) -> float:
    port = free_port()
    return time_to_ready(
        [sys.executable, str(script), str(port)],
        f"http://127.0.0.1:{port}/healthz",
        serve_env(script.parent, model_cache()),
    )


def readyz_after_start(data_dir: Path) -> int:
    """Once /healthz answers, /readyz (the index answers) must too."""
    from tests.support.chroma_server import NewsdeskServer

    server = NewsdeskServer(serve_env(data_dir, model_cache()), data_dir.parent / "readyz.log")
    server.start(timeout=600)
    try:
        return httpx.get(f"{server.url}/readyz", timeout=30).status_code
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--limit", type=int, default=None, help="articles in the 1x index (default: all 609)")
    args = parser.parse_args()
    embedder = warm_model_cache()
    empty_dir, _ = cached_index(0, embedder)
    x1_dir, x1_info = cached_index(1, embedder, args.limit)
    script = Path(tempfile.mkdtemp(prefix="newsdesk-cold-")) / "minimal_app.py"
    script.write_text(MINIMAL_APP)

    runs: dict[str, list[float]] = {"baseline_minimal_fastapi": [], "newsdesk_empty": [], "newsdesk_x1": []}
    for _ in range(args.repeat):  # interleaved, so load on the machine hits all three alike
        runs["baseline_minimal_fastapi"].append(baseline_ready(script))
        runs["newsdesk_empty"].append(newsdesk_ready(empty_dir))
        runs["newsdesk_x1"].append(newsdesk_ready(x1_dir))
        print({k: round(v[-1], 2) for k, v in runs.items()}, flush=True)
    medians = {k: round(statistics.median(v), 2) for k, v in runs.items()}
    write_result(
        "cold_start",
        {
            "what": "seconds from spawning the process until /healthz answers 200 (service fully built)",
            "index_method": METHOD,
            "load_average_1_5_15_min": [round(x, 1) for x in os.getloadavg()],
            "x1": {k: v for k, v in x1_info.items() if k != "method"},
            "repeat": args.repeat,
            "runs_seconds": {k: [round(x, 2) for x in v] for k, v in runs.items()},
            "median_seconds": medians,
            "readyz_status_right_after_ready": readyz_after_start(x1_dir),
            "ratios": {
                "x1_vs_minimal_fastapi": round(medians["newsdesk_x1"] / medians["baseline_minimal_fastapi"], 2),
                "x1_vs_empty_index": round(medians["newsdesk_x1"] / medians["newsdesk_empty"], 2),
            },
            "targets": {"newsdesk_x1_median_seconds": f"<= {TARGET_SECONDS}"},
            "meets_target": medians["newsdesk_x1"] <= TARGET_SECONDS,
        },
    )


if __name__ == "__main__":
    main()
