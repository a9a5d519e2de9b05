"""The pools of bench/follow_topics.json: for each followed topic, the new articles to read and label.

    .venv/bin/python bench/follow_pool.py --index COPY_OF_THE_EVAL_DATA_DIR [--depth 15] [--lead 300]

As TREC pools runs: the union of the top `depth` new articles (the archive's newest 100, as bench/news.py takes
them) by four rankers: the matcher's own score (shipped weight), lexical only (BM25, the best chunk's), dense only
(the best chunk's cosine) and the topic's words in the title (share of its BM25 terms). It prints each pooled
article's title and lead, in archive order (not by any ranker's score), for a person to label; articles outside
every pool count as not about the topic. A pooled article the topics file labels neither way is flagged
UNLABELLED (a changed matcher or index can pool new ones: label them, else they count as not relevant).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from bench.news import TOPICS_FILE, articles_of  # noqa: E402
from retrieval.core.config import Settings  # noqa: E402
from retrieval.service import Newsdesk  # noqa: E402
from tests.support.inside import article_rows, article_text, news_matcher  # noqa: E402


def pools(service: Newsdesk, new: list[dict[str, Any]], topics: list[str], depth: int) -> dict[str, list[str]]:
    """Each topic's pooled article ids, in archive order."""
    matcher = news_matcher(service)
    lexical = service.index.lexical
    ids = [r["id"] for r in new]
    rows = article_rows(service, ids)
    read = [matcher.topic(t) for t in topics]
    shipped = matcher.score(read, rows)
    where = {aid: i for i, aid in enumerate(shipped.articles)}
    weight = matcher.weight
    try:
        matcher.weight = 1.0
        dense = matcher.score(read, rows).score
    finally:
        matcher.weight = weight
    titles = {r["id"]: set(lexical.tokens(str(r["title"]))) for r in new}
    out: dict[str, list[str]] = {}
    for t, topic in enumerate(read):
        bm25 = lexical.scores(list(topic.tokens))
        lex = np.array([max((bm25[r] for r in rows.get(a, [])), default=0.0) for a in ids])
        ranked = [
            np.array([shipped.score[t, where[a]] if a in where else 0.0 for a in ids]),
            lex,
            np.array([dense[t, where[a]] if a in where else 0.0 for a in ids]),
            np.array([len(titles[a] & set(topic.tokens)) / max(1, len(topic.tokens)) for a in ids]),
        ]
        pooled: set[str] = set()
        for scores in ranked:
            top = [i for i in np.argsort(-scores, kind="stable")[:depth] if scores[i] > 0]
            pooled.update(ids[i] for i in top)
        out[topic.text] = [a for a in ids if a in pooled]
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", type=Path, required=True, help="a copy of the eval data directory")
    parser.add_argument("--depth", type=int, default=15)
    parser.add_argument("--lead", type=int, default=300, help="characters of each article's text to print")
    args = parser.parse_args()
    spec = json.loads(TOPICS_FILE.read_text())
    service = Newsdesk(Settings(data_dir=args.index, embedder="onnx"))
    new = articles_of(service)[-100:]
    number = {r["id"]: i for i, r in enumerate(new)}
    url = {r["id"]: str(r.get("url") or r["id"]) for r in new}
    pooled = pools(service, new, [t["topic"] for t in spec["topics"]], args.depth)
    for entry in spec["topics"]:
        print(f"\n## {entry['topic']}")
        labelled = set(entry.get("relevant", [])) | set(entry.get("not_relevant", []))
        for aid in pooled[entry["topic"]]:
            row = new[number[aid]]
            flag = "" if url[aid] in labelled else "  (UNLABELLED)"
            print(f"{number[aid]:3d} {row['title'][:100]}{flag}")
            if args.lead:
                print("      " + article_text(service, aid)[: args.lead].replace("\n", " "))


if __name__ == "__main__":
    main()
