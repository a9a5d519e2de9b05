"""HTTP load on loopback: POST /v1/ask from 1, 8 and 32 concurrent clients against a real uvicorn process.

The server is `uvicorn --factory bot.api:app_from_env` (extractive answers, no rate limit) on a real index of
the 609 MultiHop-RAG articles, built once in DIR and reused (ingest is incremental: ~6 minutes the first time
on two cores, seconds afterwards). The clients take the development questions in turn from one shared
sequence, so no question comes back before all 681 have been asked. Each level runs for a fixed time (and at
most a fixed number of requests), then stops by itself.
Each level also reports the share of vector lookups (questions, answer sentences) that were not embedded,
read from the server's /metrics: answered from memory, or from the sentence vectors embedded ahead of the
questions. The server runs as shipped: it embeds the index's answer sentences in the background after
start (minutes, the first time, on one core at the lowest priority); the load starts once that is done.
The same levels then run again against a server with NEWSDESK_SENTENCE_VECTORS=false, the same questions
in the same order: that is the baseline for what the sentence vectors save.
A third pass runs the shipped server with NEWSDESK_RERANK=false: what the search's learned re-ranking costs.

Baselines, measured in the same run: the engine alone (Newsdesk.ask in-process, one question at a time, no
HTTP), and GET /healthz under the same load (the floor of the HTTP stack). Target (2 cores, extractive):
0 errors, and p95 <= 250 ms at 8 clients.

Usage: python bench/http_load.py [--data-dir DIR] [--clients 1 8 32] [--seconds 20] [--max-requests 3000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from bench.common import MULTIHOP, stop_process, summarise, write_result  # noqa: E402
from bench.serving import questions, serve_env  # noqa: E402
from retrieval.core.types import Question
from tests.support.chroma_server import free_port  # noqa: E402

TARGET_P95_MS_AT_8 = 250.0
DEFAULT_DIR = Path("/tmp/newsdesk-bench-http")
MODEL_CACHE = Path(os.environ.get("NEWSDESK_MODEL_CACHE_DIR", Path.home() / ".cache" / "newsdesk"))


# ------------------------------------------------------------------ the index and the engine baseline


def prepare(data_dir: Path, n_questions: int) -> dict[str, Any]:
    """In a child process (Chroma embedded is not process-safe): sync the corpus, then time ask() alone."""
    from retrieval.core.config import Settings
    from retrieval.service import Newsdesk

    settings = Settings(data_dir=data_dir, model_cache_dir=MODEL_CACHE, llm=None)
    service = Newsdesk(settings)
    report = service.ingest([str(MULTIHOP / "corpus.json")])
    if report.failed:
        raise SystemExit(f"corpus articles failed to index: {report.failed[:3]}")
    items = questions(n_questions)
    for question in items[:5]:
        service.ask(Question(question=question))  # warm
    latencies = []
    for question in items:
        started = time.perf_counter()
        service.ask(Question(question=question))
        latencies.append((time.perf_counter() - started) * 1000)
    stats = service.stats()
    return {
        "ingest": {**report.summary(), "seconds": report.seconds},
        "index": {"articles": stats.articles, "chunks": stats.chunks},
        "engine_ask": summarise(latencies),
    }


# ------------------------------------------------------------------ the server


class Server:
    def __init__(self, data_dir: Path, log: Path, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.env = serve_env(data_dir, MODEL_CACHE) | (env or {})
        self.env.pop("NEWSDESK_LLM", None)
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        command = [
            sys.executable, "-m", "uvicorn", "--factory", "bot.api:app_from_env", "--host", "127.0.0.1",
            "--port", str(self.port), "--log-level", "warning", "--no-access-log",
        ]  # fmt: skip
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command, env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"uvicorn exited with {self.process.returncode}: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise TimeoutError("the server was not ready within 300 s")

    def wait_for_sentence_vectors(self, timeout: float = 3600) -> dict[str, Any]:
        """Until the server has embedded its answer sentences (it does so in the background after start)."""
        started = time.monotonic()
        shown = -1
        while time.monotonic() - started < timeout:
            stats = httpx.get(f"{self.url}/v1/stats", timeout=30).json()
            if not stats["sentence_vectors_filling"]:
                return {"stored": stats["sentence_vectors"], "waited_s": round(time.monotonic() - started, 1)}
            if stats["sentence_vectors_pending"] != shown and stats["sentence_vectors_pending"]:
                shown = stats["sentence_vectors_pending"]
                print(f"  {shown} answer sentences still to embed in the background ...", flush=True)
            time.sleep(2)
        raise TimeoutError(f"the sentence vectors were not ready within {timeout:.0f} s")

    def __exit__(self, *_: object) -> None:
        if self.process is not None and self.process.poll() is None:
            stop_process(self.process, 20)


# ------------------------------------------------------------------ the load


class Questions:
    """The development questions in one shared sequence: every request asks the next one, across clients and
    levels, so the server sees no question again until the whole set has gone by (its vector caches hold
    far fewer than that: no cache hit flatters the figures)."""

    def __init__(self, items: list[str]) -> None:
        self.items, self.next = items, 0

    def take(self) -> str:
        cycle, i = divmod(self.next, len(self.items))
        self.next += 1
        # past the end the questions come back reworded, so the question's own vector is never remembered
        return self.items[i] if cycle == 0 else f"{self.items[i]} (asked again, {cycle})"


async def load(
    base: str, clients: int, seconds: float, max_requests: int, items: Questions, path: str = "/v1/ask"
) -> dict[str, Any]:
    """`clients` concurrent loops, each sending its next request as soon as the last one is answered."""
    latencies: list[float] = []
    errors: dict[str, int] = {}
    sent = 0
    deadline = time.perf_counter() + seconds

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal sent
        while time.perf_counter() < deadline and sent < max_requests:
            sent += 1
            question = items.take()
            started = time.perf_counter()
            try:
                if path == "/v1/ask":
                    response = await http.post(path, json={"question": question})
                else:
                    response = await http.get(path)
                ok = response.status_code == 200 and (path != "/v1/ask" or "answer" in response.json())
                key = "ok" if ok else f"http_{response.status_code}"
            except httpx.HTTPError as exc:
                key = type(exc).__name__
            if key == "ok":
                latencies.append((time.perf_counter() - started) * 1000)
            else:
                errors[key] = errors.get(key, 0) + 1

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return {
        "clients": clients,
        "seconds": round(elapsed, 2),
        "requests": sent,
        "errors": sum(errors.values()),
        "error_kinds": errors,
        "throughput_rps": round(len(latencies) / elapsed, 2) if elapsed else 0.0,
        **summarise(latencies),
    }


def vector_cache(base: str) -> dict[str, float]:
    """The server's vector-cache lookups so far (from /metrics): questions and sentences remembered or embedded."""
    found = {"hit": 0.0, "miss": 0.0}
    for line in httpx.get(f"{base}/metrics", timeout=30).text.splitlines():
        for result in found:
            if line.startswith(f'newsdesk_vector_cache_lookups_total{{result="{result}"}} '):
                found[result] = float(line.rsplit(" ", 1)[1])
    return found


