"""Helpers shared by the benchmarks: data paths, timing, JSON results."""

from __future__ import annotations

import json
import os
import platform
import re
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

from retrieval.core.statistics import percentile

ROOT = Path(__file__).resolve().parents[1]
MULTIHOP = Path(os.environ.get("NEWSDESK_MULTIHOP_DIR", ROOT.parent / "shared" / "data" / "multihop-rag"))
RESULTS = ROOT / "bench" / "results"


def machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}


def summarise(latencies_ms: list[float]) -> dict[str, float]:
    return {
        "n": len(latencies_ms),
        "mean_ms": round(statistics.fmean(latencies_ms), 2) if latencies_ms else 0.0,
        "p50_ms": round(percentile(latencies_ms, 50), 2),
        "p95_ms": round(percentile(latencies_ms, 95), 2),
        "p99_ms": round(percentile(latencies_ms, 99), 2),
    }


def write_result(name: str, result: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {"benchmark": name, "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "machine": machine()}
    payload.update(result)
    path.write_text(json.dumps(payload, indent=2) + "\n")
    print(json.dumps(payload, indent=2))
    return path


def stop_process(process: subprocess.Popen[Any], timeout: float) -> None:
    """Terminate a server the benchmark started; kill it when it does not stop within the timeout."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# where the engine's modules moved (issue 26), for module_at's modules from before
_MOVED = {
    "retrieval": "retrieval.answer",  # `from retrieval import citations, support`
    "retrieval.chunking": "retrieval.core.text",
    "retrieval.lexical": "retrieval.core.text",
    "retrieval.text": "retrieval.core.text",
    "retrieval.types": "retrieval.core.types",
    "retrieval.config": "retrieval.core.config",
    "retrieval.errors": "retrieval.core.errors",
    "retrieval.embeddings": "retrieval.embed.embedder",
    "retrieval.instructions": "retrieval.answer.instructions",
    "retrieval.support": "retrieval.answer.support",
    "retrieval.citations": "retrieval.answer.citations",
    "retrieval.facts": "retrieval.answer.facts",
}


def module_at(ref: str, path: str, name: str) -> Any:
    """A module of this repository as it was at a git ref (its imports resolve in this tree): the rule before a
    change, run beside this tree's on the same input."""
    import importlib.util
    import sys

    source = subprocess.run(
        ["git", "show", f"{ref}:{path}"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    for old, new in _MOVED.items():  # a module from before the engine's rooms imports from where things are now
        source = re.sub(rf"^(\s*)from {re.escape(old)} import", rf"\1from {new} import", source, flags=re.M)
    spec = importlib.util.spec_from_loader(name, loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    exec(compile(source, f"{ref}:{path}", "exec"), module.__dict__)  # noqa: S102
    if getattr(module.__dict__.get("support"), "__name__", "") == "retrieval.answer.support":
        # support.py's words and relation rule are modules of their own now: `support.words` reads them there
        from types import SimpleNamespace

        from retrieval.answer import claim_words, relation, support

        module.__dict__["support"] = SimpleNamespace(**{**vars(claim_words), **vars(relation), **vars(support)})
    return module
