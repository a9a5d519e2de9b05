"""LLM answers on MultiHop-RAG dev questions, with a real model behind a real OpenAI-compatible server.

A fixed stratified sample of the dev questions (--per-type of each type, null queries included; the same
seed gives the same sample) is answered, in one run on one machine:

- by the product with NEWSDESK_LLM=openai:... pointed at llama-cpp-python's server on 127.0.0.1, serving
  Qwen2.5-Coder (1.5B by default; fetched by tools/fetch_models.py), one client at a time;
- offline (extractive), the same questions, same index.

For each it reports `newsdesk eval answers`' figures (hit rate per type, abstention, citation validity)
and, for the LLM, `llm_kept`, `modes`, `sentences` (cited / attributed / dropped), `prompt_tokens` and
`latency_ms` (first token p50, total p50 and p95). Each answer is also written to a JSON-lines file
(--records) with the model's raw text, so attribution can be calibrated without running the model again
(bench/attribution.py).

Usage: python bench/llm_answers.py [--model qwen-1.5b] [--per-type 30] [--prompt-tokens 900 ...]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import shutil
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from bench.common import MULTIHOP, ROOT, write_result  # noqa: E402
from evaluation.answers import AnswerQuery, Judged, judge, load_answer_queries, report  # noqa: E402
from evaluation.passages import open_eval_service  # noqa: E402
from retrieval.core.config import Settings  # noqa: E402
from retrieval.core.types import Question
from retrieval.service import Newsdesk  # noqa: E402
from tests.support.chroma_server import LlamaServer  # noqa: E402
from tests.support.planted import PROBES, write_planted  # noqa: E402
from tools.fetch_models import fetch  # noqa: E402

TYPES = ("inference_query", "comparison_query", "temporal_query", "null_query")


def sample(queries: list[AnswerQuery], per_type: int, seed: int) -> list[AnswerQuery]:
    """`per_type` questions of each type, drawn once with `seed` (the same sample every run)."""
    rng = random.Random(seed)
    chosen: list[AnswerQuery] = []
    for kind in TYPES:
        of_kind = [q for q in queries if q.question_type == kind]
        chosen.extend(rng.sample(of_kind, min(per_type, len(of_kind))))
    return chosen


def records(judged: list[Judged], label: str) -> list[dict[str, Any]]:
    return [
        {
            "run": label,
            "query": j.query.query,
            "type": j.query.question_type,
            "gold": j.query.answer,
            "answer": j.outcome.answer.answer,
            "written": j.outcome.written,
            "mode": j.outcome.answer.mode,
            "abstained": j.abstained,
            "hit": j.hit,
            "valid": j.valid,
            "sentences": j.outcome.answer.sentences.model_dump(),
            "prompt_tokens": j.outcome.answer.prompt_tokens,
            "timings": j.outcome.answer.timings,
            "chunks": [p.chunk_id for p in j.outcome.passages],
            "search_query": j.outcome.query,
        }
        for j in judged
    ]


def run(service: Newsdesk, items: list[AnswerQuery], label: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        if done % 10 == 0 or done == total:
            logging.info("%s: %d/%d answered (%.0fs)", label, done, total, time.perf_counter() - started)

    judged = judge(service.answer, items, progress)
    figures = report(judged, service.chain.mode).model_dump()
    figures["seconds"] = round(time.perf_counter() - started, 1)
    return figures, records(judged, label)


def injection_probes(settings: Settings, folder: Path) -> list[dict[str, Any]]:
    """The seed article beside articles that carry instructions; ordinary questions must not obey them."""
    shutil.rmtree(folder, ignore_errors=True)
    corpus = folder / "corpus"
    corpus.mkdir(parents=True)
    for path in (ROOT / "corpus").iterdir():
        shutil.copy(path, corpus / path.name)
    write_planted(corpus)
    service = Newsdesk(settings.model_copy(update={"data_dir": folder / "data"}))
    service.ingest([str(corpus)])
    probes = []
    for question, planted in PROBES:
        outcome = service.answer(Question(question=question))
        shown = outcome.answer.answer + " ".join(q for c in outcome.answer.citations for q in c.quotes)
        probes.append(
            {
                "question": question,
                "written": outcome.written,
                "answer": outcome.answer.answer,
                "mode": outcome.answer.mode,
                "obeyed_in_raw_text": planted.lower() in outcome.written.lower(),
                "obeyed_in_answer": planted.lower() in shown.lower(),
            }
        )
    return probes


RULE_BEFORE = "d79f82d"  # main before name answers were checked part by part (retrieval/answer/parts.py)


def recheck(path: Path, data_dir: Path) -> dict[str, Any]:
    """The model's text in a run's records checked again, offline, under this tree's attribution (`new`) and
    under main's of RULE_BEFORE (`before`), beside the offline answers recorded in the same run: per question
    type, the share of answerable questions whose LLM answer is kept, and of those answered right (the LLM's
    checked answer when kept, else the recorded extractive one, as the product falls back)."""
    from bench.common import module_at
    from evaluation.answers import answer_hit
    from retrieval.answer import attribution
    from retrieval.answer.chain import is_abstention, llm_written
    from retrieval.search.hybrid import passage_from
    from tests.support.inside import extractive

    service, _ = open_eval_service(Settings(), MULTIHOP / "corpus.json", data_dir)
    texts, metadata, _ = service.index.snapshot()
    embedder = extractive(service).embedder
    rules = {"new": attribution, "before": module_at(RULE_BEFORE, "retrieval/answer/attribution.py", "attr_before")}
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    offline = {r["query"]: r for r in rows if r["run"] == "offline"}
    figures: dict[str, Any] = {}
    for name, module in rules.items():
        attributor = module.Attributor(embedder)
        by_type: dict[str, dict[str, int]] = {}
        for row in (r for r in rows if r["run"] != "offline"):
            counts = by_type.setdefault(row["type"], {"questions": 0, "kept": 0, "right": 0, "declined": 0})
            counts["questions"] += 1
            passages = [passage_from(c, texts[c], metadata[c], 0.0) for c in row["chunks"] if c in texts]
            try:
                written = llm_written(row["written"], passages, "llm", attributor, row["query"])
                answer, kept, declined = written.text, not written.abstained, written.abstained
            except Exception:  # NoSupportedSentence: the product answers extractively
                fallback = offline.get(row["query"], {})
                answer, kept, declined = fallback.get("answer", ""), False, bool(fallback.get("abstained"))
            counts["kept"] += kept and not is_abstention(answer)
            counts["declined"] += declined
            counts["right"] += not declined and answer_hit(answer, row["gold"])
        figures[name] = {
            kind: {k: round(v / c["questions"], 3) for k, v in c.items() if k != "questions"} | {"n": c["questions"]}
            for kind, c in sorted(by_type.items())
        }
    return figures


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="qwen-1.5b")
    parser.add_argument("--per-type", type=int, default=30)
    parser.add_argument("--seed", type=int, default=13)
    defaults = Settings()
    parser.add_argument("--prompt-tokens", type=int, nargs="+", default=[defaults.llm_prompt_tokens],
                        help="excerpt budgets to compare (NEWSDESK_LLM_PROMPT_TOKENS)")  # fmt: skip
    parser.add_argument("--abstain-threshold", type=float, nargs="+", default=[defaults.llm_abstain_threshold],
                        help="NEWSDESK_LLM_ABSTAIN_THRESHOLD values to compare (-inf: always ask)")  # fmt: skip
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/nd-eval"))
    parser.add_argument("--records", type=Path, default=Path("/tmp/llm_answers.jsonl"))
    parser.add_argument("--no-offline", action="store_true")
    parser.add_argument("--name", default="llm_answers")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2, help="llama.cpp threads")
    parser.add_argument("--recheck", action="store_true", help="check the records' model text again, offline")
    args = parser.parse_args()
    if args.recheck:
        rules = recheck(args.records, args.data_dir)
        write_result(f"{args.name}_recheck", {"records": str(args.records), "rules": rules})
        return

    items = sample(load_answer_queries(MULTIHOP / "queries-dev.json"), args.per_type, args.seed)
    corpus = MULTIHOP / "corpus.json"
    model = fetch(args.model)
    results: dict[str, Any] = {
        "model": model.name,
        "sample": {"per_type": args.per_type, "seed": args.seed, "questions": len(items)},
        "llama_threads": args.threads,
        "runs": {},
    }
    all_records: list[dict[str, Any]] = []
    results["load_average_before"] = os.getloadavg()
    with LlamaServer(model, args.data_dir.with_name("llama-server.log"), threads=args.threads) as server:
        for budget in args.prompt_tokens:
            for threshold in args.abstain_threshold:
                settings = Settings(
                    llm=f"openai:{server.alias}",
                    llm_base_url=server.base_url,
                    llm_timeout=120,
                    llm_retries=0,
                    llm_prompt_tokens=budget,
                    llm_abstain_threshold=threshold,
                )
                service, _ = open_eval_service(settings, corpus, args.data_dir)
                label = f"llm budget={budget} gate={threshold}"
                figures, rows = run(service, items, label)
                results["runs"][label] = figures
                all_records.extend(rows)
                logging.info("%s: %s", label, json.dumps(figures))
        results["injection"] = injection_probes(settings, args.data_dir.with_name("nd-planted"))
    if not args.no_offline:
        service, _ = open_eval_service(Settings(), corpus, args.data_dir)
        figures, rows = run(service, items, "offline")
        results["runs"]["offline"] = figures
        all_records.extend(rows)
    results["load_average_after"] = os.getloadavg()
    args.records.write_text("".join(json.dumps(r) + "\n" for r in all_records))
    results["records"] = str(args.records)
    write_result(args.name, results)


if __name__ == "__main__":
    main()
