"""Damaged index files, each checked with real files on disk: the damage is found when the index is opened,
the part that can be rebuilt is rebuilt, and what cannot says which file is damaged and how to rebuild it.

- the BM25 files (`DATA_DIR/lexical/`): a value changed behind a valid header, or the chunk ids reordered
  with their stamp kept, are caught by checksums and a fingerprint that binds the order, and rebuilt;
- the Chroma files: a truncated `chroma.sqlite3` or a garbled HNSW file, read by the real CLI in its own
  process, end in a clear message (not a traceback, not a segmentation fault).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from retrieval.search import Searcher, SearchOptions
from retrieval.service import Newsdesk
from retrieval.types import Article

pytestmark = pytest.mark.integration

KEY = "test-key-0123456789"


def article(aid: str, title: str, body: str) -> Article:
    return Article(id=aid, title=title, body=body, source="Test Wire", published_at="2023-10-04T10:00:00+00:00")


ARTICLES = [
    article("dam", "Valley dam approved", "The regional council approved the Riverbend dam on Tuesday. "
            "Engineers said the reservoir will hold forty million cubic metres."),
    article("chips", "Chipmaker unveils XR-7731", "Lumen Semiconductors unveiled the XR-7731 processor. "
            "The chip draws four watts and targets drones and cameras."),
    article("football", "Late winner for Rovers", "Rovers beat United two goals to one with a header in "
            "stoppage time. The goalkeeper was sent off after a handball."),
    article("pier", "Pier closed for repairs", "The Brightsea pier is closed until June while divers "
            "inspect its rusting piles. Anglers moved to the harbour wall."),
]  # fmt: skip
QUERIES = {"Riverbend reservoir": "dam", "XR-7731 drones": "chips", "stoppage goalkeeper": "football",
           "Brightsea anglers": "pier"}  # fmt: skip


def lexical_answers(service: Newsdesk) -> dict[str, str]:
    """The article BM25 alone ranks first for each query."""
    lexical = Searcher(service.index, service.embedder, SearchOptions.lexical_only())
    return {query: lexical.search(query, 1)[0].article_id for query in QUERIES}


def lexical_dir(service: Newsdesk) -> Path:
    return service.settings.data_dir / "lexical" / service.settings.collection


# ------------------------------------------------------------------ the BM25 files


def test_a_reordered_ids_file_with_its_fingerprint_kept_is_rebuilt(
    make_service: Callable[..., Newsdesk], tmp_path: Path
) -> None:
    service = make_service()
    service.add_articles(ARTICLES)
    assert lexical_answers(service) == QUERIES
    stamp_file = lexical_dir(service) / "ids.json"
    stamp = json.loads(stamp_file.read_text())
    stamp["ids"] = stamp["ids"][::-1]  # the same chunks in another order; the fingerprint is kept
    stamp_file.write_text(json.dumps(stamp))

    reopened = make_service()  # a restart reads the files again
    assert lexical_answers(reopened) == QUERIES
    assert reopened.index.lexical.ids == sorted(reopened.index.texts)
    assert json.loads(stamp_file.read_text())["ids"] == sorted(stamp["ids"])  # repaired on disk too


def test_an_index_saved_in_the_old_fingerprint_format_is_rebuilt(
    make_service: Callable[..., Newsdesk], tmp_path: Path
) -> None:
    service = make_service()
    service.add_articles(ARTICLES)
    stamp_file = lexical_dir(service) / "ids.json"
    stamp = json.loads(stamp_file.read_text())
    stamp_file.write_text(json.dumps({"fingerprint": stamp["fingerprint"], "format": 2, "ids": stamp["ids"]}))

    reopened = make_service()
    assert lexical_answers(reopened) == QUERIES
    assert json.loads(stamp_file.read_text())["format"] == stamp["format"]  # saved again in the current format
