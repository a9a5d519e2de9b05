"""Questions as people type them, answered by a real model (issues 24 and 29): bench/natural_questions.json
through Qwen2.5-Coder-1.5B, behind llama-cpp-python's OpenAI-compatible server and in process (`llamacpp:`),
one client, over the same index; the offline answers of the same questions beside them.

Figures per path: the asked fact in the answer (factual questions: an expected string anywhere in the answer;
`fact_first_line`: in its first line), yes/no answers that begin with the right word (the verdicts below, read
from the articles), near misses declined, answerable questions declined, citations valid, how the model's
sentences fared (cited / attributed / dropped) and latency (first token p50, total p50 and p95). Every answer,
with the model's raw text and the quotes its markers show, goes to --records for reading by hand.

Usage: python bench/natural_llm.py [--data-dir /tmp/nd-609-int8] [--paths server,inprocess] [--limit N]
       [--questions bench/natural_questions_fresh.json ... --result natural_llm_fresh] [--types yes_no]
--paths offline answers offline only. bench/natural_questions_fresh.json (54 questions over 20 other articles, a
"verdict" on each yes/no one) was written after every rule here was chosen: it is the held-out set.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from bench.common import MULTIHOP, ROOT, module_at, summarise, write_result  # noqa: E402
from bench.natural import QUESTIONS, judged  # noqa: E402
from evaluation.passages import open_eval_service  # noqa: E402
from retrieval.answer import citations  # noqa: E402
from retrieval.core.config import Settings  # noqa: E402
from retrieval.core.types import Question  # noqa: E402
from retrieval.service import Newsdesk  # noqa: E402
from tests.support.chroma_server import LlamaServer  # noqa: E402
from tools.fetch_models import fetch  # noqa: E402

# the yes/no questions' verdicts, read from their articles (bench/natural_questions.json ids)
VERDICTS = {26: "yes", 32: "yes", 49: "yes", 68: "yes", 81: "yes", 85: "no", 91: "no", 100: "yes"}


def answer_all(service: Newsdesk, questions: list[dict[str, Any]], label: str) -> dict[str, Any]:
    rows, records, first_ms, total_ms = [], [], [], []
    sentences = {"cited": 0, "attributed": 0, "dropped": 0}
    invalid = 0
    for n, q in enumerate(questions, start=1):
        started = time.perf_counter()
        outcome = service.answer(Question(question=q["question"]))
        total_ms.append((time.perf_counter() - started) * 1000)
        answer = outcome.answer
        if "first_token_ms" in answer.timings:
            first_ms.append(answer.timings["first_token_ms"])
        invalid += bool(citations.problems(answer, outcome.passages))
        for key in sentences:
            sentences[key] += getattr(answer.sentences, key)
        row = judged(q, answer.answer, answer.abstained)
        verdict = q.get("verdict") or VERDICTS.get(q["id"])
        row["verdict_right"] = verdict is not None and answer.answer.strip().lower().startswith(verdict)
        rows.append(row)
        records.append(
            {
                "run": label,
                "id": q["id"],
                "type": q["type"],
                "question": q["question"],
                "expected": q["answers"],
                "written": outcome.written,
                "answer": answer.answer,
                "abstained": answer.abstained,
                "mode": answer.mode,
                "quotes": {c.n: c.quotes for c in answer.citations},
                # what the model was shown, to check its sentences again offline under another rule
                "passages": [
                    {k: getattr(p, k) for k in ("chunk_id", "article_id", "title", "source", "published_at", "text")}
                    for p in outcome.passages
                ],
                **row,
            }
        )
        if n % 10 == 0:
            logging.info("%s: %d/%d", label, n, len(questions))

    def share(kind: str, key: str) -> float:
        chosen = [r for r, q in zip(rows, questions, strict=True) if q["type"] == kind]
        return round(sum(r[key] for r in chosen) / len(chosen), 3) if chosen else float("nan")

    answerable = [r for r, q in zip(rows, questions, strict=True) if q["type"] != "near_miss"]
    return {
        "figures": {
            "mode": service.chain.mode,
            "fact_held": share("factual", "holds"),
            "fact_first_line": share("factual", "first_holds"),
            "yes_no_right_word": share("yes_no", "verdict_right"),
            "yes_no_evidence": share("yes_no", "holds"),
            "near_miss_declined": share("near_miss", "declined"),
            "answerable_declined": round(sum(r["declined"] for r in answerable) / max(1, len(answerable)), 3),
            "citations_invalid": invalid,
            "sentences": sentences,
            "first_token_ms": summarise(first_ms) if first_ms else None,
            "total_ms": summarise(total_ms),
        },
        "records": records,
    }


BEFORE = "610a196"  # main when this branch began: its retrieval/support.py is the rule before
VERDICTS_BEFORE = "8282405"  # main before the verdict rule (issue 29's last point): its retrieval/attribution.py


def recheck(path: Path) -> dict[str, Any]:
    """The model's sentences of a run's records (--records, with the passages it was shown) checked again under
    this tree's rule (`new`), under main's support rule of BEFORE (`before`), and under this tree's support rule
    with retrieval/attribution.py of VERDICTS_BEFORE (`verdicts_before`: the verdict rule before): what the same
    model wrote, every rule, one run (greedy decoding writes the same text either way). Per rule, the yes/no
    questions' verdicts (VERDICTS) kept right, kept wrong, and dropped (the model wrote one, the rule left none).
    Every answer's kept sentences and their quotes under each go to <records>.recheck.jsonl for reading by hand."""
    from retrieval.answer import attribution
    from retrieval.answer.chain import is_yes_no
    from retrieval.core.types import Passage
    from retrieval.embed.embedder import make_embedder

    before = module_at(BEFORE, "retrieval/support.py", "support_before")
    verdicts_before = module_at(VERDICTS_BEFORE, "retrieval/attribution.py", "attribution_before")
    # rule -> (attribution module, support module)
    rules = {
        "new": (attribution, attribution.support),
        "before": (attribution, before),
        "verdicts_before": (verdicts_before, verdicts_before.support),  # this tree's rule, read as before the rooms
    }
    settings = Settings()
    embedder = make_embedder(settings.embedder or "onnx", settings.model_cache_dir)
    out = []
    counts: dict[str, dict[str, Any]] = {
        name: {"answers_kept": 0, "cited": 0, "attributed": 0, "dropped": 0, "verdicts": _verdict_counts()}
        for name in rules
    }
    for line in path.read_text().splitlines():
        record = json.loads(line)
        if record["run"] == "offline" or not record.get("written") or "passages" not in record:
            continue
        passages = [Passage(**p) for p in record["passages"]]
        row: dict[str, Any] = {"id": record["id"], "question": record["question"], "written": record["written"]}
        written = record["written"]
        if not is_yes_no(record["question"]):  # as retrieval/chain.llm_written does
            written = re.sub(r"^\s*(?:yes|no)\b[.,!:;]?\s*", "", written, flags=re.I)
        for name, (module, rule) in rules.items():
            saved = module.support, getattr(module, "claim_words", None)
            module.support = _asked_aside(rule)  # the attributor checks with this rule
            if saved[1] is not None and rule is not attribution.support:
                module.claim_words = rule  # support.py before the rooms held the claim's words too
            options = module.AttributionOptions(support=rule.SupportOptions())
            got = module.Attributor(embedder, options).attribute(written, passages, record["question"])
            module.support = saved[0]
            if saved[1] is not None:
                module.claim_words = saved[1]
            row[name] = {"text": got.text, "quotes": got.quotes, "counts": got.counts.model_dump()}
            counts[name]["answers_kept"] += bool(got.text)
            for key in ("cited", "attributed", "dropped"):
                counts[name][key] += getattr(got.counts, key)
            if record["id"] in VERDICTS:
                kind = _verdict_kind(written, got.text, VERDICTS[record["id"]])
                row[name]["verdict"] = kind
                counts[name]["verdicts"][kind] += 1
        out.append(row)
    path.with_suffix(".recheck.jsonl").write_text("".join(json.dumps(r) + "\n" for r in out))
    return {"answers_written": len(out), "rules": counts}


