"""What a sync costs as the archive grows: add one article, then 100, to 1x / 10x / 30x archives, with a fresh
`ingest` process each time; and what a serving replica costs and how soon it sees another process's write.

Both this tree's code and a baseline tree's (default /work/main: the code before the incremental lexical
index) run in the same run, on copies of the same archive, one after the other, so every figure has its
baseline measured under the same load.

Per scale and per code:
1. The archive: bench/synthetic.py's (real chunks of the MultiHop articles, nine shuffled variants per article
   at 10x, synthetic vectors), built once per scale and copied (Chroma's files; the lexical file for this
   code, which the baseline cannot read: it builds its own from Chroma in step 2).
2. An untimed warm-up ingest of one article (the baseline builds its BM25 files and chunk cache here).
3. Timed: `python -m bot.cli ingest one.json` (a new article), then `ingest hundred.json` (100 new articles),
   each a fresh process: wall time and peak RSS (the process's own VmHWM, from wait4).
4. Server mode: `chroma run` on the archive; a replica (`serve`, NEWSDESK_CHROMA_URL, its own data directory
   holding its lexical files; the background embedding of answer sentences off, the same for both codes)
   answers /v1/ask from 8 clients for --seconds after 16 warm-up questions; its RSS after start and after
   the load. Then another process ingests one article through the server; the time from that process's exit
   until the replica's /v1/search returns the article is "sees the write" (polled every 50 ms; the replica
   checks the server at most every 2 s, so up to 2 s of it is the polling interval).
The articles added are MultiHop articles under new ids, titles and urls, with their sentences shuffled (so
the sync's duplicate check does not skip them); they are embedded for real.

Usage: python bench/sync_cost.py [--scales 1 10] [--baseline /work/main] [--seconds 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from bench.common import ROOT, stop_process, write_result  # noqa: E402
from bench.http_load import Questions, load  # noqa: E402
from bench.serving import questions, serve_env  # noqa: E402
from bench.synthetic import CACHE, METHOD, build_index, model_cache, multihop_articles, warm_model_cache  # noqa: E402
from tests.support.chroma_server import ChromaServer, free_port  # noqa: E402

_SENTENCE = re.compile(r"(?<=[.!?])\s+")
TARGETS = {
    "add_one_10x_vs_1x": 1.2,
    "add_one_30x_vs_1x": 1.5,
    "add_one_1x_vs_baseline": 1.0,
    "peak_rss_add_one_30x_vs_1x": 1.5,
    "replica_rss_10x_mb": 1024,
    "sees_write_seconds": 5.0,
    "http_p95_vs_baseline": 1.1,
}


def new_articles(n: int, tag: str, seed: int) -> list[dict[str, Any]]:
    """n MultiHop articles made new: id, title and url changed, sentences shuffled, a unique word added."""
    rng = random.Random(seed)
    out = []
    for i, article in enumerate(rng.sample(multihop_articles(), n)):
        sentences = _SENTENCE.split(article.body)
        rng.shuffle(sentences)
        word = f"Zq{tag}{i}x"
        out.append({
            "title": f"{article.title} ({tag} {i})",
            "body": f"{word} report. " + " ".join(sentences),
            "source": article.source,
            "url": f"https://example.invalid/{tag}/{i}",
            "published_at": article.published_at,
            "author": article.author,
            "category": article.category,
        })  # fmt: skip
    return out


def write_articles(path: Path, articles: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps(articles))
    return path


def env_for(code: Path, data_dir: Path, **extra: str) -> dict[str, str]:
    env = serve_env(data_dir, model_cache(), **extra)
    env["PYTHONPATH"] = str(code)
    return env


CLI = "from bot.cli import app; app()"


def run_measured(code: Path, args: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run the CLI with ARGS from the code's tree: wall seconds, and the process's own peak RSS as GNU time
    reads it (wait4 from a small parent: a child forked from this process would count its pages too)."""
    with open(os.devnull, "wb") as null, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        done = subprocess.run(
            ["/usr/bin/time", "-f", "peak-kb %M", sys.executable, "-c", CLI, *args],
            cwd=code, env=env, stdout=null, stderr=err, check=False,
        )  # fmt: skip
        seconds = time.perf_counter() - started
        err.seek(0)
        lines = err.read().decode(errors="replace").splitlines()
    if done.returncode:
        raise RuntimeError(f"{args} failed in {code}: " + "\n".join(lines[-30:]))
    peak_kb = next(int(line.split()[1]) for line in reversed(lines) if line.startswith("peak-kb "))
    return {"seconds": round(seconds, 2), "peak_rss_mb": round(peak_kb / 1024, 1)}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


