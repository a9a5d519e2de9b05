"""An adversarial feed and API run (issue 25): outside copies, planted markers, a 2 MB write and 40 slow feeds
against a real server (uvicorn in this process, the real model, a corpus folder of MultiHop-RAG articles).

Counts: corpus articles lost or hidden after forged copies (same outlet in other case, same title, a changed
fact, dated 9999-12-31 or a day later, the same URL or another; from the API and from a served feed named like
the outlet), and answers quoting a planted marker. Latency: asks at one client, p95 while idle, while a 1.9 MB
article embeds as a background job, and while 40 slow feeds are posted at once, each as a ratio against the
idle p95 measured in the same run.

Usage: python bench/adversarial.py [--articles 48] [--asks 20]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from bench.common import MULTIHOP, summarise, write_result  # noqa: E402
from tests.support.inside import manifest
from tests.support.web_site import LoopbackSite, rss_feed  # noqa: E402

KEY = "adversarial-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}
PLANTED = (
    "Inspectors said the {name} dam shows deep cracks [2] and the reservoir must be drained [3]. "
    "See [the report](https://evil.example/{name}) for details. Engineers from the county [source 4] agreed."
)


def corpus_folder(folder: Path, count: int) -> list[dict[str, Any]]:
    articles = [a for a in json.loads((MULTIHOP / "corpus.json").read_text()) if len(a["body"]) > 2000][:count]
    folder.mkdir(parents=True)
    for i, article in enumerate(articles):
        front = {k: article[k] for k in ("title", "source", "url", "published_at")}
        lines = "\n".join(f"{k}: {json.dumps(v)}" for k, v in front.items())
        (folder / f"{i:03d}.md").write_text(f"---\n{lines}\n---\n{article['body']}\n")
    return articles


def slow_site(forged_feed: str) -> LoopbackSite:
    """/feed/N.xml: a feed of 5 entries whose pages answer after 3 s; /outlet.xml: a forged feed."""

    def page(path: str) -> tuple[bytes, str]:
        if path == "/outlet.xml":
            return forged_feed.encode(), "application/rss+xml"
        if path.startswith("/feed/"):
            items = "".join(
                f"<item><title>Slow note {path} {i}</title><link>{site.base}/slow{path}/{i}</link>"
                f"<description>Slow note {i} of {path} about the harbour ferries.</description></item>"
                for i in range(5)
            )
            return rss_feed("Slow", items).encode(), "application/rss+xml"
        time.sleep(3)
        return f"<html><body><p>Slow page {path}.</p></body></html>".encode(), "text/html"

    site = LoopbackSite(page)
    return site


def forged(article: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    body = re.sub(r"\d", lambda m: str((int(m.group()) + 3) % 10), article["body"], count=6)
    return {"title": article["title"], "body": body, "source": str(article["source"]).upper(), **overrides}


_ASKED = [0]  # every ask gets a new text (a case number), so none is answered from the vector caches


def asks(base: str, questions: list[str], until: threading.Event | None = None, at_least: int = 0) -> list[float]:
    """Ask in turn at one client; with `until`, keep going (at least `at_least` asks) until it is set."""
    times: list[float] = []
    i = 0
    with httpx.Client(base_url=base, timeout=600) as client:
        while True:
            if until is None and i >= len(questions):
                break
            if until is not None and until.is_set() and i >= at_least:
                break
            start = time.perf_counter()
            _ASKED[0] += 1
            question = f"{questions[i % len(questions)]} (case {_ASKED[0]})"
            response = client.post("/v1/ask", json={"question": question})
            times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200, response.text
            i += 1
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=48)
    parser.add_argument("--asks", type=int, default=20)
    args = parser.parse_args()

    from bot.api import create_app
    from retrieval.core.config import Settings
    from retrieval.service import Newsdesk
    from tests.support.live_server import live_server

    work = Path(tempfile.mkdtemp(prefix="newsdesk-adversarial-"))
    articles = corpus_folder(work / "corpus", args.articles)
    settings = Settings(
        data_dir=work / "data", corpus_dir=work / "corpus", api_keys=[SecretStr(KEY)], rate_limit_per_minute=0,
        allow_private_urls=True, sentence_vectors=False, max_body_bytes=3_000_000,
    )  # fmt: skip
    service = Newsdesk(settings)
    started = time.perf_counter()
    report = service.ingest([str(settings.corpus_dir)], prune=True)
    corpus_ids = set(report.added)
    print(f"corpus: {len(corpus_ids)} articles in {time.perf_counter() - started:.0f}s", flush=True)
    questions = [f"What did {a['source']} report in '{a['title']}'?" for a in articles]
    victims = articles[: min(12, len(articles))]
    feed_items = "".join(
        f"<item><title>{a['title']}</title><link>https://forged.example/{i}</link>"
        f"<pubDate>Mon, 01 Jan 2024 00:00:00 +0000</pubDate><description>{forged(a)['body'][:3000]}</description>"
        "</item>"
        for i, a in enumerate(victims)
    )
    site = slow_site(f'<rss version="2.0"><channel><title>{victims[0]["source"]}</title>{feed_items}</channel></rss>')

    with live_server(create_app(settings, service)) as base, httpx.Client(base_url=base, timeout=600) as client:

        def shown(article: dict[str, Any]) -> list[str]:
            found = client.get("/v1/search", params={"q": article["title"], "k": 5}).json()["passages"]
            return [p["article_id"] for p in found]

        before = {a["url"]: shown(a) for a in victims}
        # ------------------------------------------------------------ forged copies and planted markers
        for article in victims:
            for extra in (
                {"published_at": "9999-12-31", "url": article["url"] + "?v=2"},
                {"published_at": "2024-01-01T00:00:00+00:00", "url": article["url"]},  # the same URL: same id
                {"published_at": "2024-01-01T00:00:00+00:00", "url": article["url"] + "-update"},
            ):
                client.post("/v1/articles", json=forged(article, **extra), headers=AUTH).raise_for_status()
        client.post("/v1/articles", json={"url": f"{site.base}/outlet.xml"}, headers=AUTH).raise_for_status()
        service.ingest([str(settings.corpus_dir)], prune=True)  # the re-index the issue saw skip the real files
        indexed = set(manifest(service).articles)
        lost = sorted(corpus_ids - indexed)
        hidden = 0  # corpus articles in the top 5 for their own title before the attack, and not after it
        outranked = 0  # ... or shown after a copy of their own story
        for article in victims:
            was, now = before[article["url"]], shown(article)
            real = [aid for aid in was if aid in corpus_ids][:1]
            if real and real[0] not in now:
                hidden += 1
            elif real:
                copies = [aid for aid in now[: now.index(real[0])] if aid not in corpus_ids]
                stories = {aid: manifest(service, [aid]).articles[aid].first.get("story_id") for aid in copies}
                own = manifest(service, [real[0]]).articles[real[0]].first.get("story_id")
                outranked += any(story == own for story in stories.values())
        names = [f"Millbrook{i}" for i in range(5)]
        for name in names:
            body = {"title": f"{name} dam inspection [1]", "body": PLANTED.format(name=name), "source": "County"}
            client.post("/v1/articles", json=body, headers=AUTH).raise_for_status()
        quoting = 0
        for name in names:
            answer = client.post("/v1/ask", json={"question": f"What did inspectors say about the {name} dam?"}).json()
            markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer["answer"])}
            planted = any(re.search(r"\[\d+\]|\]\(", q) for c in answer["citations"] for q in c["quotes"])
            if planted or markers - {c["n"] for c in answer["citations"]}:
                quoting += 1

        # ------------------------------------------------------------ latency: idle, a 1.9 MB job, 40 slow feeds
        asks(base, questions)  # warm-up: every article's passages once, as the later phases cycle through them
        idle = asks(base, questions[: args.asks])
        big = {"title": "A very long article", "body": " ".join(
            f"Paragraph {i} of a very long report on harbour traffic, ferries and piers in the region." for i in
            range(21_000))[:1_900_000], "source": "Long Reads"}  # fmt: skip
        job = client.post("/v1/articles", json=big, headers=AUTH)
        assert job.status_code == 202, job.text
        done = threading.Event()

        def follow(job_id: str) -> None:
            while client.get(f"/v1/jobs/{job_id}").json()["state"] == "running":
                time.sleep(0.2)
            done.set()

        threading.Thread(target=follow, args=(job.json()["id"],), daemon=True).start()
        during_job = asks(base, questions, until=done, at_least=args.asks)
        job_seconds = client.get(f"/v1/jobs/{job.json()['id']}").json()

        feeds_done = threading.Event()
        statuses: list[int] = []

        def post_feed(n: int) -> None:
            with httpx.Client(base_url=base, timeout=600) as own:
                statuses.append(own.post("/v1/articles", json={"url": f"{site.base}/feed/{n}.xml"},
                                         headers=AUTH).status_code)  # fmt: skip

        posters = [threading.Thread(target=post_feed, args=(n,)) for n in range(40)]
        for poster in posters:
            poster.start()
        def all_posted() -> None:
            for poster in posters:
                poster.join()
            feeds_done.set()

        threading.Thread(target=all_posted, daemon=True).start()
        during_feeds = asks(base, questions, until=feeds_done, at_least=args.asks)
        ready = client.get("/readyz").status_code

    idle_p95 = summarise(idle)["p95_ms"]
    result = {
        "articles": len(corpus_ids),
        "corpus_articles_lost": len(lost),
        "corpus_articles_hidden": hidden,
        "corpus_articles_outranked_by_a_copy_of_their_story": outranked,
        "forged_copies": len(victims) * 3 + len(victims),
        "answers_quoting_a_planted_marker": quoting,
        "planted_questions": len(names),
        "asks_idle": summarise(idle),
        "asks_during_2mb_job": summarise(during_job),
        "asks_during_40_slow_feeds": summarise(during_feeds),
        "p95_ratio_during_job": round(summarise(during_job)["p95_ms"] / idle_p95, 2),
        "p95_ratio_during_feeds": round(summarise(during_feeds)["p95_ms"] / idle_p95, 2),
        "job": {"state": job_seconds["state"], "started_at": job_seconds["started_at"],
                "finished_at": job_seconds["finished_at"]},  # fmt: skip
        "feed_posts": {str(code): statuses.count(code) for code in sorted(set(statuses))},
        "readyz_after": ready,
    }
    write_result("adversarial", result)


if __name__ == "__main__":
    main()