def run_levels(
    server: Server, args: argparse.Namespace, floor: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Every concurrency level against one server, the questions from the start of the shared sequence."""
    items = Questions(questions(args.questions))
    levels = []
    warm = Questions([f"Which warm-up step number {i} did the benchmark take?" for i in range(50)])
    asyncio.run(load(server.url, 2, 3.0, 50, warm))  # warm: thread pools, connections (no dev question)
    for clients in args.clients:
        print(f"  {clients} client(s) for {args.seconds:.0f} s ...", flush=True)
        before = vector_cache(server.url)
        level = asyncio.run(load(server.url, clients, args.seconds, args.max_requests, items))
        after = vector_cache(server.url)
        lookups = (after["hit"] - before["hit"]) + (after["miss"] - before["miss"])
        level["vector_cache_hit_share"] = round((after["hit"] - before["hit"]) / lookups, 3) if lookups else 0.0
        levels.append(level)
        if floor is not None:
            floor.append(asyncio.run(load(server.url, clients, 3.0, 1000, items, path="/healthz")))
    return levels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--seconds", type=float, default=20.0, help="per concurrency level")
    parser.add_argument("--max-requests", type=int, default=3000, help="per concurrency level")
    parser.add_argument("--questions", type=int, default=681, help="development questions to cycle through")
    parser.add_argument("--prepare-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.prepare_only:  # the child process
        print(json.dumps(prepare(args.data_dir, min(args.questions, 200))))
        return

    args.data_dir.mkdir(parents=True, exist_ok=True)
    print(f"syncing the index in {args.data_dir} and timing the engine alone ...", flush=True)
    child = subprocess.run(
        [
            sys.executable,
            __file__,
            "--prepare-only",
            "--data-dir",
            str(args.data_dir),
            "--questions",
            str(args.questions),
        ],
        env=serve_env(args.data_dir, MODEL_CACHE),
        capture_output=True,
        text=True,
        check=False,
    )
    if child.returncode != 0:
        raise SystemExit(f"preparing the index failed:\n{child.stderr[-3000:]}")
    prepared = json.loads(child.stdout.strip().splitlines()[-1])

    floor: list[dict[str, Any]] = []
    print("the server as shipped (answer sentences embedded ahead of the questions):", flush=True)
    with Server(args.data_dir, args.data_dir / "uvicorn.log") as server:
        sentence_vectors = server.wait_for_sentence_vectors()
        levels = run_levels(server, args, floor)
    print("baseline: the same levels and questions without the sentence vectors:", flush=True)
    with Server(args.data_dir, args.data_dir / "uvicorn.log", {"NEWSDESK_SENTENCE_VECTORS": "false"}) as server:
        without = run_levels(server, args)
    print("what the search's learned re-ranking costs: the shipped server with NEWSDESK_RERANK=false:", flush=True)
    with Server(args.data_dir, args.data_dir / "uvicorn.log", {"NEWSDESK_RERANK": "false"}) as server:
        server.wait_for_sentence_vectors()
        without_rerank = run_levels(server, args)

    by_clients = {level["clients"]: level for level in levels}
    engine = prepared["engine_ask"]
    ratios: dict[str, float] = {}
    if 1 in by_clients and engine["p50_ms"]:
        ratios["http_p50_1_client_vs_engine_p50"] = round(by_clients[1]["p50_ms"] / engine["p50_ms"], 2)
    for clients, level in by_clients.items():
        if clients != 1 and 1 in by_clients and by_clients[1]["throughput_rps"]:
            ratios[f"throughput_{clients}_vs_1_client"] = round(
                level["throughput_rps"] / by_clients[1]["throughput_rps"], 2
            )
        if engine["p95_ms"]:
            ratios[f"p95_{clients}_clients_vs_engine_p95"] = round(level["p95_ms"] / engine["p95_ms"], 2)
    without_8 = {level["clients"]: level for level in without}.get(8)
    at_8 = by_clients.get(8)
    if at_8 and without_8 and without_8["p95_ms"]:
        ratios["p95_8_clients_vs_without_sentence_vectors"] = round(at_8["p95_ms"] / without_8["p95_ms"], 2)
        ratios["throughput_8_clients_vs_without_sentence_vectors"] = round(
            at_8["throughput_rps"] / without_8["throughput_rps"], 2
        )
    unranked_8 = {level["clients"]: level for level in without_rerank}.get(8)
    if at_8 and unranked_8 and unranked_8["p95_ms"]:
        ratios["p95_8_clients_vs_without_reranking"] = round(at_8["p95_ms"] / unranked_8["p95_ms"], 2)
        ratios["throughput_8_clients_vs_without_reranking"] = round(
            at_8["throughput_rps"] / unranked_8["throughput_rps"], 2
        )
    write_result(
        "http_load",
        {
            "what": "POST /v1/ask (extractive) over loopback against uvicorn, N concurrent clients, closed loop",
            "server": "uvicorn --factory bot.api:app_from_env, 1 process, NEWSDESK_RATE_LIMIT_PER_MINUTE=0",
            "load_average_1_5_15_min": [round(x, 1) for x in os.getloadavg()],
            **prepared,
            "sentence_vectors": sentence_vectors,
            "levels": levels,
            "baseline_without_sentence_vectors": without,
            "without_reranking": without_rerank,
            "baseline_healthz": floor,
            "ratios": ratios,
            "targets": {"errors": "0 at every level", "p95_ms_at_8_clients": f"<= {TARGET_P95_MS_AT_8:.0f}"},
            "meets_target": {
                "zero_errors": all(level["errors"] == 0 for level in levels),
                "p95_at_8_clients": bool(at_8 and at_8["p95_ms"] <= TARGET_P95_MS_AT_8),
            },
        },
    )


if __name__ == "__main__":
    main()
