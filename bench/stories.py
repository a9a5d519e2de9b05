"""One story, many outlets: 100 benchmark articles each republished by 2-4 other outlets with edits, ingested
into a copy of the eval index. Writes bench/results/stories.json.

    .venv/bin/python bench/stories.py [--data-dir COPY_OF_THE_EVAL_INDEX] [--articles 100] [--seed 11]

- The copies (made here, seeded): another outlet, url and a date 0-2 days later; a different title; and each
  copy gets two or three of: its sentences reordered (neighbouring sentences swapped), a paragraph (a fifth of
  the sentences, in a row) dropped, a new lede sentence. They go in through the product's ingest, which gives
  story ids (retrieval/storage/stories.py).
- Clustering: pairwise precision and recall of the story ids over every article of the index (the 609 and
  the copies) against the true stories (an original and its copies; every other article alone). Target >= .95.
- Search: for each of the 100 originals, a question made of its title; the top 10 must show no story
  twice (no two articles of one story), and the story must list its copies under also_reported_by.
- Dev retrieval: the held-out half of the development questions (bench/search.py's split) on the index with
  the copies, against the same index before they were added (the same run): within .01.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from datetime import date, timedelta
from itertools import combinations
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from bench.common import MULTIHOP, write_result  # noqa: E402
from bench.search import halves  # noqa: E402
from evaluation.passages import breakdown, eval_data_dir, load_queries, score_query  # noqa: E402
from retrieval.core.config import Settings  # noqa: E402
from retrieval.core.types import Article  # noqa: E402
from retrieval.ingest.sources import article_id_for  # noqa: E402
from retrieval.service import Newsdesk  # noqa: E402
from tests.support.inside import chunk_metadata, manifest

OUTLETS = ["Daily Wire Service", "Metro Herald", "Global Times Online", "Northern Post", "Valley Gazette",
           "City Chronicle", "Coastal Courier", "Capital Ledger"]  # fmt: skip
LEDES = [
    "Here is what we know so far about a story that has drawn wide attention this week.",
    "Readers have been asking about this, so we have gathered the key facts in one place.",
    "The following report has been updated with the latest available information.",
]
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“])")


def edited(body: str, rng: random.Random) -> str:
    sentences = [s for s in _SENTENCE.split(body.strip()) if s]
    edits = rng.sample(["reorder", "drop", "lede"], rng.choice([2, 3]))
    if "reorder" in edits:
        for i in rng.sample(range(max(1, len(sentences) - 1)), max(1, len(sentences) // 6)):
            if i + 1 < len(sentences):
                sentences[i], sentences[i + 1] = sentences[i + 1], sentences[i]
    if "drop" in edits and len(sentences) >= 10:
        size = len(sentences) // 5
        start = rng.randrange(1, len(sentences) - size)
        sentences = sentences[:start] + sentences[start + size :]
    if "lede" in edits:
        sentences.insert(0, rng.choice(LEDES))
    return " ".join(sentences)


def copies(corpus: list[dict[str, Any]], n: int, seed: int) -> tuple[list[Article], dict[str, str]]:
    """The copies as Articles, and story truth: the url of every copy -> the url of its original."""
    rng = random.Random(seed)
    made: list[Article] = []
    truth: dict[str, str] = {}
    for original in rng.sample(corpus, n):
        outlets = rng.sample([o for o in OUTLETS if o != original["source"]], rng.choice([2, 3, 4]))
        for outlet in outlets:
            slug = re.sub(r"\W+", "-", original["title"].lower())[:60]
            url = f"https://{outlet.lower().replace(' ', '')}.example/{slug}"
            day = date.fromisoformat(original["published_at"][:10]) + timedelta(days=rng.randrange(3))
            made.append(
                Article(
                    id=article_id_for(url, url),
                    title=f"{outlet}: {original['title'].split(' - ')[0]} (report)",
                    body=edited(original["body"], rng),
                    source=outlet,
                    url=url,
                    published_at=f"{day.isoformat()}T12:00:00+00:00",
                    origin=url,
                )
            )
            truth[url] = original["url"]
    return made, truth


def clustering(service: Newsdesk, truth: dict[str, str]) -> dict[str, Any]:
    story_of: dict[str, str] = {}
    url_of: dict[str, str] = {}
    for meta in chunk_metadata(service).values():
        aid = str(meta["article_id"])
        story_of[aid] = str(meta.get("story_id") or aid)
        url_of[aid] = str(meta.get("url"))
    true_of = {aid: truth.get(url, url) for aid, url in url_of.items()}
    by_story: dict[str, list[str]] = defaultdict(list)
    by_truth: dict[str, list[str]] = defaultdict(list)
    for aid in story_of:
        by_story[story_of[aid]].append(aid)
        by_truth[true_of[aid]].append(aid)
    predicted = {frozenset(p) for group in by_story.values() for p in combinations(sorted(group), 2)}
    actual = {frozenset(p) for group in by_truth.values() for p in combinations(sorted(group), 2)}
    both = len(predicted & actual)
    wrong = sorted(predicted - actual, key=sorted)[:10]
    return {
        "articles": len(story_of),
        "true_pairs": len(actual),
        "predicted_pairs": len(predicted),
        "precision": round(both / len(predicted), 4) if predicted else 1.0,
        "recall": round(both / len(actual), 4) if actual else 1.0,
        "false_pairs": [[url_of[a] for a in sorted(p)] for p in wrong],
        "target": 0.95,
    }


def search_check(service: Newsdesk, corpus: list[dict[str, Any]], truth: dict[str, str]) -> dict[str, Any]:
    originals = sorted(set(truth.values()))
    titles = {a["url"]: a["title"] for a in corpus}
    twice = listed = 0
    for url in originals:
        passages = service.search(titles[url], 10)
        by_story: dict[str, set[str]] = defaultdict(set)
        for p in passages:
            by_story[p.story_id or p.article_id].add(p.article_id)
        twice += any(len(articles) > 1 for articles in by_story.values())
        expected = sum(1 for u in truth.values() if u == url)
        listed += any(len(p.also_reported_by) == expected for p in passages)
    return {
        "questions": len(originals),
        "top10_with_a_story_twice": twice,
        "story_shown_with_all_its_copies": round(listed / len(originals), 4),
    }


def dev(service: Newsdesk, queries_path: Path) -> dict[str, Any]:
    queries = load_queries(queries_path)
    held = halves(queries)[1]
    scored = [
        (q.question_type, score_query([p.text for p in service.search(q.query, 10)], [e.fact for e in q.evidence_list]))
        for q in queries
    ]
    return {
        "held_out_half": breakdown([s for i, s in enumerate(scored) if i in held]).overall.model_dump(by_alias=True),
        "all": breakdown(scored).overall.model_dump(by_alias=True),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=MULTIHOP / "corpus.json")
    parser.add_argument("--queries", type=Path, default=MULTIHOP / "queries-dev.json")
    parser.add_argument("--data-dir", type=Path, default=None, help="a copy of the eval index (default: made here)")
    parser.add_argument("--articles", type=int, default=100)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()

    corpus = json.loads(args.corpus.read_text())
    if args.data_dir is None:  # copies are added to the index: never to the shared eval index itself
        args.data_dir = Path(tempfile.mkdtemp(prefix="newsdesk-stories-")) / "data"
        shutil.copytree(eval_data_dir(Settings(), args.corpus), args.data_dir)
    service = Newsdesk(Settings().model_copy(update={"data_dir": args.data_dir, "sentence_vectors": False}))
    if len(manifest(service)) != len(corpus):
        raise SystemExit(f"{args.data_dir} should hold the {len(corpus)} benchmark articles alone (a fresh copy)")
    service.add_articles([])  # an index from before stories gets its story ids
    before = dev(service, args.queries)
    made, truth = copies(corpus, args.articles, args.seed)
    started = time.perf_counter()
    report = service.add_articles(made)
    seconds = time.perf_counter() - started
    result: dict[str, Any] = {
        "originals": args.articles,
        "copies": len(made),
        "ingest": {**report.summary(), "seconds": round(seconds, 1)},
        "clustering": clustering(service, truth),
        "search": search_check(service, corpus, truth),
        "dev_retrieval": {"without the copies": before, "with the copies": dev(service, args.queries)},
        "method": (__doc__ or "").split("\n\n", 2)[-1].strip(),
    }
    write_result("stories", result)


if __name__ == "__main__":
    main()