class Replica:
    """`newsdesk serve` from a code tree, against a Chroma server."""

    def __init__(self, code: Path, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log.open("wb")
        started = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-c", CLI, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            cwd=code, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"the replica exited: see {log}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.perf_counter() - started > 1800:
                raise TimeoutError("the replica was not ready in 30 minutes")
            time.sleep(0.1)
        self.ready_seconds = round(time.perf_counter() - started, 2)

    def finds(self, word: str, article_title: str) -> bool:
        try:
            response = httpx.get(f"{self.url}/v1/search", params={"q": word, "k": 1}, timeout=30)
        except httpx.TimeoutException:  # the replica is busy reloading: not seen yet
            return False
        passages = response.json().get("passages", []) if response.status_code == 200 else []
        return bool(passages) and passages[0].get("title") == article_title

    def stop(self) -> None:
        stop_process(self.process, 30)
        self.log.close()


LIMIT: int | None = None  # articles per copy (--limit, for a quick try); None: all 609


def archive(scale: int) -> Path:
    """The scale's archive, built once (with this tree's code) and reused."""
    folder = CACHE / (f"sync-x{scale}" + (f"-limit{LIMIT}" if LIMIT else ""))
    stamp = folder / "built.json"
    if not stamp.exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        info = build_index(folder, scale, warm_model_cache(), LIMIT)
        stamp.write_text(json.dumps(info))
    return folder


def copy_archive(source: Path, target: Path, with_lexical: bool) -> None:
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    shutil.copytree(source / "chroma", target / "chroma")
    if with_lexical and (source / "lexical").exists():
        shutil.copytree(source / "lexical", target / "lexical")


def measure(code: Path, name: str, scale: int, work: Path, files: dict[str, Path], seconds: float) -> dict[str, Any]:
    base = archive(scale)
    data = work / f"{name}-x{scale}"
    copy_archive(base, data, with_lexical=name == "new")
    result: dict[str, Any] = {}
    result["warm_up_ingest"] = run_measured(code, ["ingest", str(files["warm"])], env_for(code, data))
    result["add_one"] = run_measured(code, ["ingest", str(files["one"])], env_for(code, data))
    result["add_hundred"] = run_measured(code, ["ingest", str(files["hundred"])], env_for(code, data))
    print(name, scale, result, flush=True)

    # server mode: a replica with its own lexical files, another process writing
    replica_dir, writer_dir = work / f"{name}-x{scale}-replica", work / f"{name}-x{scale}-writer"
    for folder in (replica_dir, writer_dir):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        if (data / "lexical").exists():
            shutil.copytree(data / "lexical", folder / "lexical")
    with ChromaServer(data / "chroma") as chroma:
        # no background embedding of answer sentences: the figures are the index's, not that job's
        replica_env = env_for(code, replica_dir, NEWSDESK_CHROMA_URL=chroma.url, NEWSDESK_SENTENCE_VECTORS="false")
        replica = Replica(code, replica_env, work / f"{name}-x{scale}.log")
        try:
            result["replica_ready_seconds"] = replica.ready_seconds
            result["replica_rss_after_start_mb"] = rss_mb(replica.process.pid)
            asked = Questions(questions(681))
            asyncio.run(load(replica.url, 8, 600, 16, asked))  # warm-up: sessions, caches, first imports
            result["http_ask_8_clients"] = asyncio.run(load(replica.url, 8, seconds, 100_000, asked))
            result["replica_rss_after_load_mb"] = rss_mb(replica.process.pid)
            seen = json.loads(files["seen"].read_text())[0]
            word = seen["body"].split()[0]  # the article's own unique word
            result["writer_ingest"] = run_measured(
                code, ["ingest", str(files["seen"])], env_for(code, writer_dir, NEWSDESK_CHROMA_URL=chroma.url)
            )
            written = time.perf_counter()
            while not replica.finds(word, seen["title"]):
                if time.perf_counter() - written > 600:
                    raise TimeoutError("the replica did not see the write in 10 minutes")
                time.sleep(0.05)
            result["replica_sees_write_seconds"] = round(time.perf_counter() - written, 2)
            result["replica_rss_after_write_mb"] = rss_mb(replica.process.pid)
        finally:
            replica.stop()
    print(name, scale, result, flush=True)
    shutil.rmtree(data, ignore_errors=True)
    shutil.rmtree(replica_dir, ignore_errors=True)
    shutil.rmtree(writer_dir, ignore_errors=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--baseline", type=Path, default=ROOT.parent / "main")
    parser.add_argument("--seconds", type=float, default=20.0, help="HTTP load per replica")
    parser.add_argument("--skip-baseline-at", type=int, nargs="*", default=[], help="scales without the baseline")
    parser.add_argument("--limit", type=int, default=None, help="articles per copy, for a quick try")
    parser.add_argument("--batch", type=int, default=100, help="articles in the second ingest")
    parser.add_argument("--result", default="sync_cost", help="name of the JSON in bench/results (a second run's)")
    parser.add_argument(
        "--interleaved", type=int, default=0, metavar="ROUNDS",
        help="only add one article to each scale's archive in turn, ROUNDS times (this code; medians)",
    )  # fmt: skip
    args = parser.parse_args()
    interleaved(args) if args.interleaved else run(args)


def interleaved(args: argparse.Namespace) -> None:
    """Add one article (the same one, under a new id and word each time) to each scale's archive in turn: on a
    shared machine the load drifts between steps minutes apart, so the scales are compared round by round."""
    global LIMIT
    LIMIT = args.limit
    warm_model_cache()
    work = Path(tempfile.mkdtemp(prefix="newsdesk-sync-cost-", dir=CACHE if CACHE.exists() else None))
    tag = time.strftime("%H%M%S")
    data: dict[int, Path] = {}
    runs: dict[str, Any] = {}
    try:
        for scale in args.scales:
            data[scale] = work / f"x{scale}"
            copy_archive(archive(scale), data[scale], with_lexical=True)
            warm = write_articles(work / f"warm-{scale}.json", new_articles(1, f"warm{scale}{tag}", 1))
            runs[f"x{scale}"] = {
                "archive": json.loads((archive(scale) / "built.json").read_text()),
                "warm_up_ingest": run_measured(ROOT, ["ingest", str(warm)], env_for(ROOT, data[scale])),
                "add_one": [],
            }
        for round_ in range(args.interleaved):
            for scale in args.scales:
                one = write_articles(work / f"one-{round_}-{scale}.json", new_articles(1, f"r{round_}x{scale}{tag}", 2))
                measured = run_measured(ROOT, ["ingest", str(one)], env_for(ROOT, data[scale]))
                runs[f"x{scale}"]["add_one"].append(measured)
                print(scale, round_, measured, flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    medians = {
        name: {key: float(np.median([r[key] for r in found["add_one"]])) for key in ("seconds", "peak_rss_mb")}
        for name, found in runs.items()
    }
    first = f"x{args.scales[0]}"
    ratios = {
        f"{name}_vs_{first}": {key: round(value / medians[first][key], 2) for key, value in figures.items()}
        for name, figures in medians.items()
        if name != first
    }
    meets = {}
    for scale, limit in ((10, TARGETS["add_one_10x_vs_1x"]), (30, TARGETS["add_one_30x_vs_1x"])):
        if f"x{scale}_vs_x1" in ratios:
            meets[f"add_one_{scale}x_vs_1x"] = ratios[f"x{scale}_vs_x1"]["seconds"] <= limit
    if "x30_vs_x1" in ratios:
        rss_limit = TARGETS["peak_rss_add_one_30x_vs_1x"]
        meets["peak_rss_add_one_30x_vs_1x"] = ratios["x30_vs_x1"]["peak_rss_mb"] <= rss_limit
    write_result(
        args.result,
        {
            "what": "Add one article to each scale's archive in turn (this code, a fresh ingest process each time), "
            f"{args.interleaved} rounds; medians and their ratios to the smallest scale",
            "archive_method": METHOD,
            "limit": args.limit,
            "load_average_1_5_15_min": [round(x, 1) for x in os.getloadavg()],
            "results": runs,
            "medians": medians,
            "ratios": ratios,
            "targets": {k: v for k, v in TARGETS.items() if k.startswith(("add_one_1", "add_one_3", "peak"))},
            "meets_target": meets,
        },
    )


def run(args: argparse.Namespace) -> None:
    global LIMIT
    LIMIT = args.limit
    warm_model_cache()
    work = Path(tempfile.mkdtemp(prefix="newsdesk-sync-cost-", dir=CACHE if CACHE.exists() else None))
    tag = time.strftime("%H%M%S")
    files: dict[str, Path] = {}
    for key, n, seed in (("warm", 1, 1), ("one", 1, 2), ("hundred", args.batch, 3), ("seen", 1, 4)):
        files[key] = write_articles(work / f"{key}.json", new_articles(n, f"{key}{tag}", seed))
    results: dict[str, dict[str, Any]] = {}
    codes = {"new": ROOT, "baseline": args.baseline.resolve()}
    for scale in args.scales:
        archive(scale)
        for name, code in codes.items():
            if name == "baseline" and scale in args.skip_baseline_at:
                continue
            results.setdefault(f"x{scale}", {})[name] = measure(code, name, scale, work, files, args.seconds)
            results[f"x{scale}"]["archive"] = json.loads((archive(scale) / "built.json").read_text())
            report(results, args, list(codes))  # after each step: a run stopped early keeps what it measured
    shutil.rmtree(work, ignore_errors=True)


def report(results: dict[str, dict[str, Any]], args: argparse.Namespace, codes: list[str]) -> None:
    def figure(scale: int, name: str, *path: str) -> float | None:
        value: Any = results.get(f"x{scale}", {}).get(name)
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        return float(value) if value is not None else None

    def ratio(a: float | None, b: float | None) -> float | None:
        return round(a / b, 2) if a is not None and b else None

    ratios: dict[str, Any] = {}
    for name in codes:
        one = figure(1, name, "add_one", "seconds")
        one_rss = figure(1, name, "add_one", "peak_rss_mb")
        for scale in args.scales[1:]:
            ratios[f"{name}.add_one_x{scale}_vs_x1"] = ratio(figure(scale, name, "add_one", "seconds"), one)
            ratios[f"{name}.peak_rss_add_one_x{scale}_vs_x1"] = ratio(
                figure(scale, name, "add_one", "peak_rss_mb"), one_rss
            )
    for scale in args.scales:
        for what, path in (
            ("add_one_seconds", ("add_one", "seconds")),
            ("add_hundred_seconds", ("add_hundred", "seconds")),
            ("add_one_peak_rss", ("add_one", "peak_rss_mb")),
            ("replica_rss_after_load", ("replica_rss_after_load_mb",)),
            ("http_p95", ("http_ask_8_clients", "p95_ms")),
            ("sees_write", ("replica_sees_write_seconds",)),
        ):
            ratios[f"new_vs_baseline.x{scale}.{what}"] = ratio(
                figure(scale, "new", *path), figure(scale, "baseline", *path)
            )
    new_x1 = figure(1, "new", "add_one", "seconds")
    meets: dict[str, bool | None] = {
        "add_one_1x_vs_baseline": _within(ratio(new_x1, figure(1, "baseline", "add_one", "seconds")), 1.0),
        "replica_rss_10x_mb": _within(figure(10, "new", "replica_rss_after_load_mb"), TARGETS["replica_rss_10x_mb"]),
    }
    for scale, limit in ((10, 1.2), (30, 1.5)):
        meets[f"add_one_{scale}x_vs_1x"] = _within(ratio(figure(scale, "new", "add_one", "seconds"), new_x1), limit)
    meets["peak_rss_add_one_30x_vs_1x"] = _within(ratios.get("new.peak_rss_add_one_x30_vs_x1"), 1.5)
    for scale in args.scales:
        meets[f"sees_write_{scale}x"] = _within(figure(scale, "new", "replica_sees_write_seconds"), 5.0)
        meets[f"http_p95_{scale}x_vs_baseline"] = _within(ratios.get(f"new_vs_baseline.x{scale}.http_p95"), 1.1)
    write_result(
        args.result,
        {
            "what": __doc__.split("\n\n")[0] if __doc__ else "",
            "archive_method": METHOD,
            "baseline_code": str(args.baseline),
            "limit": args.limit,
            "batch_articles": args.batch,
            "load_average_1_5_15_min": [round(x, 1) for x in os.getloadavg()],
            "results": results,
            "ratios": ratios,
            "targets": TARGETS,
            "meets_target": {k: v for k, v in meets.items() if v is not None},
        },
    )


def _within(value: float | None, limit: float) -> bool | None:
    return None if value is None else value <= limit


if __name__ == "__main__":
    main()
