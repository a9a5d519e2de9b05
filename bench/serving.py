"""A `newsdesk serve` process for the benchmarks: start it on a data dir, wait until ready, read its memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import MULTIHOP  # noqa: E402
from tests.support.chroma_server import NewsdeskServer  # noqa: E402


def serve_env(data_dir: Path, model_cache: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSDESK_")}
    env.update(
        NEWSDESK_DATA_DIR=str(data_dir),
        NEWSDESK_MODEL_CACHE_DIR=str(model_cache),
        NEWSDESK_RATE_LIMIT_PER_MINUTE="0",
        NEWSDESK_LOG_LEVEL="WARNING",
        HF_HUB_OFFLINE="1",
        ANONYMIZED_TELEMETRY="False",
    )
    env.update(extra)
    return env


def rss_mb(pid: int) -> dict[str, float]:
    """Resident memory now and at its peak (VmRSS, VmHWM) of one process, in MB."""
    fields: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in {"VmRSS", "VmHWM"}:
            fields[key] = round(int(value.split()[0]) / 1024, 1)
    return {"rss_mb": fields["VmRSS"], "peak_rss_mb": fields["VmHWM"]}


def questions(n: int) -> list[str]:
    queries = json.loads((MULTIHOP / "queries-dev.json").read_text())
    return [q["query"] if isinstance(q, dict) else str(q) for q in queries[:n]]


def ask_all(base: str, items: list[str]) -> list[int]:
    statuses = []
    with httpx.Client(timeout=120) as client:
        for question in items:
            statuses.append(client.post(f"{base}/v1/ask", json={"question": question}).status_code)
    return statuses


def start_server(env: dict[str, str], log: Path) -> tuple[NewsdeskServer, float]:
    server = NewsdeskServer(env, log)
    seconds = server.start(timeout=600)
    return server, seconds


def time_to_ready(command: list[str], url: str, env: dict[str, str], timeout: float = 600) -> float:
    """Seconds from spawning `command` until GET `url` answers 200; the process is stopped afterwards."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        with httpx.Client(timeout=2.0) as client:
            while time.perf_counter() - started < timeout:
                if process.poll() is not None:
                    raise RuntimeError(
                        f"{command[0]} exited early: {(process.stderr.read() if process.stderr else '')[-1500:]}"
                    )
                try:
                    if client.get(url).status_code == 200:
                        return time.perf_counter() - started
                except httpx.HTTPError:
                    pass
                time.sleep(0.02)
        raise TimeoutError(f"{command} was not ready within {timeout}s")
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
