"""Briefs and follows on the 609-article benchmark archive. Writes bench/results/news.json.

    .venv/bin/python bench/news.py --index COPY_OF_THE_EVAL_DATA_DIR [--skip-sync]

The index is a copy of the eval index (evaluation/passages.py eval_data_dir); this benchmark deletes and re-adds
articles in it, so never point it at the original.

- Briefs: one brief per week of the archive (as_of the week's Sunday), limit 5, with and without a topic. Every
  cited sentence must be published inside its window (1.0); no story twice; the top 5 of a week against the 5
  largest story clusters of that week by outlets, counted from the manifest (not the brief's code): the share of
  the brief's stories whose outlet count reaches the 5th largest cluster's (ties count); latency p50/p95.
- Follows, calibration: the newest 100 articles are "new". Topics: 60 names taken from their titles (the most
  frequent capitalised names); labels by rule: an article is about a topic when the name is in its title or its
  first two sentences, not about it when the name is nowhere in its text; articles that name it only deeper are
  left out (ambiguous). A grid over the matcher's weight and threshold, scored by precision and recall.
- Follows, cost: the 100 articles synced again (deleted first) without follows, then with 200 follows, in the
  same run: the posting overhead is (with - without) / without.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from bench.common import (  # noqa: E402
    MULTIHOP,  # noqa: E402
    summarise,
    write_result,
)
from retrieval.core.config import Settings  # noqa: E402
from retrieval.core.types import Article  # noqa: E402
from retrieval.service import Newsdesk  # noqa: E402
from tests.support.inside import article_rows, article_text, manifest, news_matcher  # noqa: E402

TOPICS_FILE = Path(__file__).with_name("follow_topics.json")  # the hand-labelled follows set (bench/follow_pool.py)
NAME = re.compile(r"\b[A-Z][a-zA-Z0-9&.'-]+(?:\s+[A-Z][a-zA-Z0-9&.'-]+)*")
SKIP = {"The", "A", "An", "How", "What", "Why", "Who", "When", "Is", "Are", "Can", "Will", "Best", "New", "This",
        "Here", "Our", "In", "On", "Top", "Week", "Live", "Updates", "Watch", "Everything", "All"}  # fmt: skip


def articles_of(service: Newsdesk) -> list[dict[str, Any]]:
    rows = [r for r in service.articles() if r.get("published_at")]
    return sorted(rows, key=lambda r: (str(r["published_at"]), r["id"]))


def brief_bench(service: Newsdesk) -> dict[str, Any]:
    rows = articles_of(service)
    stories = {
        aid: str(next(iter(a.chunks.values())).get("story_id") or aid) for aid, a in manifest(service).articles.items()
    }
    first = date.fromisoformat(str(rows[0]["published_at"])[:10])
    last = date.fromisoformat(str(rows[-1]["published_at"])[:10])
    monday = first - timedelta(days=first.weekday())
    inside = twice = 0
    cited = 0
    overlaps: list[float] = []
    times: list[float] = []
    topics = ["Sam Bankman-Fried", "OpenAI", "Apple", "NFL", "Google", "Amazon", "Israel", "Federal Reserve"]
    weeks = 0
    while monday <= last:
        sunday = monday + timedelta(days=6)
        as_of = datetime.combine(sunday, datetime.min.time()).replace(hour=23)
        for topic in [None, *topics]:
            started = time.perf_counter()
            brief = service.brief(monday, sunday, topic, 5, as_of)
            times.append((time.perf_counter() - started) * 1000)
            ids = [s.story_id for s in brief.stories]
            twice += len(ids) - len(set(ids))
            for story in brief.stories:
                cited += 1
                when = (story.citation.published_at or "")[:10]
                inside += monday.isoformat() <= when <= sunday.isoformat()
            if topic is None and brief.stories:
                overlaps.append(_overlap(rows, stories, monday, sunday, brief.stories))
        weeks += 1
        monday += timedelta(days=7)
    return {
        "weeks": weeks,
        "briefs": len(times),
        "cited_sentences": cited,
        "cited_inside_window": round(inside / max(1, cited), 4),
        "stories_twice": twice,
        "top5_vs_largest_clusters_overlap": round(sum(overlaps) / max(1, len(overlaps)), 4),
        "latency": summarise(times),
    }


def _overlap(rows: list[dict[str, Any]], stories: dict[str, str], since: date, until: date, picked: list[Any]) -> float:
    """The share of the brief's stories whose outlet count reaches the 5th largest cluster's (from the manifest)."""
    outlets: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        if since.isoformat() <= str(row["published_at"])[:10] <= until.isoformat():
            outlets[stories[row["id"]]].add(str(row.get("source") or "").lower())
    sizes = sorted((len(v) for v in outlets.values()), reverse=True)
    fifth = sizes[min(4, len(sizes) - 1)]
    return sum(len(outlets.get(s.story_id, ())) >= fifth for s in picked) / len(picked)


def labelled_set(service: Newsdesk, new: list[dict[str, Any]]) -> tuple[list[str], dict[tuple[str, str], bool]]:
    names: Counter[str] = Counter()
    for row in new:
        for m in NAME.finditer(str(row["title"])):
            name = m.group().strip(".'")
            if name not in SKIP and len(name) > 2:
                names[name] += 1
    topics = [n for n, _ in names.most_common(60)]
    texts = {row["id"]: article_text(service, row["id"]) for row in new}
    labels: dict[tuple[str, str], bool] = {}
    for topic in topics:
        for row in new:
            body = texts[row["id"]]
            lead = " ".join(re.split(r"(?<=[.!?])\s+", body)[:2])
            if topic in str(row["title"]) or topic in lead:
                labels[(topic, row["id"])] = True
            elif topic.lower() not in body.lower() and topic.lower() not in str(row["title"]).lower():
                labels[(topic, row["id"])] = False
    return topics, labels


def calibrate(service: Newsdesk, new: list[dict[str, Any]]) -> dict[str, Any]:
    topics, labels = labelled_set(service, new)
    matcher = news_matcher(service)
    rows = article_rows(service, [r["id"] for r in new])
    scored = matcher.score([matcher.topic(t) for t in topics], rows)
    where = {aid: i for i, aid in enumerate(scored.articles)}
    grid = []
    for weight in (0.3, 0.4, 0.5, 0.6, 0.7):
        matcher.weight = weight
        scores = matcher.score([matcher.topic(t) for t in topics], rows).score
        for threshold in [x / 100 for x in range(30, 91, 5)]:
            tp = fp = fn = 0
            for (topic, aid), relevant in labels.items():
                hit = scores[topics.index(topic), where[aid]] >= threshold
                tp += hit and relevant
                fp += hit and not relevant
                fn += relevant and not hit
            precision = tp / (tp + fp) if tp + fp else 1.0
            recall = tp / (tp + fn) if tp + fn else 0.0
            grid.append({"weight": weight, "threshold": threshold, "precision": round(precision, 4),
                         "recall": round(recall, 4)})  # fmt: skip
    ok = [g for g in grid if g["precision"] >= 0.9]
    best = max(ok or grid, key=lambda g: (g["recall"], g["precision"]))
    return {
        "topics": len(topics),
        "new_articles": len(new),
        "pairs": len(labels),
        "relevant_pairs": sum(labels.values()),
        "chosen": best,
        "grid": grid,
        "topic_names": topics,
    }


def sync_cost(service: Newsdesk, new: list[dict[str, Any]], follows: int) -> dict[str, Any]:
    wanted = {r["id"] for r in new}
    articles = [
        a for a in service.sources([str(MULTIHOP / "corpus.json")]) if isinstance(a, Article) and a.id in wanted
    ]
    timings = {}
    for label in ("without_follows", "with_follows"):
        for a in articles:
            service.delete(a.id)
        if label == "with_follows":
            names = [f"{r['title'][:60]}" for r in articles_of(service)[:follows]]
            for i, name in enumerate(names):
                service.follow(f"{name} {i}", "discord", channel_id=1000 + i)
            service.match_new_articles()  # the deletes are not news
        started = time.perf_counter()
        report = service.add_articles(articles)
        timings[label] = round(time.perf_counter() - started, 3)
        assert len(report.added) == len(articles), report.summary()
    posts = len(service.posts_to_send())
    return {
        "articles": len(articles),
        "follows": follows,
        "seconds": timings,
        "overhead": round(timings["with_follows"] / timings["without_follows"] - 1, 4),
        "posts_waiting": posts,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", type=Path, required=True, help="a COPY of the eval data directory")
    parser.add_argument("--skip-sync", action="store_true")
    args = parser.parse_args()
    service = Newsdesk(Settings(data_dir=args.index, embedder="onnx"))
    new = articles_of(service)[-100:]
    result: dict[str, Any] = {"briefs": brief_bench(service), "follows": calibrate(service, new)}
    if not args.skip_sync:
        result["sync"] = sync_cost(service, new, 200)
    write_result("news", result)


if __name__ == "__main__":
    main()
