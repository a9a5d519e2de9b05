"""Questions about time, generated from the MultiHop-RAG corpus and checked against the articles' own dates;
and the dev retrieval figures with time and stories on, in the same run. Writes bench/results/time_questions.json.

    .venv/bin/python bench/time_questions.py [--data-dir DIR] [--per-topic 6] [--seed 7]

The questions are made by this script, not picked by hand:
- Topics: the capitalised names in the corpus titles (one to three words, not a stop word, month or weekday,
  and written capitalised more often than not in the bodies: names, not common words opening a title), in
  at least two titles.
  An article is about a topic when its title names it or its body names it at least three times; a topic
  is kept when 4 to 40 articles are about it, spread over at least two weeks.
- Window questions: for an article about a topic (drawn at random), a phrasing ("last week", "in the past N
  days", "last month", "since <weekday>", "yesterday", "in <month>") and an as_of that puts the article inside
  the window. The window is computed here with plain calendar arithmetic (not by retrieval/core/dates.py), so the
  parser is checked too. Measured: of the answers that cite anything, the share whose citations all fall in
  the window (target >= .95), and how many answered at all. Empty windows (months before the archive, or a
  window after its end) must decline: the share that do.
- Latest questions: "What is the latest on <topic>?" at an as_of after at least two articles about it.
  The expected first citation is the most recent article about the topic published by as_of (ties: any of
  that day). Measured: the share whose first citation is it (target >= .85); also, the share whose first
  citation is at least as recent (any article).
- Dev retrieval: bench/search.py's held-out half of the development questions, scored with the official
  metric, with the product's search as every face now calls it (the question's time read at as_of =
  the archive's last day, stories on) against the same index and search without time or stories.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from bench.common import MULTIHOP, write_result  # noqa: E402
from bench.search import halves  # noqa: E402
from evaluation.passages import breakdown, load_queries, open_eval_service, score_query  # noqa: E402
from retrieval.core.config import Settings  # noqa: E402
from retrieval.core.text import POSSESSIVE  # noqa: E402
from retrieval.core.types import Question
from retrieval.search.hybrid import SearchOptions  # noqa: E402
from tests.support.inside import chunk_metadata, searcher

_NAME = re.compile(r"[A-Z][\w'’.&-]*(?:\s+[A-Z][\w'’.&-]*){0,2}")
_NOT_TOPICS = set(  # the words that do not make a title's name a topic (this benchmark's own list)
    "a an the what how who why when where which here this that it its i we you he she they m b s us uk eu tv "
    "best top new week with everything is are will can do does did my your our no not all more most after "
    "before over from for of in on at to and or but as by be".split()
)
_CALENDAR = set(
    "january february march april may june july august september october november december monday tuesday "
    "wednesday thursday friday saturday sunday".split()
)
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


@dataclass(frozen=True)
class Item:
    kind: str  # window | empty | latest
    phrasing: str
    question: str
    as_of: date
    since: date | None = None
    until: date | None = None
    expected: tuple[str, ...] = ()  # latest: the urls of the most recent articles about the topic


def day_of(article: dict[str, Any]) -> date:
    return date.fromisoformat(article["published_at"][:10])


def topics(corpus: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    names: Counter[str] = Counter()
    for article in corpus:
        for match in _NAME.findall(article["title"]):
            name = POSSESSIVE.sub("", match.strip()).strip(" .-")
            words = name.lower().split()
            if len(name) < 3 or all(w in _NOT_TOPICS or w in _CALENDAR for w in words) or words[0] in _NOT_TOPICS:
                continue
            names[name] += 1
    text = "\n".join(a["body"] for a in corpus)
    found: dict[str, list[dict[str, Any]]] = {}
    for name in sorted(names):
        if text.count(name.lower()) >= text.count(name):
            continue  # a common word that opens a title ("Deal", "City"), not a name
        about = [a for a in corpus if name in a["title"] or a["body"].count(name) >= 3]
        if sum(name in a["title"] for a in corpus) < 2:
            continue  # not a topic of the archive's headlines
        days = {day_of(a) for a in about}
        if 4 <= len(about) <= 40 and max(days) - min(days) >= timedelta(days=14):
            found[name] = sorted(about, key=lambda a: a["published_at"])
    return found


def month_span(year: int, month: int) -> tuple[date, date]:
    first = date(year, month, 1)
    return first, date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)


def window_item(topic: str, article: dict[str, Any], rng: random.Random) -> Item:
    day = day_of(article)
    kind = rng.choice(["last week", "past days", "last month", "since weekday", "yesterday", "in month"])
    if kind == "last week":
        monday = day - timedelta(days=day.weekday())
        as_of = monday + timedelta(days=7 + rng.randrange(7))
        return Item("window", kind, f"What happened with {topic} last week?", as_of, monday, monday + timedelta(6))
    if kind == "past days":
        n = rng.choice([3, 5, 7, 10, 14])
        as_of = day + timedelta(days=rng.randrange(n))
        question = f"What was reported about {topic} in the past {n} days?"
        return Item("window", kind, question, as_of, as_of - timedelta(days=n), as_of)
    if kind == "last month":
        first, last = month_span(day.year, day.month)
        as_of = last + timedelta(days=1 + rng.randrange(27))
        return Item("window", kind, f"What happened with {topic} last month?", as_of, first, last)
    if kind == "since weekday":
        as_of = day + timedelta(days=1 + rng.randrange(6))
        since = day - timedelta(days=rng.randrange(max(1, (as_of - day).days)) % 3)
        since = min(since, as_of - timedelta(days=1))
        question = f"What has been reported about {topic} since {WEEKDAYS[since.weekday()]}?"
        return Item("window", kind, question, as_of, since, as_of)
    if kind == "yesterday":
        as_of = day + timedelta(days=1)
        return Item("window", kind, f"What happened with {topic} yesterday?", as_of, day, day)
    first, last = month_span(day.year, day.month)
    as_of = last + timedelta(days=rng.randrange(60))
    month = first.strftime("%B")
    return Item("window", kind, f"What did the news say about {topic} in {month}?", as_of, first, last)


def empty_items(topic: str, archive_end: date, rng: random.Random) -> list[Item]:
    month = rng.choice(["July", "August"])  # the archive starts in September 2023
    first, last = month_span(2023, 7 if month == "July" else 8)
    as_of = date(2023, 12, 31)
    later = archive_end + timedelta(days=30 + rng.randrange(60))
    return [
        Item("empty", "in month", f"What happened with {topic} in {month}?", as_of, first, last),
        Item("empty", "past days", f"What was reported about {topic} in the past 7 days?", later,
             later - timedelta(days=7), later),
    ]  # fmt: skip


def latest_item(topic: str, about: list[dict[str, Any]], rng: random.Random) -> Item | None:
    if len(about) < 3:
        return None
    pick = rng.randrange(1, len(about))
    as_of = day_of(about[pick]) + timedelta(days=rng.randrange(3))
    known = [a for a in about if day_of(a) <= as_of]
    newest = max(day_of(a) for a in known)
    expected = tuple(a["url"] for a in known if day_of(a) == newest)
    return Item("latest", "latest", f"What is the latest on {topic}?", as_of, expected=expected)


def build(
    corpus: list[dict[str, Any]], found: dict[str, list[dict[str, Any]]], per_topic: int, seed: int
) -> list[Item]:
    rng = random.Random(seed)
    end = max(day_of(a) for a in corpus)
    items: list[Item] = []
    for topic, about in found.items():
        for article in rng.sample(about, min(per_topic, len(about))):
            items.append(window_item(topic, article, rng))
        if rng.random() < 0.25:
            items.extend(empty_items(topic, end, rng))
        for _ in range(2):
            latest = latest_item(topic, about, rng)
            if latest is not None and latest not in items:
                items.append(latest)
    return items


def at_noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=MULTIHOP / "corpus.json")
    parser.add_argument("--queries", type=Path, default=MULTIHOP / "queries-dev.json")
    parser.add_argument("--data-dir", type=Path, default=None, help="the index (default: the eval index)")
    parser.add_argument("--per-topic", type=int, default=6)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--limit", type=int, default=0, help="at most this many questions (0: all)")
    args = parser.parse_args()

    corpus = json.loads(args.corpus.read_text())
    found = topics(corpus)
    items = build(corpus, found, args.per_topic, args.seed)
    if args.limit:
        items = random.Random(args.seed).sample(items, min(args.limit, len(items)))
    service, _ = open_eval_service(
        Settings().model_copy(update={"sentence_vectors": False}), args.corpus, args.data_dir
    )
    by_url = {str(m.get("url")): str(m.get("article_id")) for m in chunk_metadata(service).values()}

    rows: list[dict[str, Any]] = []
    started = time.perf_counter()
    for item in items:
        answer = service.ask(Question(question=item.question, as_of=at_noon(item.as_of)))
        days = [date.fromisoformat(c.published_at[:10]) for c in answer.citations if c.published_at]
        row: dict[str, Any] = {
            "kind": item.kind, "phrasing": item.phrasing, "question": item.question, "as_of": item.as_of.isoformat(),
            "abstained": answer.abstained, "cited": [d.isoformat() for d in days],
        }  # fmt: skip
        if item.since is not None and item.until is not None:
            row["window"] = [item.since.isoformat(), item.until.isoformat()]
            row["inside"] = bool(days) and all(item.since <= d <= item.until for d in days)
        if item.kind == "latest":
            expected_ids = {by_url.get(u) for u in item.expected}
            first = answer.citations[0] if answer.citations else None
            newest = date.fromisoformat(corpus_day(corpus, item.expected[0]))
            row["first_is_latest"] = first is not None and first.article_id in expected_ids
            row["first_at_least_as_recent"] = bool(days) and days[0] >= newest
            row["as_of_said"] = answer.answer.startswith("As of ")
        rows.append(row)
    seconds = time.perf_counter() - started

    def share(selected: list[dict[str, Any]], key: str) -> float:
        return round(sum(bool(r[key]) for r in selected) / len(selected), 4) if selected else 0.0

    windows = [r for r in rows if r["kind"] == "window"]
    answered = [r for r in windows if not r["abstained"] and r["cited"]]
    empty = [r for r in rows if r["kind"] == "empty"]
    latest = [r for r in rows if r["kind"] == "latest"]
    by_phrasing = {
        p: {"questions": len(rs), "answered": len([r for r in rs if not r["abstained"]]),
            "citations_in_window": share([r for r in rs if not r["abstained"] and r["cited"]], "inside")}
        for p in sorted({r["phrasing"] for r in windows})
        for rs in [[r for r in windows if r["phrasing"] == p]]
    }  # fmt: skip
    result: dict[str, Any] = {
        "questions": len(rows),
        "topics": len(found),
        "seed": args.seed,
        "window": {
            "questions": len(windows),
            "answered": len(answered),
            "citations_all_in_window": share(answered, "inside"),
            "target": 0.95,
            "by_phrasing": by_phrasing,
        },
        "empty_window": {"questions": len(empty), "declined": share(empty, "abstained")},
        "latest": {
            "questions": len(latest),
            "answered": len([r for r in latest if not r["abstained"]]),
            "first_citation_is_latest": share(latest, "first_is_latest"),
            "first_citation_at_least_as_recent": share(latest, "first_at_least_as_recent"),
            "says_as_of": share([r for r in latest if not r["abstained"]], "as_of_said"),
            "target": 0.85,
        },
        "answer_seconds": round(seconds, 1),
        "examples": rows[:: max(1, len(rows) // 25)],
        "method": (__doc__ or "").split("The questions are made by this script, not picked by hand:")[-1].strip(),
    }
    result["dev_retrieval"] = dev_retrieval(service, args.queries, corpus)
    write_result("time_questions", result)


def corpus_day(corpus: list[dict[str, Any]], url: str) -> str:
    return next(a["published_at"][:10] for a in corpus if a["url"] == url)


def dev_retrieval(service: Any, queries_path: Path, corpus: list[dict[str, Any]]) -> dict[str, Any]:
    """Held-out half of the development questions: the search as the faces call it (time read at the
    archive's last day, stories on) against the same search without time or stories."""
    queries = load_queries(queries_path)
    split = halves(queries)
    as_of = at_noon(max(day_of(a) for a in corpus))
    product = service.searcher
    plain = searcher(service, replace(SearchOptions(), one_per_story=False))
    figures = {}
    for name, search in (
        ("without time or stories", lambda q: plain.search(q, 10)),
        ("with time (as_of the archive's last day) and stories", lambda q: product.search(
            q, 10, None, product.time_frame(q, as_of))),
    ):  # fmt: skip
        scored = [
            (
                item.question_type,
                score_query([p.text for p in search(item.query)], [e.fact for e in item.evidence_list]),
            )
            for item in queries
        ]
        figures[name] = {
            "held_out_half": breakdown([s for i, s in enumerate(scored) if i in split[1]]).overall.model_dump(
                by_alias=True
            ),
            "all": breakdown(scored).overall.model_dump(by_alias=True),
        }
    return figures


if __name__ == "__main__":
    main()
