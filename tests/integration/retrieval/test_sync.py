"""Ingest is a sync: add, replace, skip, prune, deduplicate; bad input loses nothing."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from retrieval.service import Newsdesk
from tests.support.inside import chroma_count, chroma_documents, chroma_metadata, manifest, searchable_count

pytestmark = pytest.mark.integration


def write(folder: Path, name: str, title: str, body: str, **front: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    extra = "".join(f"{k}: {v}\n" for k, v in front.items())
    path = folder / name
    path.write_text(f"---\ntitle: {title}\n{extra}---\n{body}\n")
    return path


def chunk_state(service: Newsdesk) -> dict[str, str]:
    return {cid: doc for cid, (doc, _) in chroma_documents(service).items()}


def test_add_skip_update_prune(tmp_path: Path, make_service: Callable[..., Newsdesk]) -> None:
    corpus = tmp_path / "corpus"
    write(corpus, "a.md", "Port strike", "Dock workers in Rotterdam began a strike over pay on Monday.")
    write(corpus, "b.md", "Chip plant", "A new chip plant in Dresden will employ 2,000 people from 2025.")
    service = make_service()

    first = service.ingest([str(corpus)], prune=True)
    assert (len(first.added), len(first.skipped), first.failed) == (2, 0, [])

    again = service.ingest([str(corpus)], prune=True)
    assert (len(again.added), len(again.updated), len(again.skipped)) == (0, 0, 2)
    assert again.chunks_embedded == 0  # unchanged articles cost no embedding

    write(corpus, "a.md", "Port strike", "Dock workers in Rotterdam ended their strike after a pay deal on Friday.")
    changed = service.ingest([str(corpus)], prune=True)
    assert (len(changed.updated), len(changed.skipped)) == (1, 1)
    top = service.search("Rotterdam dock strike", k=3)
    assert "ended their strike" in top[0].text
    assert all("began a strike" not in p.text for p in top)  # the old version is gone

    (corpus / "b.md").unlink()
    unpruned = service.ingest([str(corpus)])
    assert unpruned.removed == []  # without --prune nothing is removed
    pruned = service.ingest([str(corpus)], prune=True)
    assert len(pruned.removed) == 1
    assert all("Dresden" not in p.text for p in service.search("chip plant Dresden", k=5))
    assert service.stats().articles == 1


def test_duplicates_are_indexed_once(tmp_path: Path, make_service: Callable[..., Newsdesk]) -> None:
    body = "The central bank raised interest rates by a quarter point on Wednesday."
    corpus = tmp_path / "corpus"
    write(corpus, "one.md", "Rates up", body, url="https://example.com/rates")
    write(corpus, "two.md", "Rates up (copy)", "  " + body.upper() + "  ")  # same normalised text
    write(corpus, "three.md", "Rates", "Another text entirely.", url="https://www.example.com/rates/")  # same url
    service = make_service()
    report = service.ingest([str(corpus)])
    assert len(report.added) == 1
    assert len(report.duplicates) == 2
    # a feed or file met again later is still a duplicate of what is indexed
    later = tmp_path / "later"
    write(later, "again.md", "Rates again", body)
    assert len(service.ingest([str(later)]).duplicates) == 1
    assert service.stats().articles == 1


def test_bad_files_lose_nothing(tmp_path: Path, make_service: Callable[..., Newsdesk]) -> None:
    corpus = tmp_path / "corpus"
    good = write(corpus, "good.md", "Good", "The harvest was the largest in a decade, farmers said.")
    other = write(corpus, "other.md", "Other", "Flooding closed three roads in the valley overnight.")
    service = make_service()
    service.ingest([str(corpus)], prune=True)
    before = chunk_state(service)

    other.write_bytes(b"---\ntitle: [broken\n---\nFlooding closed three roads.")  # now broken front matter
    (corpus / "binary.txt").write_bytes(b"\x00\x00\x00")
    (corpus / "latin.md").write_bytes("---\ntitle: x\n---\ncaf\xe9".encode("latin-1"))
    report = service.ingest([str(corpus)], prune=True)
    reasons = {Path(f.origin).name: f.reason for f in report.failed}
    assert set(reasons) == {"other.md", "binary.txt", "latin.md"}
    assert report.removed == []  # a file that fails to read keeps its indexed version
    assert chunk_state(service) == before
    assert good.exists()


def test_json_articles_and_index_invariants(tmp_path: Path, make_service: Callable[..., Newsdesk]) -> None:
    articles = [
        {"title": f"Story {i}", "body": f"Story {i} reports that town {i} opened a library with {i} books. " * 30,
         "url": f"https://news.example/{i}", "source": "Example News", "published_at": f"2023-10-{i + 1:02d}"}
        for i in range(12)
    ]  # fmt: skip
    path = tmp_path / "batch.json"
    path.write_text(json.dumps(articles))
    service = make_service(ingest_batch_articles=5)
    report = service.ingest([str(path)])
    assert len(report.added) == 12
    metadata = chroma_metadata(service)
    per_article = Counter(m["article_id"] for m in metadata.values())
    assert len(per_article) == 12 and min(per_article.values()) >= 2
    indexed_now = manifest(service)
    assert all(a.complete for a in indexed_now.articles.values())
    assert searchable_count(service) == len(metadata) == chroma_count(service)