def _asked_aside(rule: Any) -> Any:
    """A support rule whose checker takes the question too, or an older one's, which is given it and drops it."""
    import inspect
    from types import SimpleNamespace

    if "question" in inspect.signature(rule.Support).parameters:
        return rule

    def build(passages: Any, embedder: Any = None, options: Any = None, question: str = "") -> Any:
        return rule.Support(passages, embedder, options)

    return SimpleNamespace(**{**vars(rule), "Support": build})


def _verdict_counts() -> dict[str, int]:
    return {"right": 0, "wrong": 0, "dropped": 0, "none_written": 0}


def _verdict(text: str) -> str | None:
    first = re.findall(r"[a-z]+", text.lower())[:1]
    return first[0] if first and first[0] in {"yes", "no"} else None


def _verdict_kind(written: str, kept: str, right: str) -> str:
    """What became of the verdict the model wrote to a yes/no question: kept right, kept wrong, dropped."""
    if _verdict(written) is None:
        return "none_written"
    shown = _verdict(kept)
    return "dropped" if shown is None else "right" if shown == right else "wrong"


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/nd-609-int8"))
    parser.add_argument("--model", default="qwen-1.5b")
    parser.add_argument("--paths", default="server,inprocess")
    parser.add_argument("--limit", type=int, default=None, help="the first N questions only")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--records", type=Path, default=Path("/tmp/natural_llm.jsonl"))
    parser.add_argument(
        "--questions", type=Path, nargs="+", default=[QUESTIONS], help="sets of the same form, pooled"
    )
    parser.add_argument("--types", default="factual,yes_no,near_miss", help="only questions of these types")
    parser.add_argument("--result", default="natural_llm", help="the name of the JSON result in bench/results")
    parser.add_argument("--recheck", action="store_true", help="check the records' model sentences again, offline")
    args = parser.parse_args()
    if args.recheck:
        checked = recheck(args.records)
        write_result(
            "natural_llm_recheck",
            {"records": str(args.records), "before": BEFORE, "verdicts_before": VERDICTS_BEFORE, **checked},
        )
        return
    kinds = args.types.split(",")
    pooled = [q for path in args.questions for q in json.loads(path.read_text(encoding="utf-8"))]
    questions = [q for q in pooled if q["type"] in kinds][: args.limit]
    model = fetch(args.model)
    corpus = MULTIHOP / "corpus.json"
    base = {"llm_timeout": 120, "llm_retries": 0, "sentence_vectors": False}
    runs: dict[str, Any] = {}
    records: list[dict[str, Any]] = []
    load_before = os.getloadavg()
    paths = args.paths.split(",")
    if "server" in paths:
        with LlamaServer(model, Path("/tmp/natural-llama.log"), threads=args.threads) as server:
            settings = Settings(llm=f"openai:{server.alias}", llm_base_url=server.base_url, **base)  # type: ignore[arg-type]
            service, _ = open_eval_service(settings, corpus, args.data_dir)
            done = answer_all(service, questions, "server")
            service.close()
        runs["server"], records = done["figures"], records + done["records"]
    if "inprocess" in paths:
        settings = Settings(llm=f"llamacpp:{model}", **base)  # type: ignore[arg-type]
        service, _ = open_eval_service(settings, corpus, args.data_dir)
        done = answer_all(service, questions, "inprocess")
        service.close()
        runs["inprocess"], records = done["figures"], records + done["records"]
    service, _ = open_eval_service(Settings(llm=None, sentence_vectors=False), corpus, args.data_dir)
    done = answer_all(service, questions, "offline")
    service.close()
    runs["offline"], records = done["figures"], records + done["records"]
    args.records.write_text("".join(json.dumps(r) + "\n" for r in records))
    write_result(
        args.result,
        {
            "model": model.name,
            "question_sets": [str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(p) for p in args.questions],
            "types": kinds,
            "questions": len(questions),
            "threads": args.threads,
            "load_average_before": load_before,
            "load_average_after": os.getloadavg(),
            "runs": runs,
            "records": str(args.records),
        },
    )


if __name__ == "__main__":
    main()
